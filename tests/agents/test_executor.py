"""The runtime's executor: SDK stream events become steps, failures become reasons.

Scripted models (the SDK's ScriptedModel) give exact turns; the only HTTP test
fakes OpenAI's server at the transport, the edge of the machine.
"""

import asyncio
import json

import httpx2 as httpx
import openai
from openai.types.responses import ResponseReasoningItem
from openai.types.responses.response_reasoning_item import Summary

from agents.runtime.executor import RunSpec, StepMapper, execute
from agents.runtime.providers import AgentryModelProvider, Credentials
from agents.runtime.sdk import Agent, ModelProvider, RunConfig, Runner, Usage
from tests.agents.doubles import FixedProvider, ListRecorder, definition
from tests.agents.fake_llm import FakeLLM, fail

# isort: split
from agents_sdk.testing import (
    ModelStep,
    ScriptedModel,
    assistant_message,
    function_call,
)

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "number"}},
    "required": ["answer"],
}


def spec(text="What is 5 + 10?", **kwargs) -> RunSpec:
    options = {"retry_delay": 0.0, "retries": 2}
    options.update(kwargs.pop("options", {}))
    return RunSpec(definition=definition(**kwargs), input=text, **options)


def thought(text: str) -> ResponseReasoningItem:
    return ResponseReasoningItem(
        id="rs_1", type="reasoning", summary=[Summary(text=text, type="summary_text")]
    )


def rate_limit_error() -> openai.RateLimitError:
    request = httpx.Request("POST", "https://api.openai.com/v1/responses")
    return openai.RateLimitError(
        "Rate limit reached", response=httpx.Response(429, request=request), body=None
    )


async def test_a_tool_run_records_thought_call_result_and_response_in_order():
    """Each kind of SDK item becomes its step, with the turn's tokens on it."""
    model = ScriptedModel(
        [
            ModelStep(
                output=[
                    thought("Add them with the calculator."),
                    function_call(
                        "calculator",
                        {"operation": "add", "a": 5, "b": 10, "expression": None},
                        call_id="c1",
                    ),
                ],
                usage=Usage(
                    requests=1, input_tokens=30, output_tokens=12, total_tokens=42
                ),
            ),
            ModelStep(
                output=[assistant_message("5 + 10 = 15")],
                usage=Usage(
                    requests=1, input_tokens=50, output_tokens=6, total_tokens=56
                ),
            ),
        ]
    )
    recorder = ListRecorder()
    outcome = await execute(spec(tools=["calculator"]), recorder, FixedProvider(model))

    assert outcome.status == "completed", outcome.error
    assert outcome.final_output == "5 + 10 = 15"
    assert recorder.types == [
        "agent-thought",
        "tool-call",
        "tool-result",
        "agent-response",
    ]
    thought_step, call, result, response = recorder.steps
    assert thought_step["payload"]["text"] == "Add them with the calculator."
    assert thought_step["input_tokens"] == 30
    assert thought_step["output_tokens"] == 12
    assert call["payload"]["name"] == "calculator"
    assert call["payload"]["arguments"]["a"] == 5
    assert result["payload"] == {"call_id": "c1", "name": "calculator", "output": "15"}
    assert result["latency_ms"] is not None
    assert response["payload"]["text"] == "5 + 10 = 15"
    assert response["input_tokens"] == 50
    assert outcome.usage["total_tokens"] == 98
    assert "".join(recorder.deltas) == "5 + 10 = 15"


async def test_a_handoff_becomes_a_handoff_step_naming_both_agents():
    """The mapper records who handed off to whom (workflows will build on it)."""
    billing = Agent(
        name="Billing",
        model=ScriptedModel([[assistant_message("Your invoice is paid.")]]),
    )
    triage = Agent(
        name="Triage",
        handoffs=[billing],
        model=ScriptedModel([[function_call("transfer_to_billing", {}, call_id="h1")]]),
    )
    recorder = ListRecorder()
    result = Runner.run_streamed(triage, "my invoice", run_config=RunConfig())
    mapper = StepMapper(recorder)
    async for event in result.stream_events():
        await mapper.handle(event)

    assert recorder.types == ["handoff", "agent-response"]
    assert recorder.steps[0]["payload"] == {"from": "Triage", "to": "Billing"}
    assert recorder.steps[1]["payload"]["agent"] == "Billing"


async def test_an_output_type_is_validated_and_returned_as_an_object():
    model = ScriptedModel([[assistant_message('{"answer": 45}')]])
    outcome = await execute(
        spec(output_type=SCHEMA), ListRecorder(), FixedProvider(model)
    )
    assert outcome.status == "completed"
    assert outcome.final_output == {"answer": 45}


async def test_an_answer_that_breaks_the_output_type_fails_the_run_with_the_reason():
    model = ScriptedModel([[assistant_message('{"answer": "many"}')]])
    recorder = ListRecorder()
    outcome = await execute(spec(output_type=SCHEMA), recorder, FixedProvider(model))
    assert outcome.status == "failed"
    assert "does not match the output type" in outcome.error
    assert recorder.types[-1] == "error"
    assert recorder.steps[-1]["payload"]["kind"] == "model_behavior"


async def test_a_blocked_word_trips_the_input_guardrail_before_the_model_is_called():
    model = ScriptedModel([[assistant_message("never said")]])
    recorder = ListRecorder()
    outcome = await execute(
        spec(
            "Tell me a SECRET please",
            guardrails={"input": {"blocked_words": ["secret"]}},
        ),
        recorder,
        FixedProvider(model),
    )
    assert outcome.status == "failed"
    assert recorder.types == ["guardrail"]
    payload = recorder.steps[0]["payload"]
    assert payload["stage"] == "input"
    assert payload["rule"] == "blocked_words"
    assert "secret" in payload["reason"]
    assert "input guardrail" in outcome.error
    assert model.calls == ()


async def test_a_pattern_and_a_length_limit_trip_the_input_guardrail():
    for guard, text, rule in [
        ({"blocked_patterns": [r"\d{4}-\d{4}"]}, "card 1234-5678", "blocked_patterns"),
        ({"max_length": 5}, "far too long", "max_length"),
    ]:
        recorder = ListRecorder()
        outcome = await execute(
            spec(text, guardrails={"input": guard}),
            recorder,
            FixedProvider(ScriptedModel([[assistant_message("no")]])),
        )
        assert outcome.status == "failed"
        assert recorder.steps[0]["payload"]["rule"] == rule


async def test_an_input_that_breaks_no_rule_passes_the_guardrail():
    recorder = ListRecorder()
    outcome = await execute(
        spec("hello there", guardrails={"input": {"blocked_words": ["secret"]}}),
        recorder,
        FixedProvider(ScriptedModel([[assistant_message("Hi!")]])),
    )
    assert outcome.status == "completed"
    assert "guardrail" not in recorder.types


async def test_the_output_guardrail_stops_a_forbidden_answer_without_keeping_it():
    """The SDK reports the answer before it checks it: the answer waits, and
    when the guardrail trips only the guardrail's step is saved, carrying the
    reason and what the model's turn cost; the text is neither saved nor
    streamed."""
    recorder = ListRecorder()
    outcome = await execute(
        spec(guardrails={"output": {"blocked_words": ["password"]}}),
        recorder,
        FixedProvider(
            ScriptedModel(
                [
                    ModelStep(
                        output=[assistant_message("The password is hunter2")],
                        usage=Usage(
                            requests=1,
                            input_tokens=40,
                            output_tokens=7,
                            total_tokens=47,
                        ),
                    )
                ]
            )
        ),
    )
    assert outcome.status == "failed"
    assert outcome.error_code == "guardrail_blocked"
    assert outcome.final_output is None
    assert outcome.error.startswith("Blocked by the output guardrail")
    assert recorder.types == ["guardrail"]
    guardrail = recorder.steps[0]
    assert guardrail["payload"] == {
        "stage": "output",
        "rule": "blocked_words",
        "reason": "It contains 'password'.",
        "tripped": True,
    }
    assert (guardrail["input_tokens"], guardrail["output_tokens"]) == (40, 7)
    assert "hunter2" not in json.dumps(recorder.steps) + "".join(recorder.deltas)


async def test_an_answer_the_output_guardrail_allows_is_saved_once_checked():
    """Answers before the final one (here, before a tool call) are saved in
    their place; the final one after the check, with its turn's tokens."""
    model = ScriptedModel(
        [
            [
                assistant_message("Let me add them."),
                function_call(
                    "calculator",
                    {"operation": "add", "a": 5, "b": 10, "expression": None},
                    call_id="c1",
                ),
            ],
            ModelStep(
                output=[assistant_message("5 + 10 = 15")],
                usage=Usage(
                    requests=1, input_tokens=50, output_tokens=6, total_tokens=56
                ),
            ),
        ]
    )
    recorder = ListRecorder()
    outcome = await execute(
        spec(
            tools=["calculator"],
            guardrails={"output": {"blocked_words": ["password"]}},
        ),
        recorder,
        FixedProvider(model),
    )
    assert outcome.status == "completed"
    assert outcome.error_code == ""
    assert recorder.types == [
        "agent-response",
        "tool-call",
        "tool-result",
        "agent-response",
    ]
    assert recorder.steps[0]["payload"]["text"] == "Let me add them."
    final = recorder.steps[-1]
    assert final["payload"]["text"] == "5 + 10 = 15"
    assert (final["input_tokens"], final["output_tokens"]) == (50, 6)
    # Not streamed live: it could have been blocked.
    assert recorder.deltas == []


async def test_an_agent_without_output_guardrails_streams_its_answer():
    recorder = ListRecorder()
    await execute(
        spec(),
        recorder,
        FixedProvider(ScriptedModel([[assistant_message("Hello there")]])),
    )
    assert "".join(recorder.deltas) == "Hello there"


async def test_a_guard_agent_that_denies_stops_the_run_with_its_reason():
    """The guard agent answers allow/deny as JSON; deny trips the guardrail."""
    guard_model = ScriptedModel(
        [[assistant_message('{"decision": "deny", "reason": "Off topic."}')]]
    )
    main_model = ScriptedModel([[assistant_message("unreached")]])

    class Provider(ModelProvider):
        def get_model(self, name):
            return guard_model if name == "guard/model" else main_model

    run_spec = spec("talk about football", guardrails={"input": {"guard_agent": 7}})
    run_spec.guard_definitions = {7: definition(name="Guard", model="guard/model")}
    recorder = ListRecorder()
    outcome = await execute(run_spec, recorder, Provider())
    assert outcome.status == "failed"
    assert recorder.steps[0]["payload"]["rule"] == "guard_agent"
    assert recorder.steps[0]["payload"]["reason"] == "Off topic."
    assert main_model.calls == ()


async def test_a_run_that_overruns_its_time_limit_fails_with_that_reason():
    async def slow(call):
        await asyncio.sleep(5)
        return [assistant_message("late")]

    recorder = ListRecorder()
    outcome = await execute(
        spec(options={"timeout": 0.2}),
        recorder,
        FixedProvider(ScriptedModel([ModelStep.respond(slow)])),
    )
    assert outcome.status == "failed"
    assert "longer than 0.2 seconds" in outcome.error
    assert recorder.steps[-1]["payload"]["kind"] == "timeout"


async def test_a_run_that_uses_up_its_turns_fails_with_that_reason():
    calls = [
        [function_call("current_time", {"timezone": "UTC"}, call_id=f"t{n}")]
        for n in range(5)
    ]
    recorder = ListRecorder()
    outcome = await execute(
        spec(tools=["current_time"], options={"max_turns": 2}),
        recorder,
        FixedProvider(ScriptedModel(calls)),
    )
    assert outcome.status == "failed"
    assert "all 2 turns" in outcome.error
    assert recorder.steps[-1]["payload"]["kind"] == "max_turns"


async def test_rate_limits_are_retried_and_the_run_then_succeeds():
    model = ScriptedModel(
        [rate_limit_error(), rate_limit_error(), [assistant_message("done")]]
    )
    outcome = await execute(spec(), ListRecorder(), FixedProvider(model))
    assert outcome.status == "completed", outcome.error
    assert len(model.calls) == 3


async def test_a_provider_that_keeps_failing_ends_the_run_with_an_actionable_message():
    """OpenAI's Responses API on the local fake server, through the real client."""
    with FakeLLM() as fake:
        fake.script = [fail(429, "Rate limit reached")] * 3
        recorder = ListRecorder()
        outcome = await execute(
            spec(model="openai/gpt-4.1-mini", options={"retries": 2}),
            recorder,
            AgentryModelProvider(
                {
                    "openai": Credentials(
                        api_key="sk-test", base_url=fake.openai_base_url
                    )
                }
            ),
        )
        assert [r["path"] for r in fake.model_requests] == ["/v1/responses"] * 3
    assert outcome.status == "failed"
    assert "rate-limiting requests (429) after 3 attempts" in outcome.error
    assert recorder.steps[-1]["payload"]["kind"] == "provider"


async def test_an_openai_model_without_a_key_fails_saying_how_to_fix_it():
    recorder = ListRecorder()
    outcome = await execute(
        spec(model="openai/gpt-4.1-mini"), recorder, AgentryModelProvider()
    )
    assert outcome.status == "failed"
    assert "No OpenAI API key" in outcome.error
    assert "local/demo" in outcome.error


async def test_a_cancelled_run_stops_and_reports_cancelled():
    async def slow(call):
        await asyncio.sleep(3)
        return [assistant_message("late")]

    recorder = ListRecorder(cancel_after_steps=0)
    outcome = await execute(
        spec(), recorder, FixedProvider(ScriptedModel([ModelStep.respond(slow)]))
    )
    assert outcome.status == "cancelled"
    assert "agent-response" not in recorder.types


async def test_the_demo_model_answers_the_calculator_question_with_45():
    """End to end on the real demo model: two calculator calls, then 45."""
    recorder = ListRecorder()
    outcome = await execute(
        spec(
            "What is 5 + 10, then multiply by 3?",
            tools=["calculator"],
            output_type=SCHEMA,
        ),
        recorder,
        AgentryModelProvider(),
    )
    assert outcome.status == "completed", outcome.error
    assert outcome.final_output["answer"] == 45
    calls = [s["payload"] for s in recorder.steps if s["type"] == "tool-call"]
    assert [(c["arguments"]["operation"], c["arguments"]["a"]) for c in calls] == [
        ("add", 5),
        ("multiply", 15),
    ]
    assert recorder.types.count("agent-thought") == 2
    assert json.loads(recorder.steps[-1]["payload"]["text"]) == {"answer": 45}


class _Completed:
    """A `response.completed` raw event with its usage."""

    type = "response.completed"

    def __init__(self, input_tokens: int, output_tokens: int):
        self.response = type(
            "Response",
            (),
            {"usage": Usage(input_tokens=input_tokens, output_tokens=output_tokens)},
        )()


async def test_a_blocked_turn_whose_answer_was_never_read_still_carries_its_tokens():
    """A tripwire raises out of the SDK's stream with events still queued: the
    turn's completion was read, its answer was not, so nothing is held; the
    dropped turn's tokens go to the guardrail's step all the same."""
    mapper = StepMapper(ListRecorder(), hold_answers=True)
    await mapper.handle(
        type("Event", (), {"type": "raw_response_event", "data": _Completed(12, 7)})()
    )

    assert mapper.drop_held() == {"input_tokens": 12, "output_tokens": 7}
    assert mapper.drop_held() == {"input_tokens": 0, "output_tokens": 0}


def test_model_responses_the_mapper_never_read_are_counted_once():
    """Responses the mapper handled are on steps already; the ones after them
    (dropped with the stream) are what is left to carry."""
    mapper = StepMapper(ListRecorder())
    mapper.responses_seen = 1
    result = type(
        "Result",
        (),
        {
            "raw_responses": [
                type("R", (), {"usage": Usage(input_tokens=5, output_tokens=5)})(),
                type("R", (), {"usage": Usage(input_tokens=30, output_tokens=9)})(),
            ]
        },
    )()

    assert mapper.unseen_costs(result) == {"input_tokens": 30, "output_tokens": 9}
    assert mapper.unseen_costs(None) == {"input_tokens": 0, "output_tokens": 0}
