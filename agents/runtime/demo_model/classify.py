"""Classification: an output schema's enum filled by meaning, with a
confidence that means something.

Each category is scored by the cosine similarity of the input to its name
(and its description, when the schema gives one, or else what such a
category usually covers, for common names), plus a bonus when the
input names it. "Other" (or "none", "unknown"…) is not embedded: it stands at
a fixed similarity, ``NOTHING_MATCHES``, so an input close to no category
falls to it. The confidence is the chosen category's share of a softmax over
those scores: a clear match is well above a router's default threshold of
0.5, a toss-up near it, and an unrelated input leaves every category low.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from agents.runtime.demo_model.meaning import similarities
from agents.runtime.demo_model.schemas import non_null, resolve
from agents.runtime.demo_model.words import content_words

OTHER_NAMES = frozenset(
    [
        "other",
        "others",
        "none",
        "unknown",
        "misc",
        "miscellaneous",
        "general",
        "default",
        "unclassified",
        "unsure",
    ]
)
# What common category names cover, for schemas that describe none: a
# category's bare name is a weak embedding ("technical" is far from "the app
# crashes"), its usual contents are not.
GLOSSES = {
    "billing": "payment, invoice, charge, refund, subscription, price",
    "payment": "payment, invoice, charge, card, refund",
    "refund": "refund, money back, return, charged twice",
    "technical": "technical problem: bug, error, crash, not working, broken app",
    "bug": "bug, error, crash, broken, not working",
    "bug report": "bug, error, crash, broken, not working",
    "account": "account, login, sign in, password, profile, email address",
    "shipping": "shipping, delivery, package, parcel, tracking, late order",
    "sales": "sales, pricing, quote for seats, buy a plan, discount",
    "support": "support, help with a problem, not working, how do I",
    "positive": "positive, love it, great, happy, thank you, excellent",
    "negative": "negative, terrible, angry, hate, disappointed, awful",
    "neutral": "neutral, a plain question, information, a fact",
    "feature request": "feature request, it would be great if you added",
    "feedback": "feedback, opinion, suggestion, praise",
    "complaint": "complaint, unhappy, disappointed, bad service",
    "math": "math, arithmetic, numbers, sums, calculation",
    "history": "history, past events, dates, wars, empires, kings",
    "science": "science, physics, chemistry, biology, experiments",
    "spam": "spam, advertising, scam, unsolicited offer",
    "urgent": "urgent, emergency, immediately, outage, down",
}
NOTHING_MATCHES = 0.25
NAMED_BONUS = 0.3
SHARPNESS = 15.0


@dataclass(frozen=True)
class EnumField:
    name: str
    values: list[Any]
    descriptions: dict[Any, str]


def enum_fields(schema: dict[str, Any]) -> list[EnumField]:
    """The top-level properties whose values are a list of strings."""
    root = resolve(schema, schema)
    fields = []
    for name, node in root.get("properties", {}).items():
        chosen, _nullable = non_null(resolve(node, schema), schema)
        descriptions: dict[Any, str] = {}
        values = [value for value in chosen.get("enum", []) if value is not None]
        for key in ("oneOf", "anyOf"):
            for option in resolve(node, schema).get(key, []):
                option = resolve(option, schema)
                if "const" in option and option["const"] is not None:
                    values.append(option["const"])
                    descriptions[option["const"]] = str(option.get("description", ""))
        if values and all(isinstance(value, str) for value in values):
            fields.append(EnumField(name, values, descriptions))
    return fields


def _label(value: str) -> str:
    return re.sub(r"[_\-]+", " ", value).strip()


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    weights = [math.exp(SHARPNESS * (score - top)) for score in scores]
    total = sum(weights)
    return [weight / total for weight in weights]


def classify(text: str, field: EnumField) -> tuple[str, float]:
    """The category for ``text`` and a confidence from 0 to 1."""
    real = [value for value in field.values if value.lower() not in OTHER_NAMES]
    other = next((v for v in field.values if v.lower() in OTHER_NAMES), None)
    if not real:
        return field.values[0], 0.0
    scores = similarities(text, [_label(value) for value in real])
    described = [
        (i, field.descriptions.get(v) or GLOSSES.get(_label(v).lower(), ""))
        for i, v in enumerate(real)
    ]
    described = [(i, text) for i, text in described if text]
    if described:
        extra = similarities(text, [description for _i, description in described])
        for (index, _description), score in zip(described, extra, strict=True):
            scores[index] = max(scores[index], score)
    words = content_words(text)
    for index, value in enumerate(real):
        if content_words(_label(value)) & words:
            scores[index] += NAMED_BONUS
    shares = _softmax([*scores, NOTHING_MATCHES])
    best = max(range(len(real)), key=lambda index: shares[index])
    if shares[best] < shares[-1] and other is not None:
        return other, _rounded(shares[-1])
    return real[best], _rounded(shares[best])


def _rounded(share: float) -> float:
    # A similarity is evidence, not proof: never quite certain.
    return min(round(share, 2), 0.99)


def describe(choices: dict[str, tuple[str, float]]) -> str:
    parts = [
        f"{name}: {value} (confidence {confidence:.2f})"
        for name, (value, confidence) in choices.items()
    ]
    return (
        "Classified by meaning (sentence embeddings), offline: "
        + "; ".join(parts)
        + "."
    )
