"""The ``current_time`` tool: the time now in an IANA time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agents.tools.registry import BuiltinTool, ToolInputError, register

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "timezone": {
            "type": ["string", "null"],
            "description": "An IANA time zone such as Europe/Paris; null for UTC.",
        },
    },
    "required": ["timezone"],
    "additionalProperties": False,
}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    # A malformed key (an absolute path, "..") is a ValueError, not a miss.
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolInputError(
            f"Unknown time zone {name!r}. Use an IANA name such as "
            "'Europe/Paris', 'America/New_York' or 'UTC'."
        ) from None


def _now(zone: ZoneInfo) -> datetime:
    return datetime.now(zone)


def current_time(arguments: dict[str, Any]) -> str:
    """The current time as ISO 8601, followed by the zone's name."""
    name = arguments.get("timezone")
    if name is None or (isinstance(name, str) and not name.strip()):
        name = "UTC"
    if not isinstance(name, str):
        raise ToolInputError("timezone must be a string such as 'Europe/Paris'.")
    zone = _zone(name.strip())
    now = _now(zone).replace(microsecond=0)
    return f"{now.isoformat()} {zone.key} ({now.tzname()})"


clock = register(
    BuiltinTool(
        name="current_time",
        description=(
            "The current date and time in an IANA time zone (UTC by default)."
        ),
        parameters=PARAMETERS,
        handler=current_time,
    )
)
