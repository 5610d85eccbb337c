"""Reads of what a user's runs cost lately: per day, per agent and per model.

Amounts are milli-credits spent (positive), over a window of whole days that
ends today in the current time zone. A user sees only their own spending:
every read starts from their account's ``run_charge`` entries or the steps of
runs they started (who starts a run pays for it).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, TextField, Value
from django.db.models.fields.json import KT, KeyTextTransform
from django.db.models.functions import Coalesce, Concat, NullIf, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import EntryKind, LedgerEntry

DEFAULT_DAYS = 30
MAX_DAYS = 366
# What a run's steps are charged at when its definition names no model.
DEFAULT_MODEL = "local/demo"


def usage_window(
    *, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> tuple[date, date, datetime, datetime]:
    """The first and last day of the window, and its bounds as datetimes
    (start inclusive, end exclusive)."""
    days = max(1, min(int(days), MAX_DAYS))
    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
    return first, today, start, end


def _run_charges(*, user, start: datetime, end: datetime) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(
        account__user=user,
        kind=EntryKind.RUN_CHARGE,
        created_at__gte=start,
        created_at__lt=end,
    )


def _spent_by_day_and_agent(*, user, start: datetime, end: datetime) -> list[dict]:
    """One row per day and agent with charges: the one query both the per-day
    and the per-agent figures are summed from."""
    return [
        {
            "day": row["day"],
            "agent_id": row["run__agent_id"],
            # A workflow's runs count under the workflow.
            "workflow_id": row["run__workflow_run__workflow_id"],
            "name": row["run__agent__name"]
            or (
                _("%(name)s (workflow)") % {"name": row["workflow_name"]}
                if row["workflow_name"]
                else None
            ),
            "milli": -row["amount"],
        }
        for row in _run_charges(user=user, start=start, end=end)
        .annotate(
            day=TruncDate("created_at"),
            workflow_name=F("run__workflow_run__workflow__name"),
        )
        .values(
            "day",
            "run__agent_id",
            "run__agent__name",
            "run__workflow_run__workflow_id",
            "workflow_name",
        )
        .annotate(amount=Sum("amount"))
        .order_by()
    ]


def _shares(rows: list[dict], total: int) -> list[dict]:
    """Each row's part of ``total`` in percent, with one decimal."""
    for row in rows:
        row["share"] = round(100 * row["milli"] / total, 1) if total > 0 else 0.0
    return rows


def _per_day(spent: list[dict], *, first: date, last: date) -> list[dict]:
    totals: dict[date, int] = {}
    for row in spent:
        totals[row["day"]] = totals.get(row["day"], 0) + row["milli"]
    days = (last - first).days + 1
    return [
        {"date": day, "milli": totals.get(day, 0)}
        for day in (first + timedelta(days=offset) for offset in range(days))
    ]


def _per_agent(spent: list[dict]) -> list[dict]:
    totals: dict[tuple, dict] = {}
    for row in spent:
        agent = totals.setdefault(
            (row["agent_id"], row["workflow_id"]),
            {
                "agent_id": row["agent_id"],
                "workflow_id": row["workflow_id"],
                "name": row["name"],
                "milli": 0,
            },
        )
        agent["milli"] += row["milli"]
    rows = sorted(totals.values(), key=lambda row: (-row["milli"], row["name"] or ""))
    return _shares(rows, sum(row["milli"] for row in rows))


def usage_by_day(
    *, user, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> list[dict]:
    """Credits spent on runs each day, oldest first, every day of the window
    (a day without runs is a zero): ``[{"date": date, "milli": int}, ...]``."""
    first, last, start, end = usage_window(days=days, now=now)
    spent = _spent_by_day_and_agent(user=user, start=start, end=end)
    return _per_day(spent, first=first, last=last)


def usage_by_agent(
    *, user, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> list[dict]:
    """Credits spent per agent, most first, with each one's share of the total
    in percent: ``[{"agent_id", "name", "milli", "share"}, ...]``.

    From the ledger, so the rows add up to what the balance lost. Charges whose
    run was deleted since (with its agent, or on its own) are one row whose
    ``agent_id`` is None.
    """
    _first, _last, start, end = usage_window(days=days, now=now)
    return _per_agent(_spent_by_day_and_agent(user=user, start=start, end=end))


def _step_model():
    """The model whose turn a step belongs to, as the run's meter priced it
    (agents.services.runs._Meter): a nested agent's steps name their model;
    after a ``fallback`` step the fallback model; else the version's model."""
    from agents.models import RunStep, StepType

    fallback_to = (
        RunStep.objects.filter(
            run_id=OuterRef("run_id"),
            type=StepType.FALLBACK,
            order__lt=OuterRef("order"),
        )
        .order_by("-order")
        .annotate(to=KT("payload__to"))
        .values("to")[:1]
    )
    text = TextField()
    return Coalesce(
        NullIf(KT("payload__model"), Value(""), output_field=text),
        NullIf(Subquery(fallback_to), Value(""), output_field=text),
        NullIf(
            KeyTextTransform("model", "run__version__definition"),
            Value(""),
            output_field=text,
        ),
        Value(DEFAULT_MODEL),
        output_field=text,
    )


def usage_by_model(
    *,
    user,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
    total: int | None = None,
) -> list[dict]:
    """Credits spent per model, most first, with each one's share of the total
    in percent: ``[{"model", "name", "milli", "share"}, ...]``.

    Counted from the steps, not the runs: each step's ``cost`` is exactly what
    its ledger entry charged, and a step knows its model, so a run that fell
    back to another model, or asked an agent on another model as a tool, is
    split between them. A tool call's price counts towards the model that made
    the call. Steps of runs deleted since are gone; what the ledger charged
    for them (``total``, the ledger's sum over the window when the caller has
    it, less the steps' sum) is one row whose ``model`` is None, so the rows
    add up to what the balance lost.
    """
    from agents.models import LanguageModel, RunStep

    _first, _last, start, end = usage_window(days=days, now=now)
    display_name = (
        LanguageModel.objects.annotate(
            identifier=Concat("provider", Value("/"), "name", output_field=TextField())
        )
        .filter(identifier=OuterRef("model"))
        .values("display_name")[:1]
    )
    rows = list(
        RunStep.objects.filter(
            run__owner=user, cost__gt=0, created_at__gte=start, created_at__lt=end
        )
        .annotate(model=_step_model())
        .values("model")
        .annotate(milli=Sum("cost"), label=Subquery(display_name))
        .order_by()
    )
    if total is None:
        charged = _run_charges(user=user, start=start, end=end).aggregate(
            amount=Sum("amount")
        )
        total = -(charged["amount"] or 0)
    counted = sum(row["milli"] for row in rows)
    if total > counted:
        rows.append({"model": None, "milli": total - counted, "label": None})
    rows = [
        {
            "model": row["model"],
            "name": row["label"] or row["model"],
            "milli": row["milli"],
        }
        for row in rows
    ]
    rows.sort(key=lambda row: (-row["milli"], row["model"] or ""))
    return _shares(rows, max(total, counted))


def usage_summary(
    *, user, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> dict:
    """Everything the Credits page's chart and the usage API show, in two
    queries: the window's first and last day, the total, the busiest day, and
    the spending per day, per agent and per model."""
    first, last, start, end = usage_window(days=days, now=now)
    spent = _spent_by_day_and_agent(user=user, start=start, end=end)
    by_day = _per_day(spent, first=first, last=last)
    total = sum(day["milli"] for day in by_day)
    return {
        "first": first,
        "last": last,
        "days": len(by_day),
        "total": total,
        "peak": max((day["milli"] for day in by_day), default=0),
        "by_day": by_day,
        "by_agent": _per_agent(spent),
        "by_model": usage_by_model(user=user, days=days, now=now, total=total),
    }


def usage_chart(by_day: list[dict], *, height: int = 100, pitch: int = 10) -> dict:
    """The bars of a per-day chart in an SVG ``viewBox`` ``pitch`` units wide
    per day and ``height`` high, scaled to the busiest day; a day with any
    spending gets at least one unit, so it shows."""
    peak = max((day["milli"] for day in by_day), default=0)
    bars = []
    for index, day in enumerate(by_day):
        size = 0.0
        if peak > 0 and day["milli"] > 0:
            size = max(round(height * day["milli"] / peak, 2), 1.0)
        bars.append(
            {
                **day,
                "x": index * pitch + 1,
                "width": pitch - 2,
                "y": round(height - size, 2),
                "height": size,
            }
        )
    return {"width": len(by_day) * pitch, "height": height, "bars": bars}
