"""Agents run as tools (their steps nested in the timeline), fallback models,
and tool choices that name a tool by reference."""

import json

import pytest
from django.core.exceptions import ValidationError

from agents import services
from agents.models import RunStatus
from agents.runtime.executor import RunSpec, execute
from agents.runtime.providers import AgentryModelProvider
from agents.runtime.sdk import ModelProvider, Usage
from tests.agents.doubles import ListRecorder, definition
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory

# isort: split
from agents_sdk.testing import (
    ModelStep,
    ScriptedModel,
    assistant_message,
    function_call,
)


def arithmetic_helper() -> dict:
    return {
        "tool_name": "ask_arithmetic_helper_7",
        "description": "An arithmetic helper that adds and multiplies numbers.",
        "definition": definition(
            name="Arithmetic helper",
            description="Adds and multiplies numbers.",
            tools=["calculator"],
        ),
    }


async def test_an_agent_run_as_a_tool_has_its_steps_nested_under_the_call():
    spec = RunSpec(
        definition=definition(name="Boss", tools=["agent/7"]),
        input="Ask the arithmetic helper: what is 5 + 10?",
        agent_tools={"agent/7": arithmetic_helper()},
        retry_delay=0.0,
    )
    recorder = ListRecorder()
    outcome = await execute(spec, recorder, AgentryModelProvider())
    assert outcome.status == "completed", outcome.error
    top = [s for s in recorder.steps if not s["payload"].get("depth")]
    nested = [s for s in recorder.steps if s["payload"].get("depth") == 1]
    outer_call = next(s for s in top if s["type"] == "tool-call")
    assert outer_call["payload"]["name"] == "ask_arithmetic_helper_7"
    # Inside: the helper called the calculator and answered 15.
    inner_call = next(s for s in nested if s["type"] == "tool-call")
    assert inner_call["payload"]["name"] == "calculator"
    assert inner_call["payload"]["agent_tool"] == "Arithmetic helper"
    assert inner_call["payload"]["parent_call_id"] == outer_call["payload"]["call_id"]
    results = [s["payload"]["output"] for s in nested if s["type"] == "tool-result"]
    assert results == ["15"]
    # The helper's answer comes back to the boss as the tool's result.
    outer_result = next(s for s in top if s["type"] == "tool-result")
    assert "15" in str(outer_result["payload"]["output"])
    # Every nested step comes between the call and its result.
    order = recorder.steps.index
    assert order(outer_call) < min(order(s) for s in nested)
    assert max(order(s) for s in nested) < order(outer_result)


async def test_agents_calling_each_other_in_a_circle_stop_at_the_depth_limit():
    looping = definition(name="Loop", tools=["agent/1"])
    spec = RunSpec(
        definition=looping,
        input="Ask loop",
        agent_tools={
            "agent/1": {
                "tool_name": "ask_loop_1",
                "description": "",
                "definition": looping,
            }
        },
    )
    recorder = ListRecorder()
    outcome = await execute(spec, recorder, AgentryModelProvider())
    assert outcome.status == "failed"
    assert "more than 3 deep" in outcome.error
    assert recorder.steps[-1]["payload"]["kind"] == "tool_unavailable"


async def test_the_fallback_model_takes_over_and_the_timeline_says_so():
    spec = RunSpec(
        definition=definition(model="openai/gpt-4.1-mini", fallback_model="local/demo"),
        input="What is 2 + 2?",
        retry_delay=0.0,
    )
    recorder = ListRecorder()
    # No OpenAI key anywhere: the primary cannot be used.
    outcome = await execute(spec, recorder, AgentryModelProvider())
    assert outcome.status == "completed", outcome.error
    fallback = next(s for s in recorder.steps if s["type"] == "fallback")
    assert fallback["payload"]["from"] == "openai/gpt-4.1-mini"
    assert fallback["payload"]["to"] == "local/demo"
    assert "No OpenAI API key" in fallback["payload"]["reason"]
    assert recorder.types[-1] == "agent-response"
    assert "error" not in recorder.types


async def test_a_failing_fallback_fails_the_run_naming_both():
    spec = RunSpec(
        definition=definition(
            model="openai/gpt-4.1-mini", fallback_model="anthropic/claude-haiku-4-5"
        ),
        input="Hello",
    )
    recorder = ListRecorder()
    outcome = await execute(spec, recorder, AgentryModelProvider())
    assert outcome.status == "failed"
    assert "fallback model anthropic/claude-haiku-4-5 failed too" in outcome.error
    assert "No Anthropic API key" in outcome.error
    assert recorder.types == ["fallback", "error"]


async def test_a_tool_choice_by_reference_becomes_the_name_the_model_sees():
    spec = RunSpec(
        definition=definition(
            name="Boss",
            tools=["agent/7"],
            model_settings={"tool_choice": "agent/7"},
        ),
        input="Hello there",
        agent_tools={"agent/7": arithmetic_helper()},
    )
    recorder = ListRecorder()
    outcome = await execute(spec, recorder, AgentryModelProvider())
    assert outcome.status == "completed", outcome.error
    calls = [s for s in recorder.steps if s["type"] == "tool-call"]
    assert calls[0]["payload"]["name"] == "ask_arithmetic_helper_7"


@pytest.mark.django_db
def test_agents_as_tools_must_be_usable_and_must_not_form_a_circle():
    owner = UserFactory()
    first = make_agent(owner, name="First")
    second = make_agent(owner, name="Second", tools=[first.tool_reference])
    private_other = make_agent(name="Someone's private")
    public_other = make_agent(name="Shared helper", visibility="public")

    with pytest.raises(ValidationError) as caught:
        services.agent_update(
            agent=first, user=owner, data={"tools": [second.tool_reference]}
        )
    assert "circle (First → Second → First)" in caught.value.message_dict["tools"][0]
    first.refresh_from_db()
    assert first.tools == []
    assert first.version_number == 1

    with pytest.raises(ValidationError) as caught:
        services.agent_update(
            agent=first, user=owner, data={"tools": [first.tool_reference]}
        )
    assert "circle (First → First)" in caught.value.message_dict["tools"][0]

    with pytest.raises(ValidationError) as caught:
        services.agent_update(
            agent=first, user=owner, data={"tools": [private_other.tool_reference]}
        )
    assert "Unknown tool" in caught.value.message_dict["tools"][0]

    first = services.agent_update(
        agent=first, user=owner, data={"tools": [public_other.tool_reference]}
    )
    assert first.tools == [public_other.tool_reference]


@pytest.mark.django_db
def test_a_fallback_model_must_be_known_and_differ_from_the_model():
    owner = UserFactory()
    agent = make_agent(owner)
    for value, message in (
        ("local/demo", "must differ"),
        ("nobody/nothing", "Unknown model"),
        (7, "model identifier"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.agent_update(
                agent=agent, user=owner, data={"fallback_model": value}
            )
        assert message in caught.value.message_dict["fallback_model"][0]
    agent = services.agent_update(
        agent=agent, user=owner, data={"fallback_model": "openai/gpt-4.1-mini"}
    )
    assert agent.fallback_model == "openai/gpt-4.1-mini"
    assert agent.version_number == 2


@pytest.mark.django_db(transaction=True)
def test_a_run_shows_the_nested_agents_steps_in_its_saved_timeline():
    owner = UserFactory()
    helper = make_agent(
        owner,
        name="Arithmetic helper",
        description="Adds and multiplies numbers.",
        tools=["calculator"],
    )
    boss = make_agent(owner, name="Boss", tools=[helper.tool_reference])
    run = make_run(boss, input="Ask the arithmetic helper: what is 5 + 10?")
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    nested = list(run.steps.filter(payload__depth=1).order_by("order"))
    assert [s.type for s in nested if s.type.startswith("tool")] == [
        "tool-call",
        "tool-result",
    ]
    assert nested[0].payload["agent_tool"] == "Arithmetic helper"
    # Saved after the call that started them, before its result.
    outer = run.steps.filter(payload__depth__isnull=True)
    call = outer.get(type="tool-call")
    result = outer.get(type="tool-result")
    assert call.order < nested[0].order
    assert nested[-1].order < result.order
    assert {s.payload["parent_call_id"] for s in nested} == {call.payload["call_id"]}


@pytest.mark.django_db(transaction=True)
def test_the_demo_study_helper_falls_back_and_asks_the_tutor(settings):
    """The demo data's agent-as-tool and fallback example works with no key."""
    from django.core.management import call_command

    from agents.models import Agent

    settings.OPENAI_API_KEY = ""
    call_command("seed_demo")
    helper = Agent.objects.get(name="Study helper")
    tutor = Agent.objects.get(name="Arithmetic tutor")
    assert helper.tools == [tutor.tool_reference]
    run = make_run(helper, input="Ask the arithmetic tutor: what is 6 + 7?")
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    types = list(run.steps.order_by("order").values_list("type", flat=True))
    assert types[1] == "fallback"
    nested = run.steps.filter(payload__agent_tool="Arithmetic tutor")
    assert nested.filter(type="tool-call", payload__name="calculator").exists()
    assert "13" in str(run.final_output)


class _TwoModels(ModelProvider):
    """The boss and the helper it runs as a tool, each on its own script."""

    def __init__(self, boss: ScriptedModel, helper: ScriptedModel) -> None:
        self.models = {"boss/model": boss, "helper/model": helper}

    def get_model(self, name):
        return self.models[name]


def _boss_and_guarded_helper(helper_answer: str):
    spec = RunSpec(
        definition=definition(name="Boss", model="boss/model", tools=["agent/7"]),
        input="Ask the helper.",
        agent_tools={
            "agent/7": {
                "tool_name": "ask_helper_7",
                "description": "A helper.",
                "definition": definition(
                    name="Helper",
                    model="helper/model",
                    guardrails={"output": {"blocked_words": ["secret"]}},
                ),
            }
        },
        retry_delay=0.0,
    )
    boss = ScriptedModel(
        [
            [function_call("ask_helper_7", {"input": "Tell me."}, call_id="h1")],
            [assistant_message("Done.")],
        ]
    )
    helper = ScriptedModel(
        [
            ModelStep(
                output=[assistant_message(helper_answer)],
                usage=Usage(
                    requests=1, input_tokens=20, output_tokens=5, total_tokens=25
                ),
            )
        ]
    )
    return spec, _TwoModels(boss, helper)


async def test_an_agent_tools_blocked_answer_is_not_kept_and_its_guardrail_says_why():
    spec, provider = _boss_and_guarded_helper("The secret is 42")
    recorder = ListRecorder()
    outcome = await execute(spec, recorder, provider)
    assert outcome.status == "completed", outcome.error
    assert "The secret is 42" not in json.dumps(recorder.steps)
    nested = [s for s in recorder.steps if s["payload"].get("depth") == 1]
    assert [s["type"] for s in nested] == ["guardrail"]
    assert nested[0]["payload"]["reason"] == "It contains 'secret'."
    assert (nested[0]["input_tokens"], nested[0]["output_tokens"]) == (20, 5)
    result = next(s for s in recorder.steps if s["type"] == "tool-result")
    assert "blocked its answer" in result["payload"]["output"]
    assert recorder.steps.index(nested[0]) < recorder.steps.index(result)


async def test_an_agent_tools_allowed_answer_is_kept_before_its_result():
    spec, provider = _boss_and_guarded_helper("The answer is 42")
    recorder = ListRecorder()
    outcome = await execute(spec, recorder, provider)
    assert outcome.status == "completed", outcome.error
    answer = next(
        s
        for s in recorder.steps
        if s["type"] == "agent-response" and s["payload"].get("depth") == 1
    )
    assert answer["payload"]["text"] == "The answer is 42"
    result = next(s for s in recorder.steps if s["type"] == "tool-result")
    assert recorder.steps.index(answer) < recorder.steps.index(result)
    assert "The answer is 42" in str(result["payload"]["output"])
