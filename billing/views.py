"""The Credits page: balance, what expires when, and the history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billing import selectors, services, usage, views_checkout
from billing.models import EntryKind
from billing.templatetags.billing_display import credits

ENTRIES_PER_PAGE = 25


@require_GET
def credits_page(request):
    return _credits_page(request)


def _credits_page(request, *, threshold_errors=None, status=200):
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
    spent = usage.usage_summary(user=request.user)
    context["usage"] = {**spent, "chart": usage.usage_chart(spent["by_day"])}
    context["threshold_input"] = (
        request.POST.get("low_balance_threshold", "")
        if threshold_errors
        else credits(threshold)
    )
    context["threshold_errors"] = threshold_errors or []
    # The banner's figures, known here already: saves the context processor's
    # query on this page.
    context["low_balance"] = (
        {"balance": balance, "threshold": threshold} if balance < threshold else None
    )
    context.update(views_checkout.buy_context(request.user))
    return render(request, "billing/credits.html", context, status=status)


@require_POST
@login_required
def credits_threshold(request):
    """Set the low-balance warning threshold; on bad input nothing is saved
    and the page shows why next to the field."""
    try:
        account = services.account_threshold_set(
            user=request.user, threshold=request.POST.get("low_balance_threshold", "")
        )
    except ValidationError as error:
        return _credits_page(
            request,
            threshold_errors=error.message_dict["low_balance_threshold"],
            status=400,
        )
    if account.low_balance_threshold:
        messages.success(
            request,
            _("You will be warned when your balance is below %(credits)s credits.")
            % {"credits": credits(account.low_balance_threshold)},
        )
    else:
        messages.success(request, _("The low-balance warning is off."))
    return redirect(reverse("billing:credits") + "#low-balance-threshold")
