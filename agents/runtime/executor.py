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
from agents.runtime.metering import MeteredProvider, UsageMeter
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

# How often a running run looks for a cancellation while nothing streams, in
# seconds (between stream events the recorder is asked too).
CANCEL_POLL_INTERVAL = 0.2
RETRYABLE_STATUSES = (408, 409, 429, 500, 502, 503, 504)
AGENT_TOOL_PREFIX = "agent/"
# How deep agents may call agents as tools (a cycle stops here at the latest).
MAX_AGENT_TOOL_DEPTH = 3


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

    async def cancelled(self) -> bool:
        """Whether to stop: cheap enough to ask between stream events."""
        ...


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
    # Agents used as tools, by reference (agent/<id>): tool name, description
    # and the definition of their latest version, loaded by the caller.
    agent_tools: dict[str, dict] = field(default_factory=dict)
    # The run's agent, and the handoffs reachable from it (workflows app):
    # {agent id: [{"target", "description", "input_filter"}]}, and the
    # definitions of the targets' latest versions by agent id.
    agent_id: int | None = None
    handoffs: dict[int, list[dict]] = field(default_factory=dict)
    handoff_definitions: dict[int, dict] = field(default_factory=dict)


# file_search's scope, set on a definition by the caller (run_spec_for).
FILE_SEARCH = "file_search"
FILE_SCOPE_KEY = "_file_scope"


class ToolUnavailableError(Exception):
    """A tool the agent lists cannot be used; the message says what to do."""


# Outcome.error_code of a run a guardrail stopped (either stage).
GUARDRAIL_BLOCKED = "guardrail_blocked"


@dataclass
class Outcome:
    status: str  # completed, failed or cancelled
    final_output: Any = None
    error: str = ""
    # Why it failed, for programs: an error step's kind, or GUARDRAIL_BLOCKED.
    error_code: str = ""
    usage: dict = field(default_factory=dict)
    # A stopped run's model calls that no saved step carries (cut short, or
    # completed just before the stop): [{model, input_tokens, output_tokens,
    # estimated}]. Consumed all the same, so the caller charges them.
    unbilled: list[dict] = field(default_factory=list)


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
    recorder: Recorder | None = None,
    depth: int = 0,
    calls: CallLog | None = None,
) -> Agent:
    """The SDK agent for ``definition``; ``recorder`` receives the steps of
    agents it runs as tools, nested ``depth + 1`` deep."""
    settings = dict(definition.get("model_settings") or {})
    max_tokens = settings.pop("max_output_tokens", None)
    if "tool_choice" in settings:
        settings["tool_choice"] = _sdk_tool_choice(settings["tool_choice"], spec)
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
    tools = []
    for name in definition.get("tools", []):
        if name in spec.disabled_tools:
            continue
        if name.startswith(AGENT_TOOL_PREFIX):
            tools.append(_agent_tool(name, spec, provider, recorder, depth, calls))
        else:
            tools.append(_sdk_tool(name, definition, spec))
    return Agent(
        name=definition["name"],
        instructions=definition.get("instructions") or None,
        model=definition.get("model") or "local/demo",
        model_settings=ModelSettings(
            max_tokens=max_tokens,
            # Token counts price every run; Chat Completions servers other
            # than OpenAI's send them when streaming only if asked.
            include_usage=True,
            retry=retry_settings(spec.retries, spec.retry_delay),
            **settings,
        ),
        tools=tools,
        output_type=JsonSchemaOutput(schema) if schema else None,
        input_guardrails=input_guardrails,
        output_guardrails=output_guardrails,
    )


def wire_handoffs(
    root: Agent,
    *,
    spec: RunSpec,
    provider: ModelProvider,
    recorder: Recorder | None = None,
    calls: CallLog | None = None,
) -> None:
    """Give the run's agent, and each agent it may hand off to, their SDK
    handoffs. Agents are built once each, so handoffs may go back and forth."""
    if not spec.handoffs or spec.agent_id is None:
        return
    from agents_sdk import handoff
    from agents_sdk.extensions.handoff_filters import remove_all_tools

    built = {spec.agent_id: root}
    for agent_id, definition in spec.handoff_definitions.items():
        if agent_id not in built:
            built[agent_id] = build_agent(
                definition, spec=spec, provider=provider, recorder=recorder, calls=calls
            )
    for source, edges in spec.handoffs.items():
        if source not in built:
            continue
        built[source].handoffs = [
            handoff(
                built[edge["target"]],
                tool_description_override=edge["description"]
                or _handoff_description(spec, edge["target"]),
                input_filter=(
                    remove_all_tools if edge["input_filter"] == "remove_tools" else None
                ),
            )
            for edge in edges
            if edge["target"] in built
        ]


def _handoff_description(spec: RunSpec, agent_id: int) -> str:
    definition = spec.handoff_definitions.get(agent_id) or {}
    about = definition.get("description") or ""
    return f"Hand the conversation to {definition.get('name', 'the agent')}. {about}"


def _sdk_tool_choice(choice: str, spec: RunSpec) -> str:
    """A tool choice naming a tool by reference, as the name the model sees."""
    if choice in spec.custom_tools:
        return spec.custom_tools[choice]["name"]
    if choice in spec.agent_tools:
        return spec.agent_tools[choice]["tool_name"]
    return choice


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
    options = (definition.get("tool_options") or {}).get(name)
    if name == FILE_SEARCH:
        # Bound when the run was loaded: the agent owner's attached files.
        options = definition.get(FILE_SCOPE_KEY) or {}
    return get_tool(name).as_sdk_tool(options)


class _NestedRecorder:
    """Saves the steps of an agent run as a tool, marked with how deep they
    are and which call ran them; its streamed text stays out of the answer."""

    def __init__(
        self, recorder: Recorder, depth: int, agent: str, call_id: str, model: str
    ):
        self.recorder = recorder
        # The model marks whose prices its steps' tokens are charged at.
        self.marks = {
            "depth": depth,
            "agent_tool": agent,
            "parent_call_id": call_id,
            "model": model,
        }

    async def step(self, type: str, payload: dict, **costs) -> None:
        await self.recorder.step(type, {**payload, **self.marks}, **costs)

    async def delta(self, text: str) -> None:
        return None

    async def cancelled(self) -> bool:
        return await self.recorder.cancelled()


def _agent_tool(
    reference: str,
    spec: RunSpec,
    provider: ModelProvider,
    recorder: Recorder | None,
    depth: int,
    calls: CallLog | None = None,
):
    entry = spec.agent_tools.get(reference)
    if entry is None:
        raise ToolUnavailableError(
            f"The agent uses the agent {reference} as a tool, but it no longer "
            "exists or is no longer shared. Edit the agent's tools and run it again."
        )
    if depth >= MAX_AGENT_TOOL_DEPTH:
        raise ToolUnavailableError(
            f"Agents call agents as tools more than {MAX_AGENT_TOOL_DEPTH} deep "
            f"(at {entry['definition']['name']}). Remove an agent tool so they "
            "do not call each other in a circle."
        )
    definition = entry["definition"]
    nested = build_agent(
        definition,
        spec=spec,
        provider=provider,
        recorder=recorder,
        depth=depth + 1,
        calls=calls,
    )
    mappers: dict[str, StepMapper] = {}

    async def on_stream(event) -> None:
        if recorder is None:
            return
        call = event.get("tool_call")
        call_id = getattr(call, "call_id", "") or ""
        mapper = mappers.get(call_id)
        if mapper is None:
            # The call's own step first: the SDK may stream the nested run's
            # first events before it reports the call that started it.
            if calls is not None:
                await calls.wait(call_id)
            mapper = mappers[call_id] = StepMapper(
                _NestedRecorder(
                    recorder,
                    depth + 1,
                    definition["name"],
                    call_id,
                    definition.get("model") or "local/demo",
                ),
                calls=calls,
                hold_answers=True,
            )
            if calls is not None:
                calls.nested[call_id] = mapper
        await mapper.handle(event["event"])

    async def failed(context, error: Exception) -> str:
        # The nested agent's output guardrail blocked its answer: drop what
        # its mapper held, say so in a step of its own (carrying the dropped
        # turn's tokens), and tell the calling model without the answer.
        call_id = getattr(context, "tool_call_id", "") or ""
        mapper = mappers.get(call_id)
        if not isinstance(error, OutputGuardrailTripwireTriggered):
            return sdk.default_tool_error_function(context, error)
        info = error.guardrail_result.output.output_info or {}
        reason = info.get("reason", "")
        if mapper is not None:
            await mapper.recorder.step(
                "guardrail",
                {
                    "stage": "output",
                    "rule": info.get("rule", ""),
                    "reason": reason,
                    "tripped": True,
                },
                **_held_costs(mapper.drop_held()),
            )
        return (
            f"The output guardrail of {definition['name']} blocked its answer: {reason}"
        )

    return nested.as_tool(
        tool_name=entry["tool_name"],
        tool_description=entry.get("description")
        or f"Ask the agent {definition['name']}; give it the whole request.",
        on_stream=on_stream,
        failure_error_function=failed,
        run_config=RunConfig(model_provider=provider, tracing_disabled=True),
        max_turns=spec.max_turns,
    )


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
    """A sentence a person can act on, for errors that come from the provider.

    By status code rather than class: LiteLLM wraps some errors (a rate limit
    in the middle of a stream, say) in its own APIStatusError subclasses.
    """
    tries = f"after {retries + 1} attempts" if retries else "on the only attempt"
    if isinstance(error, openai.APITimeoutError):
        return f"The model provider did not answer in time {tries}. Try again later."
    if isinstance(error, openai.APIConnectionError):
        return f"Could not reach the model provider {tries}. Try again later."
    if isinstance(error, openai.APIResponseValidationError | json.JSONDecodeError):
        return (
            "The model provider sent an answer that could not be read (not the "
            "format its API promises). Try again later, or check the endpoint's URL."
        )
    status_code = getattr(error, "status_code", None)
    if isinstance(error, openai.APIStatusError) and isinstance(status_code, int):
        if status_code == 401:
            return (
                "The model provider rejected the API key (401). Check the key in "
                "your settings."
            )
        if status_code == 429:
            return (
                f"The model provider is rate-limiting requests (429) {tries}. Wait "
                "a minute and run again, or check your plan's limits."
            )
        if status_code >= 500:
            return (
                f"The model provider had a server error ({status_code}) "
                f"{tries}. Try again later."
            )
        return (
            f"The model provider refused the request ({status_code}): "
            f"{str(error.message)[:500]}"
        )
    return None


class CallLog:
    """A run's calls: tool calls already saved as steps, so that an agent run
    as a tool saves its steps after the call that started it; and the model
    calls whose usage no step carries yet (``meter``)."""

    # Longest wait for the call's step; the run goes on regardless after it.
    WAIT = 2.0

    def __init__(self, meter: UsageMeter | None = None) -> None:
        self.events: dict[str, asyncio.Event] = {}
        self.meter = meter or UsageMeter()
        # The steps of agents run as tools, by the call that runs them: what
        # they hold for their output guardrails is saved when the call's
        # result comes back (StepMapper.handle), unless it was blocked.
        self.nested: dict[str, StepMapper] = {}

    def _event(self, call_id: str) -> asyncio.Event:
        return self.events.setdefault(call_id, asyncio.Event())

    def mark(self, call_id: str) -> None:
        self._event(call_id).set()

    async def wait(self, call_id: str) -> None:
        if not call_id:
            return
        try:
            async with asyncio.timeout(self.WAIT):
                await self._event(call_id).wait()
        except TimeoutError:
            pass


class StepMapper:
    """Turns SDK stream events into steps, carrying tokens and latency.

    With ``hold_answers``, an answer of an agent with output guardrails is
    not saved when the SDK reports it: the SDK checks the final output only
    after reporting it, and a blocked answer must never be stored. Its step
    waits (``held``) until something shows it was not the final answer (a
    next item or turn) or the run completes (``release_held``); a tripped
    guardrail drops it (``drop_held``). Its text is not streamed either.
    """

    def __init__(
        self,
        recorder: Recorder,
        calls: CallLog | None = None,
        *,
        hold_answers: bool = False,
    ) -> None:
        self.recorder = recorder
        self.calls = calls
        self.hold_answers = hold_answers
        # The agent now answering (the SDK says when it changes).
        self.current_agent: Agent | None = None
        # Answers waiting for the output guardrails: (payload, costs, calls).
        self.held: list[tuple[dict, dict, list[int]]] = []
        # The run's own agent; steps of agents it handed off to say whose
        # they are, and the model their tokens are priced at.
        self.root: Agent | None = None
        self.turn_started = time.monotonic()
        self.pending_tokens = (0, 0)
        self.pending_latency: int | None = None
        # The model calls whose usage pending_tokens holds (see CallLog.meter).
        self.pending_calls: list[int] = []
        self.tool_names: dict[str, str] = {}
        self.tool_started: dict[str, float] = {}
        # Model responses whose completion this mapper handled (their tokens
        # are on a step, pending or held).
        self.responses_seen = 0

    def _take_turn_costs(self) -> dict:
        costs, calls = self._take_turn_costs_unclaimed()
        self._claim(calls)
        return costs

    def _take_turn_costs_unclaimed(self) -> tuple[dict, list[int]]:
        input_tokens, output_tokens = self.pending_tokens
        costs = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "latency_ms": self.pending_latency,
        }
        # Only the first step of a model turn carries the turn's cost.
        self.pending_tokens, self.pending_latency = (0, 0), None
        calls, self.pending_calls = self.pending_calls, []
        return costs, calls

    def _claim(self, calls: list[int]) -> None:
        # The calls' usage is on a step about to be saved: not unbilled.
        if self.calls is not None:
            for call in calls:
                self.calls.meter.claim(call)

    def _guarded(self, agent) -> bool:
        return self.hold_answers and bool(getattr(agent, "output_guardrails", None))

    async def release_held(self) -> None:
        """Save the held answers: they were not blocked."""
        held, self.held = self.held, []
        for payload, costs, calls in held:
            self._claim(calls)
            await self.recorder.step("agent-response", payload, **costs)

    def carry(self, costs: dict) -> None:
        """Add ``costs``' tokens to the next step's."""
        before_in, before_out = self.pending_tokens
        self.pending_tokens = (
            before_in + costs.get("input_tokens", 0),
            before_out + costs.get("output_tokens", 0),
        )

    def drop_held(self) -> dict:
        """Forget the held answers, returning the tokens their turns cost, for
        the step that says why they were dropped to carry: with them, a turn
        whose answer the SDK never reported (a tripwire raised out of the
        stream before that event was read) and that no step carries yet."""
        held, self.held = self.held, []
        costs = {"input_tokens": 0, "output_tokens": 0}
        for _payload, turn_costs, calls in [
            *held,
            (None, *self._take_turn_costs_unclaimed()),
        ]:
            self._claim(calls)
            costs["input_tokens"] += turn_costs["input_tokens"]
            costs["output_tokens"] += turn_costs["output_tokens"]
        return costs

    def unseen_costs(self, result) -> dict:
        """The tokens of the run's model responses this mapper never read:
        the SDK drops the events still queued when a guardrail trips."""
        costs = {"input_tokens": 0, "output_tokens": 0}
        for response in (result.raw_responses if result is not None else [])[
            self.responses_seen :
        ]:
            costs["input_tokens"] += response.usage.input_tokens
            costs["output_tokens"] += response.usage.output_tokens
        return costs

    async def handle(self, event) -> None:
        if event.type == "raw_response_event":
            await self._raw(event.data)
        elif event.type == "run_item_stream_event":
            if self.held and event.name != "message_output_created":
                # The run went on after the answer: it was not the final one,
                # which is all the output guardrails check.
                await self.release_held()
            await self._item(event.name, event.item)
        elif event.type == "agent_updated_stream_event":
            self.current_agent = event.new_agent

    async def _raw(self, data) -> None:
        kind = getattr(data, "type", "")
        if kind == "response.created":
            if self.held:
                await self.release_held()  # another turn: not the final answer
            self.turn_started = time.monotonic()
        elif kind == "response.output_text.delta":
            # Text that an output guardrail may yet block is not sent live.
            if not self._guarded(self.current_agent):
                await self.recorder.delta(data.delta)
        elif kind == "response.completed":
            self.responses_seen += 1
            usage = getattr(data.response, "usage", None)
            if usage is not None:
                # Added up: a turn that made no step leaves its tokens here.
                before_in, before_out = self.pending_tokens
                self.pending_tokens = (
                    before_in + usage.input_tokens,
                    before_out + usage.output_tokens,
                )
            self.pending_latency = int((time.monotonic() - self.turn_started) * 1000)
            if self.calls is not None:
                call = self.calls.meter.call_for(data)
                if call is not None:
                    self.pending_calls.append(call)

    def _marks(self, agent) -> dict:
        if self.root is None or agent is None or agent is self.root:
            return {}
        model = agent.model if isinstance(agent.model, str) else ""
        return {"agent": agent.name, "model": model or "local/demo"}

    async def _item(self, name: str, item) -> None:
        raw = item.raw_item
        marks = self._marks(getattr(item, "agent", None))
        if name == "reasoning_item_created":
            text = " ".join(part.text for part in (raw.summary or []))
            await self.recorder.step(
                "agent-thought", {"text": text, **marks}, **self._take_turn_costs()
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
                    **marks,
                },
                **self._take_turn_costs(),
            )
            if self.calls is not None:
                self.calls.mark(call_id)
        elif name == "tool_output":
            call_id = raw.get("call_id", "") if isinstance(raw, dict) else ""
            nested = self.calls.nested.pop(call_id, None) if self.calls else None
            if nested is not None:
                # An agent run as a tool answered, past its output guardrails
                # (a blocked answer was dropped already): its held answers go
                # before the result, like its other steps.
                await nested.release_held()
            started = self.tool_started.pop(call_id, None)
            await self.recorder.step(
                "tool-result",
                {
                    "call_id": call_id,
                    "name": self.tool_names.get(call_id, ""),
                    "output": _jsonable(item.output),
                    **marks,
                },
                latency_ms=(
                    int((time.monotonic() - started) * 1000) if started else None
                ),
            )
        elif name == "handoff_occured":
            await self.recorder.step(
                "handoff",
                {
                    "from": item.source_agent.name,
                    "to": item.target_agent.name,
                    **self._marks(item.source_agent),
                },
                **self._take_turn_costs(),
            )
        elif name == "message_output_created":
            text = sdk.ItemHelpers.text_message_output(item)
            # Every answer says which model wrote it (the offline one is
            # labelled as such on the page and in the API).
            model = item.agent.model if isinstance(item.agent.model, str) else ""
            payload = {
                "agent": item.agent.name,
                "text": text,
                "model": model or "local/demo",
                **marks,
            }
            if self._guarded(item.agent):
                self.held.append((payload, *self._take_turn_costs_unclaimed()))
                return
            await self.recorder.step(
                "agent-response", payload, **self._take_turn_costs()
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


class _ProviderFailedError(Exception):
    """The model could not be used or kept failing after its retries."""

    def __init__(
        self, kind: str, message: str, usage: dict, held: dict | None = None
    ) -> None:
        super().__init__(message)
        self.kind, self.message, self.usage = kind, message, usage
        # Tokens of answers dropped unchecked (StepMapper.drop_held).
        self.held = held or {}


class _Attempt:
    """The streamed result in progress, for the cancel watcher."""

    result = None
    cancelled = False

    def stop(self) -> None:
        """Stop the model stream and the tools now running."""
        self.cancelled = True
        if self.result is not None:
            self.result.cancel()


async def execute(
    spec: RunSpec, recorder: Recorder, provider: ModelProvider
) -> Outcome:
    """Run ``spec`` to the end; never raises for the run's own failures.

    When the model fails (after its retries) or cannot be used, and the agent
    names a fallback model, the run goes on with the fallback from the start;
    a ``fallback`` step says so.
    """
    meter = UsageMeter()
    # Every model call of the run, nested agents' and guard agents' too, is
    # metered: a run stopped in the middle of one still pays for it.
    provider = MeteredProvider(provider, meter)
    calls = CallLog(meter)
    mapper = StepMapper(recorder, calls=calls, hold_answers=True)
    attempt = _Attempt()
    deadline = asyncio.get_running_loop().time() + spec.timeout

    async def watch_for_cancel() -> None:
        # For the waits without stream events: a slow model, a slow tool.
        while not attempt.cancelled:
            await asyncio.sleep(CANCEL_POLL_INTERVAL)
            if await recorder.cancelled():
                attempt.stop()
                return

    watcher = asyncio.create_task(watch_for_cancel())
    try:
        outcome = await _execute(spec, mapper, recorder, provider, attempt, deadline)
    finally:
        watcher.cancel()
    if attempt.cancelled:
        # Whatever the stopped stream ended with (an error it raised on the
        # way out, say), the run was stopped; its recorder saved nothing more.
        outcome = Outcome("cancelled", usage=outcome.usage)
    if outcome.status == "cancelled":
        outcome.unbilled = meter.unbilled()
    return outcome


async def _execute(
    spec: RunSpec,
    mapper: StepMapper,
    recorder: Recorder,
    provider: ModelProvider,
    attempt: _Attempt,
    deadline: float,
) -> Outcome:
    """The run on its model, then (when the model fails) on its fallback."""
    definition = spec.definition
    fallback = definition.get("fallback_model") or ""
    try:
        return await _run_once(
            spec, definition, mapper, recorder, provider, attempt, deadline
        )
    except _ProviderFailedError as failure:
        if not fallback or attempt.cancelled:
            outcome = await _failed(
                recorder, failure.kind, failure.message, None, held=failure.held
            )
            outcome.usage = failure.usage
            return outcome
        primary = definition.get("model") or "local/demo"
        first_usage = failure.usage
        mapper.carry(failure.held)
        await recorder.step(
            "fallback",
            {"from": primary, "to": fallback, "reason": failure.message},
        )
    try:
        outcome = await _run_once(
            spec,
            {**definition, "model": fallback},
            mapper,
            recorder,
            provider,
            attempt,
            deadline,
        )
    except _ProviderFailedError as second:
        message = f"The fallback model {fallback} failed too. {second.message}"
        outcome = await _failed(recorder, second.kind, message, None, held=second.held)
        outcome.usage = second.usage
    outcome.usage = _add_usage(first_usage, outcome.usage)
    return outcome


async def _run_once(
    spec: RunSpec,
    definition: dict,
    mapper: StepMapper,
    recorder: Recorder,
    provider: ModelProvider,
    attempt: _Attempt,
    deadline: float,
) -> Outcome:
    """One pass of the runner with ``definition``'s model.

    Raises _ProviderFailedError when the model cannot be used or keeps failing
    (the caller may fall back); other failures become a failed Outcome.
    """
    result = attempt.result = None
    try:
        agent = build_agent(
            definition,
            spec=spec,
            provider=provider,
            recorder=recorder,
            calls=mapper.calls,
        )
        wire_handoffs(
            agent, spec=spec, provider=provider, recorder=recorder, calls=mapper.calls
        )
        mapper.root = agent
        result = attempt.result = Runner.run_streamed(
            agent,
            spec.input,
            max_turns=spec.max_turns,
            run_config=RunConfig(model_provider=provider, tracing_disabled=True),
        )
        async with asyncio.timeout_at(deadline):
            async for event in result.stream_events():
                if attempt.cancelled:
                    break
                await mapper.handle(event)
                # Between events too, not only when the watcher wakes: a
                # stopped run must not go on streaming for a poll interval.
                if await recorder.cancelled():
                    attempt.stop()
                    break
        if attempt.cancelled:
            return Outcome("cancelled", usage=usage_dict(result.context_wrapper.usage))
        # The output guardrails passed (a trip raises out of the stream).
        await mapper.release_held()
        final_output = result.final_output
        return Outcome(
            "completed",
            final_output=_jsonable(final_output),
            usage=usage_dict(result.context_wrapper.usage),
        )
    except InputGuardrailTripwireTriggered as tripped:
        return await _guardrail_tripped(
            recorder, "input", tripped, result, held=mapper.drop_held()
        )
    except OutputGuardrailTripwireTriggered as tripped:
        # The blocked answer was held, never saved: dropped here, the
        # guardrail's step carries what its turn cost.
        held = _add_usage(mapper.drop_held(), mapper.unseen_costs(result))
        return await _guardrail_tripped(recorder, "output", tripped, result, held=held)
    except TimeoutError:
        if result is not None:
            result.cancel()
        message = (
            f"The run took longer than {spec.timeout:g} seconds and was stopped. "
            "Simplify the task or raise the time limit."
        )
        # The model call cut short was consumed: the error step carries it.
        held = mapper.drop_held()
        return await _failed(
            recorder,
            "timeout",
            message,
            result,
            unbilled=mapper.calls.meter.unbilled() if mapper.calls else [],
            held=held,
        )
    except MaxTurnsExceeded:
        message = (
            f"The agent used all {spec.max_turns} turns without finishing. "
            "Make the task simpler or raise the turn limit."
        )
        return await _failed(
            recorder, "max_turns", message, result, held=mapper.drop_held()
        )
    except ModelUnavailableError as error:
        raise _ProviderFailedError(
            "model_unavailable", str(error), _usage_of(result), mapper.drop_held()
        ) from None
    except ToolUnavailableError as error:
        return await _failed(
            recorder, "tool_unavailable", str(error), result, held=mapper.drop_held()
        )
    except sdk.ModelBehaviorError as error:
        return await _failed(
            recorder, "model_behavior", str(error), result, held=mapper.drop_held()
        )
    except Exception as error:
        message = provider_error_message(error, spec.retries)
        if message is not None:
            raise _ProviderFailedError(
                "provider", message, _usage_of(result), mapper.drop_held()
            ) from None
        logger.exception("Run failed unexpectedly")
        message = f"Unexpected error ({type(error).__name__}): {error}"
        return await _failed(
            recorder, "internal", message, result, held=mapper.drop_held()
        )


def _add_usage(first: dict, second: dict) -> dict:
    keys = set(first) | set(second)
    return {key: (first.get(key) or 0) + (second.get(key) or 0) for key in keys}


def _held_costs(held: dict | None) -> dict:
    return {key: value for key, value in (held or {}).items() if value}


async def _failed(
    recorder: Recorder,
    kind: str,
    message: str,
    result,
    unbilled=(),
    held: dict | None = None,
) -> Outcome:
    payload, costs = {"kind": kind, "message": message}, _held_costs(held)
    if unbilled:
        # One step, one price: the calls' tokens at the first one's model.
        payload["model"] = unbilled[0]["model"]
        for key in ("input_tokens", "output_tokens"):
            costs[key] = costs.get(key, 0) + sum(u[key] for u in unbilled)
    await recorder.step("error", payload, **costs)
    return Outcome("failed", error=message, usage=_usage_of(result), error_code=kind)


async def _guardrail_tripped(
    recorder: Recorder, stage: str, tripped, result, held: dict | None = None
) -> Outcome:
    guardrail_result = tripped.guardrail_result
    info = guardrail_result.output.output_info or {}
    rule = info.get("rule", "")
    reason = info.get("reason", "")
    await recorder.step(
        "guardrail",
        {"stage": stage, "rule": rule, "reason": reason, "tripped": True},
        **_held_costs(held),
    )
    message = f"Blocked by the {stage} guardrail ({rule.replace('_', ' ')}): {reason}"
    return Outcome(
        "failed",
        error=message,
        usage=_usage_of(result),
        error_code=GUARDRAIL_BLOCKED,
    )


def _usage_of(result) -> dict:
    if result is None:
        return {}
    return usage_dict(result.context_wrapper.usage)
