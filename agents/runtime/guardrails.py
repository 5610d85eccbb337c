"""Guardrails a user configures without code, as SDK guardrail functions.

Each check returns a ``GuardrailFunctionOutput`` whose ``output_info`` says
which rule tripped and why; the executor turns a trip into a ``guardrail``
step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from agents.runtime.sdk import (
    GuardrailFunctionOutput,
    input_guardrail,
    output_guardrail,
)

# What a guard agent must answer: its own instructions say when to deny.
DECISION_SCHEMA = {
    "type": "object",
    "properties": {
        "decision": {"type": "string", "enum": ["allow", "deny"]},
        "reason": {"type": "string"},
    },
    "required": ["decision", "reason"],
    "additionalProperties": False,
}

# Runs a guard agent on a text and returns its decision object.
GuardRunner = Callable[[str], Awaitable[dict]]


def check_text(config: dict, text: str) -> dict | None:
    """The first rule in ``config`` that ``text`` breaks, or None."""
    max_length = config.get("max_length")
    if max_length and len(text) > max_length:
        return {
            "rule": "max_length",
            "reason": f"The input is {len(text)} characters long; "
            f"this agent accepts at most {max_length}.",
        }
    for word in config.get("blocked_words", []):
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
            return {"rule": "blocked_words", "reason": f"It contains {word!r}."}
    for pattern in config.get("blocked_patterns", []):
        if re.search(pattern, text):
            return {
                "rule": "blocked_patterns",
                "reason": f"It matches the pattern {pattern!r}.",
            }
    return None


async def _check(config: dict, text: str, guard: GuardRunner | None) -> dict | None:
    tripped = check_text(config, text)
    if tripped is None and guard is not None:
        decision = await guard(text)
        if decision.get("decision") != "allow":
            tripped = {
                "rule": "guard_agent",
                "reason": decision.get("reason") or "The guard agent denied it.",
            }
    return tripped


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _input_text(value) -> str:
    if isinstance(value, str):
        return value
    # A conversation: check the user's newest message (earlier ones passed
    # when they were sent).
    for item in reversed(value):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(
                    part.get("text", "") for part in content if isinstance(part, dict)
                )
    return ""


def build_guardrails(
    config: dict, *, input_guard: GuardRunner | None, output_guard: GuardRunner | None
) -> tuple[list, list]:
    """SDK input and output guardrails for an agent's ``guardrails`` field."""
    input_guardrails, output_guardrails = [], []
    input_config = config.get("input") or {}
    output_config = config.get("output") or {}
    if input_config:
        # Not in parallel: a tripped input guardrail must stop the run before
        # the model sees the input (and before it costs anything).
        @input_guardrail(name="input", run_in_parallel=False)
        async def check_input(context, agent, value) -> GuardrailFunctionOutput:
            tripped = await _check(input_config, _input_text(value), input_guard)
            return GuardrailFunctionOutput(
                output_info=tripped, tripwire_triggered=tripped is not None
            )

        input_guardrails.append(check_input)
    if output_config:

        @output_guardrail(name="output")
        async def check_output(context, agent, value) -> GuardrailFunctionOutput:
            tripped = await _check(output_config, _as_text(value), output_guard)
            return GuardrailFunctionOutput(
                output_info=tripped, tripwire_triggered=tripped is not None
            )

        output_guardrails.append(check_output)
    return input_guardrails, output_guardrails
