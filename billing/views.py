"""The Credits page: balance, what expires when, redeeming a promo code,
and the history."""

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
from billing.credits_off import credits_on
from billing.models import EntryKind
from billing.templatetags.billing_display import credits

ENTRIES_PER_PAGE = 25


@credits_on
@require_GET
def credits_page(request):
    return _credits_page(request)


def _credits_page(request, *, threshold_errors=None, redeem_errors=None, status=200):
    if not request.user.is_authenticated:
        # Visitors learn what credits are; the balance needs an account.
        return render(
            request,
            "billing/credits.html",
            {
                "anonymous": True,
                "signup_runs": selectors.offline_runs_for(
                    milli=services.SIGNUP_CREDITS
                ),
            },
        )
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
    context["redeem_errors"] = redeem_errors or []
    context["redeem_code"] = request.POST.get("code", "") if redeem_errors else ""
    # The banner's figures, known here already: saves the context processor's
    # query on this page.
    context["low_balance"] = (
        {"balance": balance, "threshold": threshold} if balance < threshold else None
    )
    context["credit_balance"] = {"balance": balance}
    context.update(views_checkout.buy_context(request.user))
    return render(request, "billing/credits.html", context, status=status)


@credits_on
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


@credits_on
@require_POST
@login_required
def credits_redeem(request):
    """Redeem a promo code. From htmx, the form comes back in place (with the
    new balance, or why not); otherwise the Credits page does."""
    code = request.POST.get("code", "")
    try:
        entry = services.promo_redeem(user=request.user, code=code)
    except ValidationError as error:
        errors = error.message_dict["code"]
        if request.htmx:
            # 200: htmx swaps only successful answers, and this one carries
            # the form with why.
            return render(
                request,
                "billing/_redeem.html",
                {"redeem_errors": errors, "redeem_code": code},
            )
        return _credits_page(request, redeem_errors=errors, status=400)
    added = _("%(credits)s credits added: your balance is %(balance)s.") % {
        "credits": credits(entry.amount),
        "balance": credits(entry.balance_after),
    }
    if request.htmx:
        return render(
            request,
            "billing/_redeem.html",
            {"redeemed": added, "new_balance": entry.balance_after},
        )
    messages.success(request, added)
    return redirect(reverse("billing:credits") + "#credit-redeem")
