"""Buying credits from the site: the forms on the Credits page send the
buyer to Stripe Checkout (or the customer portal), and Stripe sends them
back to the success or cancel page. The credits themselves arrive with
Stripe's webhook; the success page waits for it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing import payments
from billing.api_payments import checkout_urls
from billing.credits_off import credits_on
from billing.models import Purchase
from billing.pricing import PACKS, PLANS


def _error_text(error: ValidationError) -> str:
    return " ".join(" ".join(messages) for messages in error.message_dict.values())


@credits_on
@login_required
@require_POST
def checkout_start(request):
    """A pack (``pack``) or a plan (``plan`` and ``interval``), then off to
    Stripe; any problem comes back as a message on the Credits page."""
    try:
        session = payments.checkout_session_create(
            user=request.user,
            pack=request.POST.get("pack") or None,
            plan=request.POST.get("plan") or None,
            interval=request.POST.get("interval") or "month",
            **checkout_urls(request),
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("billing:credits")
    except payments.PaymentsUnavailableError as error:
        messages.error(request, str(error))
        return redirect("billing:credits")
    return HttpResponseRedirect(session["url"], status=303)


@credits_on
@login_required
@require_POST
def portal(request):
    try:
        session = payments.portal_session_create(
            user=request.user,
            return_url=request.build_absolute_uri(reverse("billing:credits")),
        )
    except payments.PaymentsUnavailableError as error:
        messages.error(request, str(error))
        return redirect("billing:credits")
    return HttpResponseRedirect(session["url"], status=303)


@credits_on
@login_required
@require_GET
def checkout_success(request):
    """Back from Stripe. A pack's purchase shows as waiting until Stripe's
    webhook confirms the payment; the page checks again every few seconds.
    Only the buyer sees their purchase."""
    purchase = Purchase.objects.filter(
        user=request.user, checkout_session_id=request.GET.get("session_id", "")
    ).first()
    context = {"purchase": purchase, "plan": payments.plan_for(user=request.user)}
    if request.htmx:
        return render(request, "billing/_purchase_status.html", context)
    return render(request, "billing/checkout_success.html", context)


@credits_on
@login_required
@require_GET
def checkout_cancelled(request):
    return render(request, "billing/checkout_cancelled.html")


def _dollars(cents: int) -> str:
    return f"{cents / 100:,.2f}".removesuffix(".00")


def buy_context(user) -> dict:
    """What the Credits page needs to show the plan and sell packs and plans
    (prices after the plan's discount, as Checkout will charge them)."""
    plan = payments.plan_for(user=user)
    discount = plan["pack_discount_percent"]
    return {
        "plan": plan,
        "payments_enabled": payments.payments_enabled(),
        "has_customer": payments.has_customer(user=user),
        "packs": [
            {
                "id": pack["id"],
                "credits": pack["credits"],
                "price": _dollars(round(pack["price_cents"] * (100 - discount) / 100)),
                "full_price": _dollars(pack["price_cents"]) if discount else "",
            }
            for pack in PACKS
        ],
        "plans": [
            {
                **offer,
                "monthly": _dollars(offer["monthly_cents"]),
                "yearly": _dollars(offer["yearly_cents"]),
            }
            for offer in PLANS
            if offer["monthly_cents"]
        ],
    }
