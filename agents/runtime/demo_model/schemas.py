"""Values that fit a JSON schema: tool arguments built from the user's words
(``ArgumentBuilder``) and structured answers (``fill_output``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from agents.runtime.demo_model.words import find_time_zone, numbers_in


def resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        reference = schema["$ref"]
        target: Any = root
        for part in reference.lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _variants(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a schema, each with a single (or no) type."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            variants = []
            for option in schema[key]:
                variants.extend(_variants(resolve(option, root), root))
            return variants
    if "allOf" in schema and len(schema["allOf"]) == 1:
        merged = {**schema, **resolve(schema["allOf"][0], root)}
        merged.pop("allOf")
        return _variants(merged, root)
    types = schema.get("type")
    if isinstance(types, list):
        return [{**schema, "type": kind} for kind in types]
    if types is None and "properties" in schema:
        return [{**schema, "type": "object"}]
    return [schema]


def non_null(schema: dict[str, Any], root: dict[str, Any]) -> tuple[dict, bool]:
    variants = _variants(schema, root)
    nullable = any(variant.get("type") == "null" for variant in variants)
    enum = schema.get("enum")
    if isinstance(enum, list) and None in enum:
        nullable = True
    chosen = next((v for v in variants if v.get("type") != "null"), {"type": "null"})
    return chosen, nullable


def _clamp(value: int | float, schema: dict[str, Any]) -> int | float:
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        value = schema["exclusiveMinimum"] + 1
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - 1
    return value


def _fit_string(text: str, schema: dict[str, Any]) -> str:
    maximum = schema.get("maxLength")
    if isinstance(maximum, int) and len(text) > maximum:
        text = text[:maximum]
    minimum = schema.get("minLength")
    if isinstance(minimum, int) and len(text) < minimum:
        text = text.ljust(minimum, ".")
    return text


def _formatted_string(schema: dict[str, Any]) -> str | None:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "date-time": now.isoformat(),
        "date": now.date().isoformat(),
        "time": now.time().isoformat() + "Z",
        "email": "demo@example.com",
        "uri": "https://example.com/",
        "uuid": "00000000-0000-4000-8000-000000000000",
    }.get(str(schema.get("format")))


def _array_length(schema: dict[str, Any], default: int) -> int:
    length = max(schema.get("minItems", 0), default)
    if "maxItems" in schema:
        length = min(length, schema["maxItems"])
    return length


QUERY_NAMES = {"query", "q", "question", "search", "text", "input", "prompt", "request"}
ZONE_NAMES = {"timezone", "time_zone", "tz", "zone", "tzname", "iana_timezone"}


class ArgumentBuilder:
    """Tool arguments from the tool's JSON schema and the user's words."""

    def __init__(self, text: str, overrides: dict[str, Any] | None = None) -> None:
        self.text = text
        self.overrides = overrides or {}
        self._numbers = iter(numbers_in(text))
        self._lower = text.lower()
        quoted = re.search(r"[\"“']([^\"”']{2,})[\"”']", text)
        self._string = quoted.group(1) if quoted else text

    def build(self, schema: dict[str, Any]) -> dict[str, Any]:
        value = self._value(schema, schema, name="", top=True)
        return value if isinstance(value, dict) else {}

    def _value(self, schema: Any, root: dict, *, name: str, top: bool = False) -> Any:
        chosen, nullable = non_null(resolve(schema, root), root)
        if "const" in chosen:
            return chosen["const"]
        enum = [value for value in chosen.get("enum", []) if value is not None]
        if enum:
            for value in enum:
                if re.search(rf"\b{re.escape(str(value).lower())}\b", self._lower):
                    return value
            return enum[0]
        kind = chosen.get("type")
        if kind == "object":
            properties = chosen.get("properties", {})
            result = {}
            for key, subschema in properties.items():
                if top and key in self.overrides:
                    result[key] = self.overrides[key]
                else:
                    result[key] = self._value(subschema, root, name=key)
            return result
        if kind == "array":
            count = _array_length(chosen, 0)
            return [
                self._value(chosen.get("items", {}), root, name=name)
                for _ in range(count)
            ]
        if kind in ("number", "integer"):
            number = next(self._numbers, None)
            if number is None:
                return None if nullable else _clamp(0, chosen)
            number = _clamp(number, chosen)
            return round(number) if kind == "integer" else number
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        if name.lower() in ZONE_NAMES or "timezone" in name.lower():
            zone = find_time_zone(self.text)
            if zone is None:
                return None if nullable else "UTC"
            return zone
        if name.lower() in QUERY_NAMES:
            return _fit_string(self.text, chosen)
        return _fit_string(self._string, chosen)


def fill_output(
    schema: dict[str, Any],
    *,
    answer: str,
    question: str,
    number: int | float,
    fields: dict[str, Any] | None = None,
) -> Any:
    """A value valid against ``schema``: the answer in strings, ``number`` in
    numbers, enums at the first value the question names (else the first),
    one item in arrays. A ``confidence`` from 0 to 1 is high when an enum
    value was named, low when it was not: a classifier's answer."""
    lower = question.lower()
    fields = fields or {}
    named: list[bool] = []

    def value(node: Any, name: str) -> Any:
        chosen, _nullable = non_null(resolve(node, schema), schema)
        if "const" in chosen:
            return chosen["const"]
        enum = [item for item in chosen.get("enum", []) if item is not None]
        if enum:
            for item in enum:
                if re.search(rf"\b{re.escape(str(item).lower())}\b", lower):
                    named.append(True)
                    return item
            named.append(False)
            return enum[0]
        kind = chosen.get("type")
        if (
            kind == "number"
            and name.lower() == "confidence"
            and chosen.get("maximum", 2) <= 1
        ):
            return 0.9 if any(named) else 0.3
        if kind == "object":
            given = fields if node is schema else {}
            return {
                key: given[key] if key in given else value(subschema, key)
                for key, subschema in chosen.get("properties", {}).items()
            }
        if kind == "array":
            count = _array_length(chosen, 1)
            return [value(chosen.get("items", {}), name) for _ in range(count)]
        if kind == "integer":
            return round(_clamp(number, chosen))
        if kind == "number":
            return _clamp(number, chosen)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        formatted = _formatted_string(chosen)
        if formatted is not None:
            return formatted
        if name.lower() in QUERY_NAMES:
            return _fit_string(question, chosen)
        return _fit_string(answer, chosen)

    return value(schema, "")
