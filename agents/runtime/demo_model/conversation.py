"""Reading the input items: the latest user message and the tool calls since."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ToolCallRecord:
    """One function call since the latest user message, with its output."""

    name: str
    call_id: str
    arguments: dict[str, Any]
    output: str | None = None


@dataclass
class Conversation:
    """What the demo model needs from the input items."""

    user_text: str = ""
    # The agent's answer just before the latest user message (a conversation's
    # earlier turn), so "then multiply by 3" can continue from it.
    earlier_answer: str = ""
    calls: list[ToolCallRecord] = field(default_factory=list)
    # Across the whole input, so call ids stay unique through handoffs.
    total_calls: int = 0
    fingerprint: str = ""

    def calls_to(self, name: str) -> list[ToolCallRecord]:
        return [call for call in self.calls if call.name == name]


def as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    if hasattr(item, "model_dump"):
        return item.model_dump(exclude_none=True)
    return {}


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if isinstance(content.get("text"), str):
            return content["text"]
        # Images and files in a message have no words to act on.
        if str(content.get("type", "")).startswith("input_"):
            return ""
        return json.dumps(content, default=str)
    if isinstance(content, list):
        parts = [_content_text(part) for part in content]
        return "\n".join(part for part in parts if part)
    return "" if content is None else str(content)


def read_conversation(input: str | list[Any]) -> Conversation:
    """The latest user message and the tool calls made since."""
    if isinstance(input, str):
        items: list[dict[str, Any]] = [{"role": "user", "content": input}]
    else:
        items = [as_dict(item) for item in input]
    serialized = json.dumps(items, sort_keys=True, default=str)
    conversation = Conversation(
        fingerprint=hashlib.sha256(serialized.encode()).hexdigest()[:10]
    )
    by_call_id: dict[str, ToolCallRecord] = {}
    last_answer = ""
    for item in items:
        kind = item.get("type")
        if item.get("role") == "assistant" and kind in (None, "message"):
            last_answer = _content_text(item.get("content")).strip()
        elif item.get("role") == "user" and kind in (None, "message"):
            conversation.user_text = _content_text(item.get("content")).strip()
            conversation.earlier_answer = last_answer
            conversation.calls = []
        elif kind == "function_call":
            conversation.total_calls += 1
            try:
                arguments = json.loads(item.get("arguments") or "{}")
            except json.JSONDecodeError:
                arguments = {}
            record = ToolCallRecord(
                name=str(item.get("name", "")),
                call_id=str(item.get("call_id", "")),
                arguments=arguments if isinstance(arguments, dict) else {},
            )
            conversation.calls.append(record)
            by_call_id[record.call_id] = record
        elif kind == "function_call_output":
            record = by_call_id.get(str(item.get("call_id", "")))
            if record is not None:
                record.output = _content_text(item.get("output"))
    return conversation
