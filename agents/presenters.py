"""Read-only helpers that shape agents, versions and runs for the HTML pages.

Nothing here writes; permission checks stay in ``agents.selectors``.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agents.definitions import DEFINITION_FIELDS
from agents.models import Agent
from billing.templatetags.billing_display import credits
from config import jsoninput

# Example instructions the builder offers; clicking one appends it.
INSTRUCTION_SNIPPETS = (
    (
        _("Careful calculator"),
        _(
            "You solve arithmetic step by step. Use the calculator tool for every "
            "operation instead of working it out yourself, then give the result."
        ),
    ),
    (
        _("Friendly support agent"),
        _(
            "You answer customers' questions politely and briefly. If you do not "
            "know the answer, say so and suggest where to look."
        ),
    ),
    (
        _("Structured extractor"),
        _(
            "Read the user's text and fill every field of the output type. Never "
            "invent values; leave optional fields out when the text does not say."
        ),
    ),
)

FIELD_LABELS = {
    "name": _("Name"),
    "description": _("Description"),
    "instructions": _("Instructions"),
    "model": _("Model"),
    "fallback_model": _("Fallback model"),
    "max_credits_per_run": _("Most credits per run"),
    "model_settings": _("Model settings"),
    "tools": _("Tools"),
    "tool_options": _("Tool options"),
    "guardrails": _("Guardrails"),
    "output_type": _("Output type"),
}


def pretty_json(value: Any) -> str:
    """``value`` as indented JSON, keys in a stable order."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def json_text(text: Any) -> str | None:
    """Pretty JSON when ``text`` is a JSON object or array, else None.

    A structured response arrives as the text of a JSON object; showing it
    indented makes the fields readable.
    """
    if not isinstance(text, str) or not text.lstrip().startswith(("{", "[")):
        return None
    try:
        # A model may answer with JSON nested deeper than json can parse.
        value = jsoninput.loads(text)
    except ValueError:
        return None
    return pretty_json(value)


def output_text(value: Any) -> str:
    """A run's final output as text: indented JSON for objects, as is for text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return json_text(value) or value
    return pretty_json(value)


@dataclass
class DiffLine:
    kind: str  # "added", "removed" or "same"
    text: str


@dataclass
class FieldDiff:
    field: str
    label: str
    changed: bool
    lines: list[DiffLine] = field(default_factory=list)


def _lines(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return value.splitlines()
    return pretty_json(value).splitlines()


def definition_diff(old: dict, new: dict) -> list[FieldDiff]:
    """Per definition field, the lines removed from ``old`` and added in ``new``."""
    diffs = []
    for name in DEFINITION_FIELDS:
        before, after = old.get(name), new.get(name)
        if name == "tool_options":
            # Versions saved before tool options existed have none.
            before, after = before or {}, after or {}
        elif name == "fallback_model":
            # ...nor a fallback model.
            before, after = before or "", after or ""
        elif name == "max_credits_per_run":
            # ...nor a cap; stored in milli-credits, shown in credits.
            before, after = (
                "" if value is None else credits(value) for value in (before, after)
            )
        changed = before != after
        lines = []
        if changed:
            for line in difflib.ndiff(_lines(before), _lines(after)):
                marker, text = line[:2], line[2:]
                if marker == "+ ":
                    lines.append(DiffLine("added", text))
                elif marker == "- ":
                    lines.append(DiffLine("removed", text))
                elif marker == "  ":
                    lines.append(DiffLine("same", text))
                # "? " lines are ndiff's intraline hints: not shown.
        diffs.append(FieldDiff(name, str(FIELD_LABELS[name]), changed, lines))
    return diffs


def agents_with_runs_by(*, user) -> QuerySet[Agent]:
    """The agents ``user`` has run, for the runs page's filter."""
    return Agent.objects.filter(runs__owner=user).distinct().order_by("name")


def timeline_tree(steps: list[dict]) -> list[dict]:
    """A run's steps (payloads.step_to_dict) as the timeline shows them: a
    workflow's parallel branches' steps inside their node's started step, one
    lane each (``lanes``: id, title, steps), in order."""
    lanes: dict[str, list[dict]] = {}
    top: list[dict] = []
    for step in steps:
        payload = step["payload"]
        if (
            step["type"] == "node"
            and payload.get("event") == "started"
            and payload.get("kind") == "parallel"
        ):
            step["lanes"] = []
            for index, branch in enumerate(payload.get("branches") or []):
                lane = {
                    "id": f"{step['order']}-{index}",
                    "title": branch.get("label") or branch.get("node", ""),
                    "steps": [],
                }
                step["lanes"].append(lane)
                lanes[lane["id"]] = lane["steps"]
        lanes.get(payload.get("lane"), top).append(step)
    return top
