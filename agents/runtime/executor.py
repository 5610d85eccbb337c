"""Running one agent version on the SDK and turning its stream into steps.

Django-free: the caller hands in a ``Recorder`` that saves steps and pushes
live text, and gets back an ``Outcome`` to store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import openai

from agents.runtime.guardrails import DECISION_SCHEMA, build_guardrails
from agents.runtime.output import JsonSchemaOutput
from agents.runtime.providers import ModelUnavailableError
from agents.runtime.sdk import (
    Agent,
    InputGuardrailTripwireTriggered,
    MaxTurnsExceeded,
    ModelProvider,
    ModelSettings,
    OutputGuardrailTripwireTriggered,
    RunConfig,
    Runner,
    sdk,
)
from agents.runtime.webhook_tools import webhook_tool

logger = logging.getLogger(__name__)

# How often a running run looks for a cancellation, in seconds.
CANCEL_POLL_INTERVAL = 0.5
RETRYABLE_STATUSES = (408, 409, 429, 500, 502, 503, 504)


class Recorder(Protocol):
    async def step(
        self,
        type: str,
        payload: dict,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        latency_ms: int | None = None,
    ) -> None: ...

    async def delta(self, text: str) -> None: ...

    async def cancelled(self) -> bool: ...


@dataclass
class RunSpec:
    definition: dict
    # The text, or a conversation's items ending with the new message.
    input: str | list[dict]
    max_turns: int = 10
    timeout: float = 300.0
    retries: int = 3
    retry_delay: float = 1.0
    # Definitions of guard agents, by agent id, loaded by the caller.
    guard_definitions: dict[int, dict] = field(default_factory=dict)
    # The owner's custom tools by reference (custom/<id>), secrets decrypted.
    custom_tools: dict[str, dict] = field(default_factory=dict)
    # Built-in tools staff switched off: never offered to the model.
    disabled_tools: set[str] = field(default_factory=set)


class ToolUnavailableError(Exception):
    """A tool the agent lists cannot be used; the message says what to do."""


@dataclass
class Outcome:
    status: str  # completed, failed or cancelled
    final_output: Any = None
    error: str = ""
    usage: dict = field(default_factory=dict)


def retry_settings(retries: int, delay: float):
    """The SDK's runner-managed retries: rate limits, server errors, networks."""
    policies = sdk.retry_policies
    return sdk.ModelRetrySettings(
        max_retries=retries,
        backoff={"initial_delay": delay, "multiplier": 2.0, "max_delay": 30.0},
        policy=policies.any(
            policies.provider_suggested(),
            policies.network_error(),
            policies.http_status(RETRYABLE_STATUSES),
        ),
    )


def build_agent(
    definition: dict,
    *,
    spec: RunSpec,
    provider: ModelProvider,
    output_type: dict | None = None,
    with_guardrails: bool = True,
) -> Agent:
    settings = dict(definition.get("model_settings") or {})
    max_tokens = settings.pop("max_output_tokens", None)
    schema = output_type if output_type is not None else definition.get("output_type")
    input_guardrails, output_guardrails = [], []
    if with_guardrails:
        guardrails = definition.get("guardrails") or {}
        input_guardrails, output_guardrails = build_guardrails(
            guardrails,
            input_guard=_guard_runner(
                (guardrails.get("input") or {}).get("guard_agent"), spec, provider
            ),
            output_guard=_guard_runner(
                (guardrails.get("output") or {}).get("guard_agent"), spec, provider
            ),
        )
    return Agent(
        name=definition["name"],
        instructions=definition.get("instructions") or None,
        model=definition.get("model") or "local/demo",
        model_settings=ModelSettings(
            max_tokens=max_tokens,
            retry=retry_settings(spec.retries, spec.retry_delay),
            **settings,
        ),
        tools=[
            _sdk_tool(name, definition, spec)
            for name in definition.get("tools", [])
            if name not in spec.disabled_tools
        ],
        output_type=JsonSchemaOutput(schema) if schema else None,
        input_guardrails=input_guardrails,
        output_guardrails=output_guardrails,
    )


def _sdk_tool(name: str, definition: dict, spec: RunSpec):
    from agents.tools import get_tool

    if name.startswith("custom/"):
        custom = spec.custom_tools.get(name)
        if custom is None:
            raise ToolUnavailableError(
                f"The agent lists the custom tool {name}, which no longer exists. "
                "Edit the agent's tools and run it again."
            )
        return webhook_tool(custom)
    return get_tool(name).as_sdk_tool((definition.get("tool_options") or {}).get(name))


def _guard_runner(agent_id: int | None, spec: RunSpec, provider: ModelProvider):
    if not agent_id:
        return None

    async def run_guard(text: str) -> dict:
        definition = spec.guard_definitions.get(agent_id)
        if definition is None:
            return {"decision": "deny", "reason": "The guard agent no longer exists."}
        guard = build_agent(
            definition,
            spec=spec,
            provider=provider,
            output_type=DECISION_SCHEMA,
            with_guardrails=False,
        )
        result = await Runner.run(
            guard,
            text,
            max_turns=spec.max_turns,
            run_config=RunConfig(model_provider=provider, tracing_disabled=True),
        )
        return result.final_output

    return run_guard


def usage_dict(usage) -> dict:
    return {
        "requests": usage.requests,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }


def provider_error_message(error: Exception, retries: int) -> str | None:
    """A sentence a person can act on, for errors that come from the provider."""
    tries = f"after {retries + 1} attempts" if retries else "on the only attempt"
    if isinstance(error, openai.AuthenticationError):
        return (
            "The model provider rejected the API key (401). Check the key in "
            "your settings."
        )
    if isinstance(error, openai.RateLimitError):
        return (
            f"The model provider is rate-limiting requests (429) {tries}. Wait a "
            "minute and run again, or check your plan's limits."
        )
    if isinstance(error, openai.APITimeoutError):
        return f"The model provider did not answer in time {tries}. Try again later."
    if isinstance(error, openai.APIConnectionError):
        return f"Could not reach the model provider {tries}. Try again later."
    if isinstance(error, openai.APIStatusError):
        if error.status_code >= 500:
            return (
                f"The model provider had a server error ({error.status_code}) "
                f"{tries}. Try again later."
            )
        return (
            f"The model provider refused the request ({error.status_code}): "
            f"{error.message}"
        )
    return None


class StepMapper:
    """Turns SDK stream events into steps, carrying tokens and latency."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.turn_started = time.monotonic()
        self.pending_tokens = (0, 0)
        self.pending_latency: int | None = None
        self.tool_names: dict[str, str] = {}
        self.tool_started: dict[str, float] = {}

    def _take_turn_costs(self) -> dict:
        input_tokens, output_tokens = self.pending_tokens
        costs = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "latency_ms": self.pending_latency,
        }
        # Only the first step of a model turn carries the turn's cost.
        self.pending_tokens, self.pending_latency = (0, 0), None
        return costs

    async def handle(self, event) -> None:
        if event.type == "raw_response_event":
            await self._raw(event.data)
        elif event.type == "run_item_stream_event":
            await self._item(event.name, event.item)

    async def _raw(self, data) -> None:
        kind = getattr(data, "type", "")
        if kind == "response.created":
            self.turn_started = time.monotonic()
        elif kind == "response.output_text.delta":
            await self.recorder.delta(data.delta)
        elif kind == "response.completed":
            usage = getattr(data.response, "usage", None)
            if usage is not None:
                self.pending_tokens = (usage.input_tokens, usage.output_tokens)
            self.pending_latency = int((time.monotonic() - self.turn_started) * 1000)

    async def _item(self, name: str, item) -> None:
        raw = item.raw_item
        if name == "reasoning_item_created":
            text = " ".join(part.text for part in (raw.summary or []))
            await self.recorder.step(
                "agent-thought", {"text": text}, **self._take_turn_costs()
            )
        elif name == "tool_called":
            call_id = getattr(raw, "call_id", "") or ""
            tool_name = getattr(raw, "name", "") or ""
            self.tool_names[call_id] = tool_name
            self.tool_started[call_id] = time.monotonic()
            await self.recorder.step(
                "tool-call",
                {
                    "call_id": call_id,
                    "name": tool_name,
                    "arguments": _parse_json(getattr(raw, "arguments", "")),
                },
                **self._take_turn_costs(),
            )
        elif name == "tool_output":
            call_id = raw.get("call_id", "") if isinstance(raw, dict) else ""
            started = self.tool_started.pop(call_id, None)
            await self.recorder.step(
                "tool-result",
                {
                    "call_id": call_id,
                    "name": self.tool_names.get(call_id, ""),
                    "output": _jsonable(item.output),
                },
                latency_ms=(
                    int((time.monotonic() - started) * 1000) if started else None
                ),
            )
        elif name == "handoff_occured":
            await self.recorder.step(
                "handoff",
                {"from": item.source_agent.name, "to": item.target_agent.name},
                **self._take_turn_costs(),
            )
        elif name == "message_output_created":
            text = sdk.ItemHelpers.text_message_output(item)
            await self.recorder.step(
                "agent-response",
                {"agent": item.agent.name, "text": text},
                **self._take_turn_costs(),
            )


def _parse_json(text: str):
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError:
        return text


def _jsonable(value):
    try:
        json.dumps(value)
    except TypeError:
        return str(value)
    return value


async def execute(
    spec: RunSpec, recorder: Recorder, provider: ModelProvider
) -> Outcome:
    """Run ``spec`` to the end; never raises for the run's own failures."""
    mapper = StepMapper(recorder)
    result = None
    cancelled = False

    async def watch_for_cancel() -> None:
        nonlocal cancelled
        while True:
            await asyncio.sleep(CANCEL_POLL_INTERVAL)
            if await recorder.cancelled():
                cancelled = True
                if result is not None:
                    result.cancel()
                return

    watcher = asyncio.create_task(watch_for_cancel())
    try:
        agent = build_agent(spec.definition, spec=spec, provider=provider)
        result = Runner.run_streamed(
            agent,
            spec.input,
            max_turns=spec.max_turns,
            run_config=RunConfig(model_provider=provider, tracing_disabled=True),
        )
        async with asyncio.timeout(spec.timeout):
            async for event in result.stream_events():
                await mapper.handle(event)
        if cancelled:
            return Outcome("cancelled", usage=usage_dict(result.context_wrapper.usage))
        final_output = result.final_output
        return Outcome(
            "completed",
            final_output=_jsonable(final_output),
            usage=usage_dict(result.context_wrapper.usage),
        )
    except InputGuardrailTripwireTriggered as tripped:
        return await _guardrail_tripped(recorder, "input", tripped, result)
    except OutputGuardrailTripwireTriggered as tripped:
        return await _guardrail_tripped(recorder, "output", tripped, result)
    except TimeoutError:
        if result is not None:
            result.cancel()
        message = (
            f"The run took longer than {spec.timeout:g} seconds and was stopped. "
            "Simplify the task or raise the time limit."
        )
        return await _failed(recorder, "timeout", message, result)
    except MaxTurnsExceeded:
        message = (
            f"The agent used all {spec.max_turns} turns without finishing. "
            "Make the task simpler or raise the turn limit."
        )
        return await _failed(recorder, "max_turns", message, result)
    except ModelUnavailableError as error:
        return await _failed(recorder, "model_unavailable", str(error), result)
    except ToolUnavailableError as error:
        return await _failed(recorder, "tool_unavailable", str(error), result)
    except sdk.ModelBehaviorError as error:
        return await _failed(recorder, "model_behavior", str(error), result)
    except Exception as error:
        message = provider_error_message(error, spec.retries)
        if message is not None:
            return await _failed(recorder, "provider", message, result)
        logger.exception("Run failed unexpectedly")
        message = f"Unexpected error ({type(error).__name__}): {error}"
        return await _failed(recorder, "internal", message, result)
    finally:
        watcher.cancel()


async def _failed(recorder: Recorder, kind: str, message: str, result) -> Outcome:
    await recorder.step("error", {"kind": kind, "message": message})
    return Outcome("failed", error=message, usage=_usage_of(result))


async def _guardrail_tripped(
    recorder: Recorder, stage: str, tripped, result
) -> Outcome:
    guardrail_result = tripped.guardrail_result
    info = guardrail_result.output.output_info or {}
    rule = info.get("rule", "")
    reason = info.get("reason", "")
    await recorder.step(
        "guardrail",
        {"stage": stage, "rule": rule, "reason": reason, "tripped": True},
    )
    message = (
        f"The {stage} guardrail ({rule.replace('_', ' ')}) stopped the run: {reason}"
    )
    return Outcome("failed", error=message, usage=_usage_of(result))


def _usage_of(result) -> dict:
    if result is None:
        return {}
    return usage_dict(result.context_wrapper.usage)
