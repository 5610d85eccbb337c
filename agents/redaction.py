"""What a shared run's page may show: its steps and result, without secrets.

The person who started a run sees everything its steps saved. A shared copy
is for anyone with the link, so it keeps only the payload fields the timeline
draws (not call ids or the models nested agents ran on) and replaces, in
everything the run produced, the strings that belong to someone's account or
to the agent's private definition: webhook tool URLs, hosts and secret headers
(a webhook's error or an echoing endpoint can put them in a tool result),
provider keys and endpoints (in a provider's error message), and the
guardrails' blocked words and patterns (in a guardrail's reason). The input is
shown as its author typed it.

Django-free: ``agents.services.sharing.run_shared_secrets`` collects the
strings; this module applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

HIDDEN = "[hidden]"

# The payload fields the timeline (partials/step.html) draws, by step type.
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "user-request": ("text",),
    "agent-thought": ("text",),
    "agent-response": ("agent", "text"),
    "tool-call": ("name", "arguments"),
    "tool-result": ("name", "output"),
    "handoff": ("from", "to"),
    "guardrail": ("stage", "rule", "reason", "tripped"),
    "fallback": ("from", "to", "reason"),
    "error": ("kind", "message"),
    "cancelled": ("message",),
}
# Steps of an agent run as a tool are drawn nested under its name.
NESTING_FIELDS = ("depth", "agent_tool")
# The run's own words, shown as typed.
UNREDACTED_STEP_TYPES = ("user-request",)


@dataclass
class Secrets:
    """Strings a shared run must not show. ``literals`` are hidden wherever
    they occur (any case); ``words`` only as whole words, like the guardrail
    that blocks them, so a blocked "ass" leaves "class" alone."""

    literals: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)

    def pattern(self) -> re.Pattern | None:
        # Longest first: a URL goes before the host inside it.
        literals = sorted({s for s in self.literals if s.strip()}, key=len)
        words = sorted({w for w in self.words if w.strip()}, key=len)
        parts = [re.escape(s) for s in reversed(literals)]
        parts += [rf"(?<!\w){re.escape(w)}(?!\w)" for w in reversed(words)]
        if not parts:
            return None
        return re.compile("|".join(parts), re.IGNORECASE)


def redact(value: Any, pattern: re.Pattern | None) -> Any:
    """``value`` (text, or JSON made of dicts and lists) with every match of
    ``pattern`` replaced by HIDDEN."""
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(HIDDEN, value)
    if isinstance(value, list):
        return [redact(item, pattern) for item in value]
    if isinstance(value, dict):
        return {
            redact(key, pattern): redact(item, pattern) for key, item in value.items()
        }
    return value


def shared_step(step: dict, pattern: re.Pattern | None) -> dict:
    """A step as ``payloads.step_to_dict`` makes it, fit to share."""
    fields = STEP_FIELDS.get(step["type"], ()) + NESTING_FIELDS
    payload = {
        name: step["payload"][name] for name in fields if name in step["payload"]
    }
    if step["type"] not in UNREDACTED_STEP_TYPES:
        payload = redact(payload, pattern)
    return {**step, "payload": payload}


def shared_run_data(run_data: dict, pattern: re.Pattern | None) -> dict:
    """What the timeline's status and result draw of ``payloads.run_to_dict``
    (no owner, agent, version or conversation ids), fit to share."""
    return {
        "status": run_data["status"],
        "usage": run_data["usage"],
        "cost": run_data["cost"],
        "latency_ms": run_data["latency_ms"],
        "final_output": redact(run_data["final_output"], pattern),
        "error": redact(run_data["error"], pattern),
    }
