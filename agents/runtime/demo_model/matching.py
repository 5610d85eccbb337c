"""Which tool or agent a message is about, by the words they share."""

from __future__ import annotations

import re
from typing import Any

from agents.runtime.demo_model.schemas import ZONE_NAMES
from agents.runtime.demo_model.words import content_words, find_time_zone
from agents.runtime.sdk import FunctionTool


def best_match(text: str, candidates: list[tuple[Any, str, str]]) -> Any | None:
    """The candidate whose (name, description) words best cover ``text``.

    A word in the name counts twice a word only in the description; ties go to
    the earlier candidate.
    """
    wanted = content_words(text)
    best, best_score = None, 0
    for candidate, name, description in candidates:
        name_words = content_words(re.sub(r"[_\-]", " ", name))
        other_words = content_words(description) - name_words
        score = 2 * len(wanted & name_words) + len(wanted & other_words)
        if score > best_score:
            best, best_score = candidate, score
    return best


def matched_words(text: str, *sources: str) -> list[str]:
    words = content_words(" ".join(re.sub(r"[_\-]", " ", s) for s in sources))
    return sorted(content_words(text) & words)


def zone_tool(text: str, tools: dict[str, FunctionTool]) -> FunctionTool | None:
    """A tool that takes a time zone, when the text names a place ("Is it
    morning in Lima?")."""
    if find_time_zone(text) is None:
        return None
    for tool in tools.values():
        properties = tool.params_json_schema.get("properties", {})
        if any(name.lower() in ZONE_NAMES for name in properties):
            return tool
    return None
