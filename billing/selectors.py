"""Reads of credits: a user's balance, what expires when, and their history."""

from __future__ import annotations

from datetime import date

from django.db.models import F, QuerySet

from billing.models import CreditAccount, CreditLot, LedgerEntry


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
