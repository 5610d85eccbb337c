"""Answers from the ``file_search`` tool's passages: the best ones quoted,
each with its file, page and heading; or plainly that nothing matched.

The tool's hybrid search returns its nearest passages even when none is
about the question, so relevance is decided here from the vector score (the
cosine similarity of question and passage) with a lower bar for passages
that also share the question's words.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agents.runtime.demo_model.constants import (
    MAX_PASSAGE_CHARACTERS,
    MAX_QUOTED_PASSAGES,
    QUESTION_STARTS,
    STOP_WORDS,
)
from agents.runtime.demo_model.meaning import closest, sentences, similarities
from agents.runtime.demo_model.words import shorten

RELEVANT = 0.35  # cosine similarity that alone makes a passage relevant
RELEVANT_WITH_WORDS = 0.25  # when the passage also contains the words
QUOTED_SENTENCES = 2
# Words a question leaves in its topic, but which say nothing about it.
FILLER = frozenset(
    [
        "we",
        "i",
        "our",
        "us",
        "get",
        "got",
        "much",
        "many",
        "says",
        "say",
        "file",
        "files",
    ]
)


def read_passages(output: str | None) -> tuple[list[dict[str, Any]], str] | None:
    """The tool's passages and its explanation when it found none; ``None``
    when the output is not the tool's JSON."""
    try:
        data = json.loads(output or "")
    except (json.JSONDecodeError, TypeError):
        return None
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)], ""
    if not isinstance(data, dict):
        return None
    items = data.get("results", data.get("data"))
    if not isinstance(items, list):
        return None
    passages = [item for item in items if isinstance(item, dict)]
    # "no_match" is said in the answer's own words; the others explain why
    # there was nothing to search.
    if data.get("reason") in ("no_files", "none_ready"):
        return passages, str(data.get("explanation") or "")
    return passages, ""


def topic(question: str) -> str:
    """The words of a question that say what it is about."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'\u2019-]*", question)
    kept = [
        word
        for word in words
        if word.lower() not in STOP_WORDS
        and word.lower() not in QUESTION_STARTS
        and word.lower() not in FILLER
    ]
    return " ".join(kept) or shorten(question, 80)


def relevant(question: str, passages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The passages about the question, best first."""
    texts = [str(passage.get("text", "")) for passage in passages]
    given = [passage.get("vector_score") for passage in passages]
    if all(isinstance(score, int | float) for score in given):
        own = [float(score) for score in given]
    else:
        own = similarities(question, texts)
    scores = []
    for passage, score in zip(passages, own, strict=True):
        shares_words = passage.get("keyword_rank") is not None
        bar = RELEVANT_WITH_WORDS if shares_words else RELEVANT
        if score >= bar:
            scores.append((score, passage))
    scores.sort(key=lambda pair: -pair[0])
    return [passage for _score, passage in scores]


def _score(passage: dict[str, Any]) -> float:
    score = passage.get("vector_score")
    return float(score) if isinstance(score, int | float) else 0.0


def citation(passage: dict[str, Any]) -> str:
    source = str(passage.get("source") or passage.get("file") or "")
    source = source or str(passage.get("filename") or "an unnamed file")
    heading = str(passage.get("heading") or "").strip()
    return f"{source}, section “{heading}”" if heading else source


def _quote(question: str, passage: dict[str, Any]) -> str:
    text = str(passage.get("text", "")).strip()
    # The heading is cited, not quoted.
    heading = str(passage.get("heading") or "").strip()
    if heading and text.lstrip("# ").startswith(heading):
        text = text.lstrip("# ")[len(heading) :]
    found = sentences(text, semicolons=False)
    best = " ".join(closest(question, found, QUOTED_SENTENCES))
    return shorten(best, MAX_PASSAGE_CHARACTERS)


def answer_from_passages(question: str, output: str | None) -> str:
    if output is None:
        return f"I searched your files for {question!r} but the search gave no result."
    read = read_passages(output)
    if read is None:
        return f'The file search returned: "{shorten(output, 600)}"'
    passages, explanation = read
    about = topic(question)
    found = relevant(question, passages) if passages else []
    if not found:
        answer = f"Nothing in your files about {about}."
        return f"{answer} {explanation}".strip() if explanation else answer
    best, *others = found[:MAX_QUOTED_PASSAGES]
    # Others only when nearly as close as the best: sharing a common word
    # ("days") with the question is not being about it.
    others = [p for p in others if _score(p) >= max(RELEVANT, 0.85 * _score(best))]
    lines = [f"From {citation(best)}:", f"“{_quote(question, best)}”"]
    if others:
        lines.append("Also relevant:")
        lines.extend(
            f"- {citation(passage)}: “{_quote(question, passage)}”"
            for passage in others
        )
    return "\n".join(lines)
