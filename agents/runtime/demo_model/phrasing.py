"""Everyday arithmetic phrasing rewritten as plain expressions.

Percentages ("12.5% of 640", "what percent is 30 of 120", "640 plus 12.5%")
and units of time ("how many minutes in 3.5 hours", "90 minutes in hours")
become parenthesized expressions the calculator evaluates exactly, so that
``arithmetic.plan_arithmetic`` only has to read operators and numbers.
"""

from __future__ import annotations

import re

NUMBER = r"(\d+(?:\.\d+)?)"
SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
UNIT = r"(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)"
UNIT_NAMES = {"sec": "second", "min": "minute", "hr": "hour"}

PERCENT_PATTERNS = [
    # "what percent is 30 of 120", "what percentage of 120 is 30"
    (
        rf"\bwhat\s+%\s+(?:is\s+)?{NUMBER}\s+(?:is\s+)?(?:of|out\s+of|from)\s+{NUMBER}",
        1,
    ),
    (rf"\bwhat\s+%\s+of\s+{NUMBER}\s+is\s+{NUMBER}", 2),
    # "30 is what percent of 120", "30 as a percentage of 120"
    (rf"{NUMBER}\s+(?:is\s+what|as\s+an?)\s+%\s+(?:of|out\s+of)\s+{NUMBER}", 1),
    (rf"{NUMBER}\s+out\s+of\s+{NUMBER}\s+as\s+an?\s+%", 1),
]


def _share(match: re.Match, order: int) -> str:
    part, whole = match.group(1), match.group(2)
    if order == 2:
        part, whole = whole, part
    return f" ( {part} / {whole} * 100 ) "


def _unit(word: str) -> str:
    word = word.rstrip("s")
    return UNIT_NAMES.get(word, word)


def _conversion(amount: str, from_unit: str, to_unit: str) -> str:
    """``amount`` ``from_unit``s in ``to_unit``s, as an exact expression."""
    source, target = SECONDS[_unit(from_unit)], SECONDS[_unit(to_unit)]
    if source >= target and source % target == 0:
        return f" ( {amount} * {source // target} ) "
    return f" ( {amount} / {target // source} ) "


def rewrite_percentages(text: str) -> str:
    # Amounts of money are numbers: "$80", "80 €".
    text = re.sub(r"[$€£¥]\s*(?=\d)|(?<=\d)\s*[$€£¥]", "", text)
    text = re.sub(r"\s*\bper\s*cent(?:age)?\b|\s*\bpercent(?:age)?\b", "%", text)
    text = re.sub(r"\bwhat%", "what %", text)
    for pattern, order in PERCENT_PATTERNS:
        text = re.sub(pattern, lambda match, o=order: _share(match, o), text)
    # "20% off 80", "80 with 20% off"
    text = re.sub(
        rf"{NUMBER}\s*%\s+off\s+(?:of\s+)?{NUMBER}",
        r" ( \2 * (1 - \1 / 100) ) ",
        text,
    )
    text = re.sub(
        rf"{NUMBER}\s+with\s+{NUMBER}\s*%\s+off",
        r" ( \1 * (1 - \2 / 100) ) ",
        text,
    )
    # "12.5% of 640", "a 15% tip on 80"
    text = re.sub(
        rf"{NUMBER}\s*%\s+(?:[a-z]+\s+)?(?:of|on)\s+{NUMBER}",
        r" ( \1 / 100 * \2 ) ",
        text,
    )
    # "640 plus 12.5%", "increase 50 by 10%", "reduce 80 by 25%"
    text = re.sub(
        rf"{NUMBER}\s*(\+|-|plus|minus)\s*{NUMBER}\s*%",
        lambda m: (
            f" ( {m.group(1)} * (1 {'+' if m.group(2) in '+plus' else '-'} "
            f"{m.group(3)} / 100) ) "
        ),
        text,
    )
    text = re.sub(
        rf"\b(increase|raise|grow|decrease|reduce|lower|cut)\s+{NUMBER}\s+by\s+{NUMBER}\s*%",
        lambda m: (
            f" ( {m.group(2)} * (1 "
            f"{'+' if m.group(1) in ('increase', 'raise', 'grow') else '-'} "
            f"{m.group(3)} / 100) ) "
        ),
        text,
    )
    # Any other "20%" is a fraction; "10 % 3" stays a remainder.
    # "5% of" with nothing after is a question cut short, not 0.05.
    return re.sub(rf"{NUMBER}\s*%(?!\s*\(?\d|\s*of\b)", r" ( \1 / 100 ) ", text)


def rewrite_time_units(text: str) -> str:
    # "how many minutes in 3.5 hours", "seconds in a day", "hours per week"
    text = re.sub(
        rf"(?:\bhow\s+many\s+)?\b{UNIT}\s+(?:are\s+there\s+|are\s+|is\s+)?"
        rf"(?:in|per)\s+(?:{NUMBER}|an?|one)\s+{UNIT}\b",
        lambda m: _conversion(m.group(2) or "1", m.group(3), m.group(1)),
        text,
    )
    # "how many hours is 90 minutes"
    text = re.sub(
        rf"\bhow\s+many\s+{UNIT}\s+(?:is|are|makes?)\s+{NUMBER}\s+{UNIT}\b",
        lambda m: _conversion(m.group(2), m.group(3), m.group(1)),
        text,
    )
    # "90 minutes in hours", "convert 2 hours to minutes"
    return re.sub(
        rf"{NUMBER}\s+{UNIT}\s+(?:in|into|to|as)\s+{UNIT}\b",
        lambda m: _conversion(m.group(1), m.group(2), m.group(3)),
        text,
    )


def rewrite_everyday(text: str) -> str:
    """``text`` (lower case) with percentages and units of time as
    expressions."""
    return rewrite_time_units(rewrite_percentages(text))


ARITHMETIC_HINT = re.compile(
    r"\d\s*(?:[-+*/^%=\u00d7\u00f7x]|\*\*)\s*\(?\d|\d\s*%|"
    r"\b(?:plus|minus|times|multipl\w*|divid\w*|sum|product|"
    r"percent\w*|square\w*|cubed?|root|power|calculate|compute|convert|"
    r"double|triple|halve|half|twice|how\s+many|how\s+much|"
    r"(?:seconds|minutes|hours|days|weeks)\s+(?:in|per|to))\b"
)


WORKED_OUT = re.compile(r"=\s*-?\d")


def already_worked_out(text: str) -> bool:
    """Sums with their results ("12 * 7 = 84"): an earlier answer passed
    on (in a workflow, say), not a question to compute again."""
    return bool(WORKED_OUT.search(text))


def looks_like_arithmetic(text: str) -> bool:
    """A number and an operator or arithmetic word: a sum was asked for."""
    lower = text.lower()
    return bool(re.search(r"\d", lower)) and bool(ARITHMETIC_HINT.search(lower))
