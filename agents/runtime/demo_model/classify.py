"""Classification: an output schema's enum filled by meaning, with a
confidence that means something.

Each category is scored by the cosine similarity of the input to its name
(and its description, when the schema gives one), plus a bonus when the
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
NOTHING_MATCHES = 0.15
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
    described = [(i, field.descriptions.get(v, "")) for i, v in enumerate(real)]
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
        return other, round(shares[-1], 2)
    return real[best], round(shares[best], 2)


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
