"""Reads of credits: a user's balance, what expires when, and their history;
for staff, the site's credits sold and spent over time."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils.translation import gettext as _

from billing.models import (
    MILLI,
    CreditAccount,
    CreditLot,
    EntryKind,
    LedgerEntry,
    RunBudget,
)
from billing.payments import payments_enabled
from config.periods import Window, fill_periods


def credits_enabled() -> bool:
    """Whether runs are metered (``CREDITS_MODE=metered``, the default);
    ``off``: nothing is held or charged, and no page speaks of credits."""
    return settings.CREDITS_MODE != "off"


def way_back() -> str:
    """What a person short of credits can do on this site: buy them when it
    takes payments, else redeem a code or ask."""
    if payments_enabled():
        return _("Buy credits on the Credits page.")
    return _(
        "Redeem a promo code on the Credits page, or ask the site's operator "
        "for credits."
    )


def out_of_credits_message(*, run, paused: bool = False) -> str:
    """Why ``run`` stopped for credits (its budget spent, or the balance),
    and what to do; ``paused``: a workflow, which can be resumed."""
    budget = RunBudget.objects.filter(run=run).select_related("account").first()
    if (
        budget is not None
        and budget.charged >= budget.reserved
        and budget.account.available > 0
    ):
        why = _(
            "Out of credits: the run spent its whole budget of %(budget)s credits"
        ) % {"budget": f"{budget.reserved / MILLI:g}"}
        then = (
            _("Resume it with a larger budget.")
            if paused
            else _("Run it again with a larger budget.")
        )
    else:
        why = _("Out of credits: your balance ran out")
        then = f"{way_back()} " + (
            _("Then resume it.") if paused else _("Then run it again.")
        )
    kept = (
        _("it is paused, its finished nodes kept.")
        if paused
        else _("it was stopped, its steps so far kept.")
    )
    return f"{why}; {kept} {then}"


def account_for(*, user) -> CreditAccount | None:
    return CreditAccount.objects.filter(user=user).first()


def lots_expiring(*, user) -> QuerySet[CreditLot]:
    """Unspent credits that will expire, soonest first."""
    return CreditLot.objects.filter(
        account__user=user, remaining__gt=0, expires_at__isnull=False
    ).order_by(F("expires_at").asc(), "pk")


def entry_list(
    *,
    user,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[LedgerEntry]:
    """The user's ledger, newest first; ``since``/``until`` are inclusive days."""
    entries = LedgerEntry.objects.filter(account__user=user).select_related("run")
    if kind:
        entries = entries.filter(kind=kind)
    if since:
        entries = entries.filter(created_at__date__gte=since)
    if until:
        entries = entries.filter(created_at__date__lte=until)
    return entries.order_by("-created_at", "-pk")


def grant_recipients(
    *, names: list[str] = (), group: str = "", everyone: bool = False
) -> tuple[QuerySet, list[str]]:
    """Active people to grant credits to: ``everyone``, the members of
    ``group`` (a django.contrib.auth group's name) and those whose username
    or email is in ``names``. Returns them and the names that matched nobody
    (a group that does not exist is one of them)."""
    users = get_user_model().objects.filter(is_active=True)
    if everyone:
        return users.order_by("pk"), []
    wanted = Q(pk__in=[])
    unknown = []
    if group:
        if Group.objects.filter(name=group).exists():
            wanted |= Q(groups__name=group)
        else:
            unknown.append(group)
    for name in names:
        match = Q(username__iexact=name) | Q(email__iexact=name)
        if users.filter(match).exists():
            wanted |= match
        else:
            unknown.append(name)
    return users.filter(wanted).distinct().order_by("pk"), unknown


def tool_prices() -> dict[str, object]:
    """Tool prices by tool name (``custom`` for webhook tools)."""
    from billing.models import ToolPrice

    return {price.tool: price for price in ToolPrice.objects.all()}


# An estimate's assumptions for a model that cannot be rehearsed: characters
# per token, tokens of answer when the agent sets no limit, and tokens each
# tool's schema adds to a request.
CHARS_PER_TOKEN = 4
ASSUMED_OUTPUT_TOKENS = 500
TOKENS_PER_TOOL_SCHEMA = 150


def _estimated_model(definition: dict, owner):
    """The catalog entry the run will probably be priced at: its model, or
    its fallback when the model's provider has no key to run with."""
    from agents.selectors import model_usable, provider_availability

    model = model_usable(identifier=definition.get("model") or "local/demo", user=owner)
    fallback = definition.get("fallback_model")
    if fallback and model is not None:
        state = provider_availability(user=owner).get(model.provider) or {}
        if state.get("available", True):
            return model
        return model_usable(identifier=fallback, user=owner) or model
    return model


def _assumed_turns(definition: dict, input: str) -> list[tuple[int, int]]:
    """One model turn, two when the agent has tools (the common shape of a
    run), each reading the instructions, the schemas and the input."""
    tools = list(definition.get("tools") or [])
    schema = definition.get("output_type")
    text = (
        (definition.get("instructions") or "")
        + (input or "")
        + (json.dumps(schema) if schema else "")
    )
    input_tokens = len(text) // CHARS_PER_TOKEN + TOKENS_PER_TOOL_SCHEMA * len(tools)
    output_tokens = (definition.get("model_settings") or {}).get(
        "max_output_tokens"
    ) or ASSUMED_OUTPUT_TOKENS
    return [(input_tokens, output_tokens)] * (2 if tools else 1)


def run_estimate(
    *,
    definition: dict,
    input: str,
    owner,
    agent_id=None,
    handoffs=None,
    agent_tools=None,
) -> dict:
    """What a run of ``definition`` (an agent of ``owner``'s) on ``input``
    will probably cost.

    On the offline model, its turns as it would take them (rehearsed:
    agents.runtime.rehearsal), following the handoffs of the agent
    ``agent_id`` when given (``handoffs``: agents.selectors.handoffs.handoff_graph's
    answer) and rehearsing its ``agent_tools`` (as a RunSpec has them); on
    other models, one turn, two with tools.
    Each priced tool the agent has is counted once. A model without a
    catalog price (an owner's own endpoint's) costs the open-source rate.
    """
    from agents.runtime.rehearsal import offline_turns
    from billing.pricing import DEFAULT_PER_1K, model_turn_cost, tool_call_cost

    model = _estimated_model(definition, owner)
    turns = None
    if model is not None and model.provider == "local":
        graph, targets = handoffs or ({}, {})
        turns = offline_turns(
            definition=definition,
            input=input,
            agent_id=agent_id,
            handoffs=graph,
            handoff_definitions=targets,
            agent_tools=agent_tools,
        )
    if not turns:
        turns = _assumed_turns(definition, input)
    in_price = Decimal(model.input_price_per_1k) if model else DEFAULT_PER_1K
    out_price = Decimal(model.output_price_per_1k) if model else DEFAULT_PER_1K
    # Each turn is charged on its own (a step), rounded up like the meter.
    milli = sum(
        model_turn_cost(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            input_per_1k=in_price,
            output_per_1k=out_price,
        )
        for input_tokens, output_tokens in turns
    )
    prices = tool_prices() if definition.get("tools") else {}
    for name in definition.get("tools") or []:
        key = "custom" if name.startswith("custom/") else name
        price = prices.get(key)
        if price is not None:
            milli += tool_call_cost(per_call=price.per_call)
    return {
        "milli": milli,
        "turns": len(turns),
        "input_tokens": sum(turn[0] for turn in turns),
        "output_tokens": sum(turn[1] for turn in turns),
    }


# A short request, for what a typical run on the offline model costs.
# Arithmetic, which the offline model answers without loading its embedder:
# the Credits page must not load a model to say what credits buy.
TYPICAL_REQUEST = "What is 12.5% of 640?"


def offline_runs_for(*, milli: int) -> int:
    """About how many short runs on the offline demo model ``milli`` pays
    for (rounded down to ten when it is more than ten)."""
    cost = run_estimate(
        definition={"model": "local/demo", "instructions": "Answer briefly."},
        input=TYPICAL_REQUEST,
        owner=None,
    )["milli"]
    runs = milli // max(cost, 1)
    return runs - runs % 10 if runs > 10 else runs


def run_charged(*, run) -> int | None:
    """What ``run`` has been charged so far, in milli-credits; None for a run
    that holds no budget (one from before metering)."""
    return RunBudget.objects.filter(run=run).values_list("charged", flat=True).first()


def credits_by_period(*, user, window: Window) -> list[dict]:
    """Milli-credits sold (purchases and subscription allocations) and spent
    (run charges) in each period of ``window``, oldest first, both positive.

    Sold is gross: refunds, grants and staff adjustments are not in it. One
    query; periods without entries are there with zeros. Staff only.
    """
    if not (user.is_authenticated and user.is_staff):
        raise PermissionDenied
    sold = Q(kind__in=[EntryKind.PURCHASE, EntryKind.ALLOCATION])
    spent = Q(kind=EntryKind.RUN_CHARGE)
    rows = (
        LedgerEntry.objects.filter(
            sold | spent, created_at__gte=window.start, created_at__lt=window.end
        )
        .annotate(period=Trunc("created_at", window.unit))
        .values("period")
        .annotate(
            sold=Sum("amount", filter=sold, default=0),
            charged=Sum("amount", filter=spent, default=0),
        )
        .order_by()
    )
    found = {
        row["period"]: {"sold": row["sold"], "spent": -row["charged"]} for row in rows
    }
    return fill_periods(window, found, {"sold": 0, "spent": 0})
