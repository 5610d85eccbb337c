"""Model calls are metered until a step carries their usage, so that a run
stopped in the middle of one is charged for it."""

import asyncio

import pytest

from agents.runtime.demo_model import DemoModel
from agents.runtime.demo_model.responses import count_input_tokens
from agents.runtime.executor import execute
from agents.runtime.metering import MeteredModel, UsageMeter, estimate_input_tokens
from agents.runtime.sdk import Model, ModelSettings, ModelTracing, sdk
from tests.agents.doubles import FixedProvider, ListRecorder
from tests.agents.test_executor import spec

QUESTION = "What is the capital of France and why is it famous?"


def stream(model: Model, text: str = QUESTION):
    return model.stream_response(
        "Be brief.",
        text,
        ModelSettings(),
        [],
        None,
        [],
        ModelTracing.DISABLED,
        previous_response_id=None,
        conversation_id=None,
        prompt=None,
    )


async def test_a_call_cut_short_is_estimated_from_its_request_and_its_words():
    meter = UsageMeter()
    model = MeteredModel(DemoModel(), "local/demo", meter)
    streamed = ""
    async for event in stream(model):
        if event.type == "response.output_text.delta":
            streamed += event.delta
            if len(streamed) > 5:
                break
    [call] = meter.unbilled()
    assert call == {
        "model": "local/demo",
        "input_tokens": count_input_tokens("Be brief.", QUESTION),
        "output_tokens": -(-len(streamed) // 4),
        "estimated": True,
    }
    assert meter.unbilled() == []  # each call once


async def test_a_completed_call_is_billed_as_reported_until_a_step_carries_it():
    meter = UsageMeter()
    model = MeteredModel(DemoModel(), "local/demo", meter)
    completed = None
    async for event in stream(model):
        if event.type == "response.completed":
            completed = event
    usage = completed.response.usage
    [call] = meter.unbilled()
    assert (call["input_tokens"], call["output_tokens"], call["estimated"]) == (
        usage.input_tokens,
        usage.output_tokens,
        False,
    )

    # Once a step carries it (the mapper claims it), it is not billed again.
    async for event in stream(model):
        if event.type == "response.completed":
            meter.claim(meter.call_for(event))
    assert meter.unbilled() == []


async def test_a_call_the_provider_failed_is_not_billed():
    class Failing(DemoModel):
        async def stream_response(self, *args, **kwargs):
            yield await anext(super().stream_response(*args, **kwargs))
            raise ConnectionError("the provider hung up")

    meter = UsageMeter()
    with pytest.raises(ConnectionError):
        async for _event in stream(MeteredModel(Failing(), "local/demo", meter)):
            pass
    assert meter.unbilled() == []


def test_a_provider_call_is_estimated_from_everything_it_is_sent():
    """Instructions, items and tool schemas, at four characters a token."""
    tool = sdk.FunctionTool(
        name="lookup",
        description="Look a word up.",
        params_json_schema={"type": "object", "properties": {"word": {}}},
        on_invoke_tool=None,
    )
    bare = estimate_input_tokens("Be brief.", QUESTION, [], None)
    assert bare == -(-(len("Be brief.") + len(QUESTION)) // 4)
    assert estimate_input_tokens("Be brief.", QUESTION, [tool], None) > bare


class CancelAfterDeltas(ListRecorder):
    """Asks to stop once ``count`` text deltas arrived."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    async def cancelled(self):
        return len(self.deltas) >= self.count


async def test_a_run_cancelled_while_the_model_writes_reports_the_call_unbilled():
    """The stream stops at once, no answer is saved, and the cut-short call
    is handed back to be charged."""
    recorder = CancelAfterDeltas(2)
    outcome = await execute(
        spec(QUESTION), recorder, FixedProvider(DemoModel(word_delay=0.01))
    )
    assert outcome.status == "cancelled"
    assert "agent-response" not in recorder.types
    [call] = outcome.unbilled
    assert call["estimated"] is True
    assert call["input_tokens"] > 0
    assert 0 < call["output_tokens"] < 20


async def test_a_completed_run_leaves_nothing_unbilled():
    recorder = ListRecorder()
    outcome = await execute(spec(QUESTION), recorder, FixedProvider(DemoModel()))
    assert outcome.status == "completed"
    assert outcome.unbilled == []
    assert sum(step.get("input_tokens", 0) for step in recorder.steps) > 0


async def test_a_run_that_times_out_charges_the_call_it_cut_short_on_its_error():
    class Endless(DemoModel):
        async def stream_response(self, *args, **kwargs):
            async for event in super().stream_response(*args, **kwargs):
                if event.type == "response.completed":
                    await asyncio.sleep(30)
                yield event

    recorder = ListRecorder()
    outcome = await execute(
        spec(QUESTION, options={"timeout": 0.3}), recorder, FixedProvider(Endless())
    )
    assert outcome.status == "failed"
    error = recorder.steps[-1]
    assert error["payload"]["kind"] == "timeout"
    assert error["payload"]["model"] == "local/demo"
    assert error["input_tokens"] > 0
    assert error["output_tokens"] > 0
