"""``DemoModel`` and ``DemoModelProvider``: the demo model behind the SDK's
``Model`` and ``ModelProvider`` interfaces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from agents.runtime.demo_model.constants import DEMO_MODEL_ID, DEMO_MODEL_NAMES
from agents.runtime.demo_model.responses import (
    build_turn,
    count_input_tokens,
    stream_events,
)
from agents.runtime.sdk import (
    AgentOutputSchemaBase,
    Model,
    ModelProvider,
    ModelResponse,
    ModelSettings,
    ModelTracing,
)


class DemoModel(Model):
    """A deterministic model that needs no network; see the package docstring.

    ``word_delay`` (seconds) paces streamed words, so that a page can show text
    arriving; it is zero by default and ignored by ``get_response``.
    """

    def __init__(self, *, word_delay: float = 0.0) -> None:
        self.word_delay = word_delay

    def estimate_input_tokens(self, system_instructions, input, tools, output_schema):
        """A call cut short is charged what the whole call would report."""
        return count_input_tokens(system_instructions, input)

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[Any],
        model_settings: ModelSettings,
        tools: list[Any],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> ModelResponse:
        turn = build_turn(
            system_instructions=system_instructions,
            input=input,
            model_settings=model_settings,
            tools=tools,
            output_schema=output_schema,
            handoffs=handoffs,
        )
        return ModelResponse(
            output=turn.output, usage=turn.usage, response_id=turn.response_id
        )

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[Any],
        model_settings: ModelSettings,
        tools: list[Any],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> AsyncIterator[Any]:
        turn = build_turn(
            system_instructions=system_instructions,
            input=input,
            model_settings=model_settings,
            tools=tools,
            output_schema=output_schema,
            handoffs=handoffs,
        )
        for event in stream_events(turn):
            yield event
            # Yielding to the loop lets consumers see words as they "arrive".
            delay = self.word_delay if event.type.endswith(".delta") else 0
            await asyncio.sleep(delay)


class DemoModelProvider(ModelProvider):
    """Hands out the demo model for the names ``demo`` and ``local/demo``."""

    def __init__(self, *, word_delay: float = 0.0) -> None:
        self.word_delay = word_delay

    def get_model(self, model_name: str | None) -> Model:
        if model_name not in DEMO_MODEL_NAMES:
            raise ValueError(
                f"The demo provider has no model {model_name!r}; use {DEMO_MODEL_ID!r}."
            )
        return DemoModel(word_delay=self.word_delay)
