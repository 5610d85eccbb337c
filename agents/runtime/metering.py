"""Model calls in flight, so that a run stopped in the middle of one pays for it.

A provider bills a model call whether or not its answer is used: a run
cancelled (or timed out) while the model streams has consumed the prompt's
tokens and the words generated so far. The usage a call reports arrives only
at its end (``response.completed``), so a call cut short reports nothing.
``MeteredProvider`` wraps the run's provider and keeps every call it hands
out in a ``UsageMeter`` until the call completes; what is still open when
the run stops is the interrupted usage, estimated from the request's size and
the text streamed so far.

Django-free, like the rest of the runtime.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from agents.runtime.sdk import Model, ModelProvider

# As the run estimate counts (billing.selectors): about four characters a
# token, in English and in JSON alike.
CHARS_PER_TOKEN = 4


@dataclass
class Call:
    """One model request whose usage no step carries yet."""

    model: str
    input_tokens: int
    output_chars: int = 0
    # What the provider reported when the call completed, if it did.
    reported: tuple[int, int] | None = None

    def usage(self) -> dict:
        if self.reported is not None:
            input_tokens, output_tokens = self.reported
            estimated = False
        else:
            input_tokens = self.input_tokens
            output_tokens = -(-self.output_chars // CHARS_PER_TOKEN)
            estimated = True
        return {
            "model": self.model,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "estimated": estimated,
        }


class UsageMeter:
    """The model calls of one run whose usage is not yet on a step.

    A call is opened when it is made and taken off when a step carries its
    usage (``claim``) or when the provider failed it. What is left when a run
    stops was consumed and not charged: ``unbilled``.
    """

    def __init__(self) -> None:
        self._calls: dict[int, Call] = {}
        self._ids = itertools.count()
        # The completion event each completed call sent, by the event's
        # identity: the step mapper sees the same object.
        self._completions: dict[int, tuple[Any, int]] = {}

    def open(self, call: Call) -> int:
        call_id = next(self._ids)
        self._calls[call_id] = call
        return call_id

    def streamed(self, call_id: int, text: str) -> None:
        if (call := self._calls.get(call_id)) is not None:
            call.output_chars += len(text)

    def completed(self, call_id: int, event: Any) -> None:
        call = self._calls.get(call_id)
        if call is None:
            return
        usage = getattr(getattr(event, "response", None), "usage", None)
        if usage is not None:
            call.reported = (usage.input_tokens or 0, usage.output_tokens or 0)
        self._completions[id(event)] = (event, call_id)

    def call_for(self, event: Any) -> int | None:
        """The call that sent this completion event."""
        entry = self._completions.pop(id(event), None)
        return entry[1] if entry is not None else None

    def claim(self, call_id: int | None) -> None:
        """A step now carries the call's usage (or the call failed unbilled)."""
        self._calls.pop(call_id, None)

    def unbilled(self) -> list[dict]:
        """Calls no step carries: each once, reported usage or an estimate."""
        calls, self._calls = list(self._calls.values()), {}
        self._completions = {}
        return [call.usage() for call in calls]


def _size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value)
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return len(str(value))


def estimate_input_tokens(system_instructions, input, tools, output_schema) -> int:
    """What the request will be billed as input: its instructions, items, tool
    schemas and output schema, at CHARS_PER_TOKEN."""
    chars = _size(system_instructions) + _size(input)
    for tool in tools or []:
        chars += _size(getattr(tool, "name", "")) + _size(
            getattr(tool, "description", "")
        )
        chars += _size(getattr(tool, "params_json_schema", None))
    if output_schema is not None:
        try:
            chars += _size(output_schema.json_schema())
        except Exception:  # noqa: BLE001 (a schema that cannot say is still sent)
            chars += 0
    return max(1, -(-chars // CHARS_PER_TOKEN))


class MeteredModel(Model):
    """``model`` with each of its calls kept open in ``meter`` until it
    reports its usage. Everything else is the wrapped model's."""

    def __init__(self, model: Model, name: str, meter: UsageMeter) -> None:
        self.model = model
        self.name = name
        self.meter = meter

    def get_retry_advice(self, request):
        return self.model.get_retry_advice(request)

    async def close(self) -> None:
        await self.model.close()

    async def _cleanup_on_run_end(self, owner: object) -> None:
        await self.model._cleanup_on_run_end(owner)

    def _open(self, system_instructions, input, tools, output_schema) -> int:
        # A model that counts its own input (the offline demo model) says
        # how; providers count everything they are sent.
        estimate = getattr(self.model, "estimate_input_tokens", estimate_input_tokens)
        tokens = estimate(system_instructions, input, tools, output_schema)
        return self.meter.open(Call(model=self.name, input_tokens=tokens))

    # The SDK's Model interface: instructions, input, settings, tools and
    # output schema come first; the rest is passed through as it came.
    async def get_response(
        self,
        system_instructions,
        input,
        model_settings,
        tools,
        output_schema,
        *rest,
        **kwargs,
    ):
        call_id = self._open(system_instructions, input, tools, output_schema)
        try:
            response = await self.model.get_response(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                *rest,
                **kwargs,
            )
        except Exception:
            self.meter.claim(call_id)
            raise
        # Nothing maps a whole response to steps (guard agents run this way,
        # their usage not charged): it is done with. A cancellation (not an
        # Exception) leaves the call open, to be charged as interrupted.
        self.meter.claim(call_id)
        return response

    async def stream_response(
        self,
        system_instructions,
        input,
        model_settings,
        tools,
        output_schema,
        *rest,
        **kwargs,
    ) -> AsyncIterator[Any]:
        call_id = self._open(system_instructions, input, tools, output_schema)
        stream = self.model.stream_response(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            *rest,
            **kwargs,
        )
        try:
            async for event in stream:
                kind = getattr(event, "type", "")
                if kind == "response.completed":
                    self.meter.completed(call_id, event)
                elif kind.endswith(".delta"):
                    self.meter.streamed(call_id, str(getattr(event, "delta", "")))
                yield event
        except Exception:
            # The provider failed the call: nothing to bill for it.
            self.meter.claim(call_id)
            raise


class MeteredProvider(ModelProvider):
    """The run's provider, its models metered in ``meter``."""

    def __init__(self, provider: ModelProvider, meter: UsageMeter) -> None:
        self.provider = provider
        self.meter = meter

    def get_model(self, model_name: str | None) -> Model:
        model = self.provider.get_model(model_name)
        return MeteredModel(model, model_name or "local/demo", self.meter)

    async def aclose(self) -> None:
        await self.provider.aclose()
