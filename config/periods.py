"""Recent time as a window of equal periods (hours or days), for charts.

A window ends with the current period (this hour, today) and holds a fixed
number of them. Reads group rows with the database's truncation of a
timestamp to the same unit in the current time zone (``Trunc``), so every row
falls in exactly one of ``Window.periods`` and a period without rows is still
there, to be shown as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

# What a ``?window=`` may name: the unit of its periods and how many.
WINDOWS: dict[str, tuple[str, int]] = {
    "24h": ("hour", 24),
    "30d": ("day", 30),
}
DEFAULT_WINDOW = "24h"


@dataclass(frozen=True)
class Window:
    key: str
    unit: str  # "hour" or "day", a kind Trunc understands
    # Where each period starts, oldest first; the window is [start, end).
    periods: tuple[datetime, ...]
    end: datetime

    @property
    def start(self) -> datetime:
        return self.periods[0]


def window_for(key: str | None, *, now: datetime | None = None) -> Window:
    """The window ``key`` names, or the default one for anything else (a
    missing, misspelt or hostile value is not an error worth a 400)."""
    if key not in WINDOWS:
        key = DEFAULT_WINDOW
    unit, count = WINDOWS[key]
    now = now or timezone.now()
    if unit == "hour":
        # The hour starts where the time zone's clock says (as Trunc sees
        # it), then steps go in UTC: wall-clock arithmetic across a DST
        # change would skip or repeat an hour.
        local = timezone.localtime(now)
        last = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        step = timedelta(hours=1)
        periods = tuple(last - step * back for back in range(count - 1, -1, -1))
        return Window(key=key, unit=unit, periods=periods, end=last + step)
    today = timezone.localdate(now)
    days = [today - timedelta(days=back) for back in range(count - 1, -1, -1)]
    periods = tuple(timezone.make_aware(datetime.combine(d, time.min)) for d in days)
    end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
    return Window(key=key, unit=unit, periods=periods, end=end)


def fill_periods(
    window: Window, rows: dict[datetime, dict], zeros: dict[str, int]
) -> list[dict]:
    """One dict per period of ``window``, oldest first: the row found for it
    in ``rows`` (keyed by period start) or ``zeros``."""
    return [
        {"period": start, **zeros, **rows.get(start, {})} for start in window.periods
    ]
