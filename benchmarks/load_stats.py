"""The arithmetic of `benchmarks.load`: per-stage summaries of timed samples,
the knee, and the markdown table. Plain Python, tested without a server
(tests/config/test_load_stats.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# What a person waits for, by kind.
KINDS = ("page", "post", "run")
# The knee is the site's answer time: pages and the POST that starts a run.
# How long a run takes is its model's (well under a second offline, seconds
# with a real one) plus the worker's queue, reported beside it.
KNEE_KINDS = ("page", "post")
KIND_LABELS = {
    "page": "page",
    "post": "API POST",
    "run": "run start → finish",
}


@dataclass(frozen=True)
class Sample:
    """One thing a virtual person did: when it started and ended (seconds on
    the stage's clock), and whether it went as it should."""

    kind: str
    started: float
    ended: float
    ok: bool = True

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Stage:
    users: int
    window: float  # the seconds new actions were started in
    requests_per_second: float
    runs_per_second: float
    # kind -> (p50, p95, p99) in seconds, over the kind's successful samples
    latency: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    actions: int = 0

    def worst_p95(self, kinds=KNEE_KINDS) -> float:
        """The highest p95 over ``kinds`` (those measured); 0 when none was."""
        return max(
            (self.latency[kind][1] for kind in kinds if kind in self.latency),
            default=0.0,
        )

    @property
    def error_rate(self) -> float:
        return self.errors / self.actions if self.actions else 0.0


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least
    ``fraction`` of the values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    # Rounded first: 0.95 * 100 is 95.00000000000001 in floating point.
    rank = max(1, math.ceil(round(fraction * len(ordered), 9)))
    return ordered[rank - 1]


def summarize(users: int, window: float, samples: list[Sample]) -> Stage:
    """A stage's figures. Throughput counts what finished inside the window
    (the stage's steady state); latencies cover every action started in it,
    including those that finished while the stage drained, so that slow
    answers at the end are not left out."""
    finished_in_window = [s for s in samples if s.ok and s.ended <= window]
    requests = sum(1 for s in finished_in_window if s.kind in ("page", "post"))
    runs = sum(1 for s in finished_in_window if s.kind == "run")
    stage = Stage(
        users=users,
        window=window,
        requests_per_second=requests / window,
        runs_per_second=runs / window,
        errors=sum(1 for s in samples if not s.ok),
        actions=len(samples),
    )
    for kind in KINDS:
        times = [s.seconds for s in samples if s.kind == kind and s.ok]
        stage.counts[kind] = len(times)
        if times:
            stage.latency[kind] = (
                percentile(times, 0.50),
                percentile(times, 0.95),
                percentile(times, 0.99),
            )
    return stage


def passes(
    stage: Stage, *, limit: float, max_error_rate: float, kinds=KNEE_KINDS
) -> bool:
    """Every p95 of ``kinds`` under the limit, and (nearly) nothing failed: a
    site that answers fast with errors has not kept up."""
    return (
        any(kind in stage.latency for kind in kinds)
        and stage.worst_p95(kinds) < limit
        and stage.error_rate <= max_error_rate
    )


def knee(
    stages: list[Stage],
    *,
    limit: float = 1.0,
    max_error_rate: float = 0.01,
    kinds=KNEE_KINDS,
) -> tuple[Stage | None, Stage | None]:
    """(the passing stage with the highest throughput, the first stage, in
    the order run, that does not pass); either may be None. Throughput is
    requests per second, or runs per second when only runs are judged."""

    def ok(stage: Stage) -> bool:
        return passes(stage, limit=limit, max_error_rate=max_error_rate, kinds=kinds)

    def throughput(stage: Stage) -> float:
        if set(kinds) == {"run"}:
            return stage.runs_per_second
        return stage.requests_per_second

    passing = [stage for stage in stages if ok(stage)]
    best = max(passing, key=throughput, default=None)
    first_over = next((stage for stage in stages if not ok(stage)), None)
    return best, first_over


def _milliseconds(stage: Stage, kind: str) -> str:
    if kind not in stage.latency:
        return "-"
    return " / ".join(f"{value * 1000:.0f}" for value in stage.latency[kind])


def table(stages: list[Stage]) -> str:
    """The stages as a markdown table, latencies in ms as p50 / p95 / p99."""
    header = (
        ["users", "requests/s", "runs/s"]
        + [f"{KIND_LABELS[kind]} ms p50 / p95 / p99" for kind in KINDS]
        + ["errors"]
    )
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for stage in stages:
        cells = [
            str(stage.users),
            f"{stage.requests_per_second:.1f}",
            f"{stage.runs_per_second:.2f}",
            *(_milliseconds(stage, kind) for kind in KINDS),
            f"{stage.errors} of {stage.actions}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _people(count: int) -> str:
    return f"{count} user" if count == 1 else f"{count} users"


def knee_sentence(
    stages: list[Stage], *, limit: float = 1.0, kinds=KNEE_KINDS, what: str = "Knee"
) -> str:
    """The knee in words: for the pages and API POSTs by default, or for the
    runs with ``kinds=("run",)``."""
    best, first_over = knee(stages, limit=limit, kinds=kinds)
    labels = " and ".join(KIND_LABELS[kind] for kind in kinds)
    if best is None:
        parts = [f"{what}: no stage kept the p95 of {labels} under {limit:g} s."]
    else:
        parts = [
            f"{what}: {_people(best.users)}, {best.requests_per_second:.1f} "
            f"requests/s and {best.runs_per_second:.2f} runs/s with the p95 of "
            f"{labels} under {limit:g} s "
            f"(highest {best.worst_p95(kinds) * 1000:.0f} ms)."
        ]
    if first_over is None:
        parts.append(f"No stage went over {limit:g} s.")
    else:
        if not any(kind in first_over.latency for kind in kinds):
            reason = "nothing finished"
        elif first_over.worst_p95(kinds) >= limit:
            reason = f"p95 {first_over.worst_p95(kinds) * 1000:.0f} ms"
        else:
            reason = f"{first_over.errors} errors of {first_over.actions}"
        parts.append(
            f"First stage over: {_people(first_over.users)} "
            f"({first_over.requests_per_second:.1f} requests/s, {reason})."
        )
    return " ".join(parts)
