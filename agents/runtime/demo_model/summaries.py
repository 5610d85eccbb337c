"""Extractive summaries: the most central sentences of a text, by meaning.

A request ("Summarize: …", "TL;DR …", "summarize this in 2 sentences",
"give me 3 bullet points") names the length; the sentences closest to the
centroid of all the text's sentence embeddings are kept, in their order.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from agents.runtime.demo_model.meaning import most_central, sentences

COMMAND = re.compile(
    r"\b(?:summari[sz]e|summary|summari[sz]ing|sum\s+up|tl;?\s*dr|tldr|"
    r"key\s+points|bullet\s+points?|main\s+points|the\s+gist|condense)\b",
    re.IGNORECASE,
)
NUMBER_WORDS = {
    "one": 1, "a": 1, "single": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
LENGTH = re.compile(
    r"\b(\d+|one|a|single|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(?:short\s+|key\s+|main\s+)?(sentences?|bullets?|bullet\s+points?|points?|lines?)\b",
    re.IGNORECASE,
)
DEFAULT_SENTENCES = 3
LONG_TEXT = 15  # sentences; longer texts are cut to about a fifth
MAX_SENTENCES = 10
# The request itself, before the text: "Summarize this in 2 sentences:".
LEAD = re.compile(
    r"^[^\n:.]*?\b(?:summari[sz]e|summary|sum\s+up|tl;?\s*dr|tldr|key\s+points|"
    r"bullet\s+points?|main\s+points|the\s+gist|condense)\b[^\n:.]*(?::|\.|\n|$)",
    re.IGNORECASE,
)


HEADING = re.compile(
    r"In short \(the \d+ most central (?:sentence|point)s?, quoted as written\):"
)


@dataclass(frozen=True)
class SummaryRequest:
    text: str  # what to summarize; empty when the request pasted none
    count: int | None  # sentences or bullets asked for
    bullets: bool


def is_summary_request(text: str) -> bool:
    return bool(COMMAND.search(text))


def read_request(text: str) -> SummaryRequest:
    """The pasted text and the length asked for."""
    # The request comes before the text or after it.
    request = f"{text[:300]}\n{text[-120:]}"
    match = LENGTH.search(request)
    count = None
    bullets = bool(re.search(r"\bbullets?\b|\bpoints\b", request, re.IGNORECASE))
    if match:
        word = match.group(1).lower()
        count = int(word) if word.isdigit() else NUMBER_WORDS[word]
        bullets = bullets or not match.group(2).lower().startswith(("sentence", "line"))
    body = text
    lead = LEAD.match(text)
    if lead:
        body = text[lead.end() :]
    # The request after the text: "… Summarize this in 2 sentences."
    parts = sentences(body)
    if len(parts) > 1 and COMMAND.search(parts[-1]) and len(parts[-1]) < 80:
        body = body[: body.rfind(parts[-1])]
    if len(re.findall(r"[A-Za-z]+", body)) < 6:
        body = ""
    return SummaryRequest(text=body.strip(), count=count, bullets=bullets)


def wanted_length(count: int | None, available: int) -> int:
    if count is not None:
        return max(1, min(count, MAX_SENTENCES))
    if available > LONG_TEXT:
        return min(MAX_SENTENCES, math.ceil(available / 5))
    return DEFAULT_SENTENCES


def summarize(text: str, *, count: int | None = None, bullets: bool = False) -> str:
    """The summary of ``text`` as prose or bullets; empty if it has no words."""
    # A summary's own heading (a workflow may summarize a summary) is not
    # part of what it says, and a sentence said twice counts once.
    found = sentences(HEADING.sub(" ", text))
    if not found:
        return ""
    kept = most_central(found, wanted_length(count, len(set(found))))
    if bullets:
        return "\n".join(f"- {sentence}" for sentence in kept)
    return " ".join(_ended(sentence) for sentence in kept)


def _ended(sentence: str) -> str:
    if sentence.endswith(";"):
        sentence = sentence[:-1]
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def describe(kept: str, *, bullets: bool) -> str:
    count = kept.count("\n") + 1 if bullets else len(sentences(kept))
    unit = "point" if bullets else "sentence"
    plural = "" if count == 1 else "s"
    # Worded so that passing it on (in a workflow) asks for no new summary.
    return f"In short (the {count} most central {unit}{plural}, quoted as written):"
