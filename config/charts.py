"""The geometry of server-rendered SVG bar charts (no library, no script).

``bar_chart`` turns one row per period into rectangles in a fixed ``viewBox``;
a template draws them (admin/dashboard/_bar_chart.html), so the page works
under a strict Content-Security-Policy and without JavaScript. Values are
integers (counts, milli-credits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The viewBox, and the margins around the plot that hold the axis labels.
WIDTH = 720
HEIGHT = 220
LEFT = 56
RIGHT = 8
TOP = 10
BOTTOM = 26
# The most horizontal grid lines above zero.
MAX_TICKS = 4


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str


def nice_step(peak: int, *, ticks: int = MAX_TICKS) -> int:
    """A step of 1, 2 or 5 times a power of ten that reaches ``peak`` in at
    most ``ticks`` steps (at least 1: the values are integers)."""
    if peak <= 0:
        return 1
    raw = peak / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return max(int(step), 1)


def _round(value: float) -> float:
    return round(value, 2)


def bar_chart(
    rows: list[dict], series: list[Series], *, stacked: bool, label_every: int = 1
) -> dict:
    """Bars for ``rows`` (each with a ``period`` and a value per series key).

    Stacked: one bar per period made of the series on top of each other.
    Otherwise the series stand side by side. Every period has its slot, so
    an empty one shows as a gap; a value too small to see still gets one
    unit of height. ``label_every`` spaces the period labels on the x axis.
    """
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(len(rows), 1)
    if stacked:
        peak = max((sum(row[s.key] for s in series) for row in rows), default=0)
    else:
        peak = max((row[s.key] for row in rows for s in series), default=0)
    step = nice_step(peak)
    top = step * max(math.ceil(peak / step), 1)
    scale = plot_height / top

    def height(value: int) -> float:
        return max(value * scale, 1.0) if value > 0 else 0.0

    columns = []
    for index, row in enumerate(rows):
        left = LEFT + index * slot
        bars = []
        if stacked:
            width, y = slot * 0.7, float(baseline)
            for s in series:
                size = height(row[s.key])
                if size:
                    y -= size
                    bars.append((s, left + slot * 0.15, y, width, size))
        else:
            width = slot * 0.8 / len(series)
            for position, s in enumerate(series):
                size = height(row[s.key])
                if size:
                    x = left + slot * 0.1 + position * width
                    bars.append((s, x, baseline - size, width, size))
        columns.append(
            {
                "period": row["period"],
                "x": _round(left),
                "width": _round(slot),
                "center": _round(left + slot / 2),
                "labelled": index % label_every == 0,
                "values": [{"label": s.label, "value": row[s.key]} for s in series],
                "bars": [
                    {
                        "label": s.label,
                        "color": s.color,
                        "value": row[s.key],
                        "x": _round(x),
                        "y": _round(y),
                        "width": _round(width),
                        "height": _round(size),
                    }
                    for s, x, y, width, size in bars
                ],
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "plot_height": plot_height,
        "baseline": baseline,
        "label_y": baseline + 16,
        "series": series,
        "columns": columns,
        "y_ticks": [
            {"value": value, "y": _round(baseline - value * scale)}
            for value in range(0, top + 1, step)
        ],
    }
