"""Words, numbers and time zones in the user's text."""

from __future__ import annotations

import functools
import math
import re
from zoneinfo import available_timezones

from agents.runtime.demo_model.constants import QUESTION_STARTS, STOP_WORDS


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """Lower-cased, lightly stemmed words of ``text``, without stop-words."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))
    stems = {_stem(word) for word in words if word not in STOP_WORDS}
    return stems - STOP_WORDS


def is_question(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower())
    return text.rstrip().endswith("?") or bool(words and words[0] in QUESTION_STARTS)


def numbers_in(text: str) -> list[int | float]:
    found = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", text.replace(",", ""))
    return [float(number) if "." in number else int(number) for number in found]


def parse_number(text: str | None) -> int | float | None:
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def first_sentence(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    sentence = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0] if text else ""
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Time zones


@functools.cache
def _time_zones() -> tuple[dict[str, str], dict[str, str]]:
    """IANA names by their lower-case form, and by their lower-case city."""
    by_name: dict[str, str] = {}
    by_city: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        by_name[zone.lower()] = zone
        if "/" in zone and not zone.startswith("Etc/"):
            by_city.setdefault(zone.rsplit("/", 1)[1].lower(), zone)
    return by_name, by_city


def find_time_zone(text: str) -> str | None:
    """An IANA zone named in ``text`` ("Europe/Paris", "UTC", or "Paris")."""
    by_name, by_city = _time_zones()
    for token in re.findall(r"[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+|\b[A-Za-z]{3}\b", text):
        if "/" in token or token.upper() in {"UTC", "GMT"}:
            zone = by_name.get(token.lower())
            if zone:
                return zone
    # City names are matched only when capitalised, so that everyday words
    # ("Center", "Mountain") in lower case are not taken for places.
    for run in re.findall(r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*", text):
        words = run.split()
        for size in range(len(words), 0, -1):
            for start in range(len(words) - size + 1):
                key = "_".join(words[start : start + size]).lower()
                if key in by_city:
                    return by_city[key]
    return None
