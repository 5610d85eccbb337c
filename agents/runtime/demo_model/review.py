"""A reviewer's verdict from the checks that need no judgement: the work is
not empty and not a refusal, keeps the task's length limits, mentions what
the task says it must, and is valid JSON when JSON was asked for."""

from __future__ import annotations

import json
import re
from typing import Any

from agents.runtime.demo_model.schemas import non_null, resolve

REFUSAL = "The offline model (local/demo) cannot write"
WORK = re.compile(r"\n*Work \(attempt \d+ of \d+\):(?:\n|$)")
MAX_WORDS = re.compile(
    r"\b(at most|no more than|not more than|maximum of|up to|within|under|"
    r"fewer than|less than)\s+(\d+)\s+words\b",
    re.IGNORECASE,
)
MIN_WORDS = re.compile(
    r"\b(?:at least|no fewer than|no less than|minimum of)\s+(\d+)\s+words\b",
    re.IGNORECASE,
)
MAX_SENTENCES = re.compile(
    r"\b(?:at most|no more than|up to|in)\s+(\d+)\s+sentences?\b", re.IGNORECASE
)
MUST_MENTION = re.compile(
    r"\bmust\s+(?:mention|include|contain|name|use|cite)\s+(?:the\s+words?\s+)?"
    r"(.+?)(?:[.;\n]|$)",
    re.IGNORECASE,
)
WANTS_JSON = re.compile(r"\b(?:valid|as|in)\s+json\b", re.IGNORECASE)


def is_review_schema(schema: dict[str, Any]) -> bool:
    """An output with a verdict that can pass or ask for a revision."""
    root = resolve(schema, schema)
    for node in root.get("properties", {}).values():
        chosen, _nullable = non_null(resolve(node, schema), schema)
        values = {str(value).lower() for value in chosen.get("enum", [])}
        if "pass" in values and values & {"revise", "fail", "reject"}:
            return True
    return False


def split_task(text: str) -> tuple[str, str]:
    """The task and the work, from the evaluator loop's review request."""
    parts = WORK.split(text, maxsplit=1)
    if len(parts) == 2:
        return parts[0].removeprefix("Task:").strip(), parts[1].strip()
    return "", text.strip()


QUOTES = " \"'\u201c\u201d\u2018\u2019"


def _terms(phrase: str) -> list[str]:
    terms = re.split(r",|\band\b|\bor\b", phrase)
    return [term.strip(QUOTES) for term in terms if term.strip(QUOTES)]


def _mentions(work: str, term: str) -> bool:
    pattern = rf"(?<!\w){re.escape(term)}(?!\w)"
    return re.search(pattern, work, re.IGNORECASE) is not None


def _is_json(work: str) -> bool:
    fenced = re.sub(r"^```(?:json)?\s*|\s*```$", "", work.strip())
    try:
        json.loads(fenced)
    except json.JSONDecodeError:
        return False
    return True


def check(*, task: str, work: str, rules: str) -> list[str]:
    """What fails; an empty list when every check passes."""
    if not work:
        return ["the work is empty"]
    if REFUSAL in work:
        return ["the work is not an answer: the offline model could not write it"]
    failures = []
    words = len(re.findall(r"\S+", work))
    for kind, limit in MAX_WORDS.findall(rules):
        strict = kind.lower() in ("under", "fewer than", "less than")
        if words > int(limit) or (strict and words == int(limit)):
            failures.append(f"it has {words} words; the task allows {kind} {limit}")
    for limit in MIN_WORDS.findall(rules):
        if words < int(limit):
            failures.append(f"it has {words} words; the task asks for at least {limit}")
    counted = len(re.findall(r"[^.!?]+[.!?]+", work)) or 1
    for limit in MAX_SENTENCES.findall(rules):
        if counted > int(limit):
            failures.append(f"it has {counted} sentences; the limit is {limit}")
    for phrase in MUST_MENTION.findall(rules):
        for term in _terms(phrase):
            if not _mentions(work, term):
                failures.append(f"it does not mention “{term}”")
    if WANTS_JSON.search(rules) and not _is_json(work):
        failures.append("it is not valid JSON")
    return failures


def verdict(text: str, instructions: str | None) -> tuple[str, str]:
    """("pass" or "revise", feedback naming what was checked or what failed)."""
    task, work = split_task(text)
    failures = check(task=task, work=work, rules=f"{task}\n{instructions or ''}")
    if failures:
        return "revise", "Revise: " + "; ".join(failures) + "."
    return "pass", (
        "Passed the checks the offline model can make (not empty, the length "
        "limits and required words the task states); it cannot judge accuracy "
        "or style."
    )
