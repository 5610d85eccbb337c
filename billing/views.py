"""The Credits page: balance, what expires when, and the history."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing import selectors
from billing.models import EntryKind

ENTRIES_PER_PAGE = 25


@require_GET
def credits_page(request):
    if not request.user.is_authenticated:
        # Visitors learn what credits are; the balance needs an account.
        return render(request, "billing/credits.html", {"anonymous": True})
    kind = request.GET.get("kind", "")
    if kind not in EntryKind.values:
        kind = ""
    account = selectors.account_for(user=request.user)
    balance = account.balance if account else 0
    threshold = account.low_balance_threshold if account else 0
    entries = selectors.entry_list(user=request.user, kind=kind or None)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "balance": balance,
        "low": balance < threshold,
        "threshold": threshold,
        "expiring": selectors.lots_expiring(user=request.user),
        "page": page,
        "kinds": EntryKind.choices,
        "kind": kind,
        "filter_query": f"kind={kind}" if kind else "",
    }
    return render(request, "billing/credits.html", context)
