"""What a turn does: call one tool (or hand off), or answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCallPlan:
    name: str
    arguments: dict[str, Any]
    thought: str


@dataclass(frozen=True)
class AnswerPlan:
    text: str
    number: int | float | None = None
    # Top-level values of a structured answer, decided with the text.
    fields: dict[str, Any] = field(default_factory=dict)


Plan = ToolCallPlan | AnswerPlan
