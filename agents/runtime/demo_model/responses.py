"""One turn as the Responses API gives it: the output items and usage, and the
stream events that deliver them."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
    ResponseReasoningSummaryPartAddedEvent,
    ResponseReasoningSummaryPartDoneEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_reasoning_item import Summary
from openai.types.responses.response_reasoning_summary_part_added_event import (
    Part as SummaryPartAdded,
)
from openai.types.responses.response_reasoning_summary_part_done_event import (
    Part as SummaryPartDone,
)
from openai.types.responses.response_usage import (
    InputTokensDetails,
    OutputTokensDetails,
)

from agents.runtime.demo_model.constants import DEMO_MODEL_ID
from agents.runtime.demo_model.conversation import as_dict, read_conversation
from agents.runtime.demo_model.decisions import answer_text, decide
from agents.runtime.demo_model.plans import ToolCallPlan
from agents.runtime.sdk import AgentOutputSchemaBase, ModelSettings, Usage


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def count_input_tokens(system_instructions: str | None, input) -> int:
    """What the demo model reports as a turn's input: its instructions and
    items, at four characters a token."""
    serialized_input = json.dumps(
        input if isinstance(input, str) else [as_dict(i) for i in input],
        default=str,
    )
    return _tokens((system_instructions or "") + serialized_input)


@dataclass
class DemoTurn:
    output: list[Any]
    usage: Usage
    response_id: str


def build_turn(
    *,
    system_instructions: str | None,
    input: str | list[Any],
    model_settings: ModelSettings,
    tools: list[Any],
    output_schema: AgentOutputSchemaBase | None,
    handoffs: list[Any],
) -> DemoTurn:
    conversation = read_conversation(input)
    tool_choice = model_settings.tool_choice
    plan = decide(
        conversation=conversation,
        system_instructions=system_instructions,
        tools=tools,
        handoffs=handoffs,
        tool_choice=tool_choice if isinstance(tool_choice, str) else None,
        output_schema=(
            None
            if output_schema is None or output_schema.is_plain_text()
            else output_schema.json_schema()
        ),
    )
    suffix = f"{conversation.total_calls + 1}_{conversation.fingerprint}"
    output: list[Any] = []
    thought_tokens = 0
    if isinstance(plan, ToolCallPlan):
        thought_tokens = _tokens(plan.thought)
        output.append(
            ResponseReasoningItem(
                id=f"rs_demo_{suffix}",
                type="reasoning",
                summary=[Summary(text=plan.thought, type="summary_text")],
                status="completed",
            )
        )
        arguments = json.dumps(plan.arguments, ensure_ascii=False)
        output.append(
            ResponseFunctionToolCall(
                id=f"fc_demo_{suffix}",
                call_id=f"call_demo_{suffix}",
                type="function_call",
                name=plan.name,
                arguments=arguments,
                status="completed",
            )
        )
        written = plan.name + arguments
    else:
        written = answer_text(
            plan, conversation=conversation, output_schema=output_schema
        )
        output.append(
            ResponseOutputMessage(
                id=f"msg_demo_{suffix}",
                type="message",
                role="assistant",
                status="completed",
                content=[
                    ResponseOutputText(
                        type="output_text", text=written, annotations=[], logprobs=[]
                    )
                ],
            )
        )
    input_tokens = count_input_tokens(system_instructions, input)
    output_tokens = _tokens(written) + thought_tokens
    usage = Usage(
        requests=1,
        input_tokens=input_tokens,
        input_tokens_details=InputTokensDetails(cached_tokens=0, cache_write_tokens=0),
        output_tokens=output_tokens,
        output_tokens_details=OutputTokensDetails(reasoning_tokens=thought_tokens),
        total_tokens=input_tokens + output_tokens,
    )
    return DemoTurn(output, usage, f"resp_demo_{suffix}")


def _words(text: str) -> list[str]:
    """``text`` in word-sized pieces that join back to exactly ``text``."""
    return re.findall(r"\s*\S+\s*", text) or [text]


def stream_events(turn: DemoTurn) -> Iterator[Any]:
    """The Responses API's stream events for one turn, in order."""
    sequence = iter(range(1_000_000))
    response = Response(
        id=turn.response_id,
        created_at=int(datetime.now(UTC).timestamp()),
        model=DEMO_MODEL_ID,
        object="response",
        output=turn.output,
        tool_choice="auto",
        tools=[],
        top_p=None,
        parallel_tool_calls=False,
        status="completed",
        usage=ResponseUsage(
            input_tokens=turn.usage.input_tokens,
            input_tokens_details=turn.usage.input_tokens_details,
            output_tokens=turn.usage.output_tokens,
            output_tokens_details=turn.usage.output_tokens_details,
            total_tokens=turn.usage.total_tokens,
        ),
    )
    pending = response.model_copy(
        update={"output": [], "status": "in_progress", "usage": None}
    )
    yield ResponseCreatedEvent(
        type="response.created", response=pending, sequence_number=next(sequence)
    )
    yield ResponseInProgressEvent(
        type="response.in_progress", response=pending, sequence_number=next(sequence)
    )
    for index, item in enumerate(turn.output):
        yield ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            item=_in_progress(item),
            output_index=index,
            sequence_number=next(sequence),
        )
        if isinstance(item, ResponseReasoningItem):
            yield from _reasoning_events(item, index, sequence)
        elif isinstance(item, ResponseFunctionToolCall):
            yield ResponseFunctionCallArgumentsDeltaEvent(
                type="response.function_call_arguments.delta",
                item_id=item.id,
                output_index=index,
                delta=item.arguments,
                sequence_number=next(sequence),
            )
            yield ResponseFunctionCallArgumentsDoneEvent.model_validate(
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": item.id,
                    "output_index": index,
                    "arguments": item.arguments,
                    "name": item.name,
                    "sequence_number": next(sequence),
                }
            )
        elif isinstance(item, ResponseOutputMessage):
            yield from _text_events(item, index, sequence)
        yield ResponseOutputItemDoneEvent(
            type="response.output_item.done",
            item=item,
            output_index=index,
            sequence_number=next(sequence),
        )
    yield ResponseCompletedEvent(
        type="response.completed", response=response, sequence_number=next(sequence)
    )


def _in_progress(item: Any) -> Any:
    if isinstance(item, ResponseReasoningItem):
        return item.model_copy(update={"summary": [], "status": "in_progress"})
    if isinstance(item, ResponseFunctionToolCall):
        return item.model_copy(update={"arguments": "", "status": "in_progress"})
    if isinstance(item, ResponseOutputMessage):
        return item.model_copy(update={"content": [], "status": "in_progress"})
    return item


def _reasoning_events(
    item: ResponseReasoningItem, index: int, sequence: Iterator[int]
) -> Iterator[Any]:
    for summary_index, summary in enumerate(item.summary):
        common = {"item_id": item.id, "output_index": index}
        yield ResponseReasoningSummaryPartAddedEvent(
            type="response.reasoning_summary_part.added",
            summary_index=summary_index,
            part=SummaryPartAdded(text="", type="summary_text"),
            sequence_number=next(sequence),
            **common,
        )
        for piece in _words(summary.text):
            yield ResponseReasoningSummaryTextDeltaEvent(
                type="response.reasoning_summary_text.delta",
                summary_index=summary_index,
                delta=piece,
                sequence_number=next(sequence),
                **common,
            )
        yield ResponseReasoningSummaryTextDoneEvent(
            type="response.reasoning_summary_text.done",
            summary_index=summary_index,
            text=summary.text,
            sequence_number=next(sequence),
            **common,
        )
        yield ResponseReasoningSummaryPartDoneEvent(
            type="response.reasoning_summary_part.done",
            summary_index=summary_index,
            part=SummaryPartDone(text=summary.text, type="summary_text"),
            sequence_number=next(sequence),
            **common,
        )


def _text_events(
    item: ResponseOutputMessage, index: int, sequence: Iterator[int]
) -> Iterator[Any]:
    for content_index, part in enumerate(item.content):
        if not isinstance(part, ResponseOutputText):
            continue
        common = {
            "item_id": item.id,
            "output_index": index,
            "content_index": content_index,
        }
        yield ResponseContentPartAddedEvent(
            type="response.content_part.added",
            part=part.model_copy(update={"text": ""}),
            sequence_number=next(sequence),
            **common,
        )
        for piece in _words(part.text):
            yield ResponseTextDeltaEvent(
                type="response.output_text.delta",
                delta=piece,
                logprobs=[],
                sequence_number=next(sequence),
                **common,
            )
        yield ResponseTextDoneEvent(
            type="response.output_text.done",
            text=part.text,
            logprobs=[],
            sequence_number=next(sequence),
            **common,
        )
        yield ResponseContentPartDoneEvent(
            type="response.content_part.done",
            part=part,
            sequence_number=next(sequence),
            **common,
        )
