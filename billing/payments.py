"""Payments through Stripe (via dj-stripe): the catalog, Checkout Sessions for
credit packs and plans, the customer portal, and what a user's plan is.

Stripe is reached only here and only when the site has a secret key; without
one every entry point raises PaymentsUnavailableError with a message that says
so, and the rest of the site works as before. What Stripe then tells us comes
back through webhooks (billing.webhooks), never through the browser.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djstripe.models import Customer, Price, Product, Subscription
from djstripe.settings import djstripe_settings

from billing.models import MILLI, EntryKind, LedgerEntry, Purchase
from billing.pricing import PACKS, PLANS

logger = logging.getLogger(__name__)

INTERVALS = ("month", "year")
# Subscriptions in these states give their plan's credits and discounts.
LIVE_STATUSES = ("active", "trialing", "past_due")


class PaymentsUnavailableError(Exception):
    """Payments are not set up here, or Stripe could not be reached."""


# --- the catalog ------------------------------------------------------


def pack_lookup_key(pack_id: str) -> str:
    return f"agentry_{pack_id}"


def plan_lookup_key(plan_id: str, interval: str) -> str:
    return f"agentry_{plan_id}_{interval}ly"


def coupon_id(plan_id: str) -> str:
    return f"agentry_{plan_id}_packs"


@dataclass(frozen=True)
class CatalogItem:
    """One product and price of the catalog, as Stripe should have it."""

    product_id: str
    product_name: str
    lookup_key: str
    unit_amount: int
    interval: str | None
    metadata: dict


def catalog() -> list[CatalogItem]:
    items = [
        CatalogItem(
            product_id=f"agentry_{pack['id']}",
            product_name=f"{pack['credits']} Agentry credits",
            lookup_key=pack_lookup_key(pack["id"]),
            unit_amount=pack["price_cents"],
            interval=None,
            metadata={"agentry_pack": pack["id"], "credits": str(pack["credits"])},
        )
        for pack in PACKS
    ]
    for plan in PLANS:
        if not plan["monthly_cents"]:
            continue
        for interval, amount in (
            ("month", plan["monthly_cents"]),
            ("year", plan["yearly_cents"]),
        ):
            items.append(
                CatalogItem(
                    product_id=f"agentry_plan_{plan['id']}",
                    product_name=f"Agentry {plan['name']}",
                    lookup_key=plan_lookup_key(plan["id"], interval),
                    unit_amount=amount,
                    interval=interval,
                    metadata={
                        "agentry_plan": plan["id"],
                        "monthly_credits": str(plan["monthly_credits"]),
                    },
                )
            )
    return items


def api_key() -> str:
    return djstripe_settings.get_default_api_key(djstripe_settings.STRIPE_LIVE_MODE)


def payments_enabled() -> bool:
    return bool(api_key())


def _require_payments() -> str:
    key = api_key()
    if not key:
        raise PaymentsUnavailableError(
            _(
                "Payments are not set up on this site yet: an administrator needs "
                "to add a Stripe key."
            )
        )
    return key


def _stripe_call(fn, **params):
    """Call Stripe; its failures become a PaymentsUnavailableError that the
    pages and the API show, never a server error."""
    try:
        return fn(api_key=_require_payments(), **params)
    except stripe.StripeError as error:
        missing = getattr(error, "code", None) == "resource_missing"
        logger.log(
            logging.INFO if missing else logging.WARNING,
            "Stripe call %s failed: %s",
            fn.__qualname__,
            error,
        )
        raise PaymentsUnavailableError(
            _("Stripe could not take this request (%(error)s). Try again shortly.")
            % {"error": error.user_message or error.__class__.__name__}
        ) from error


def catalog_sync(*, write=print) -> dict[str, int]:
    """Make Stripe's products, prices and coupons match ours, then copy them
    into dj-stripe's tables. Prices are never edited at Stripe: a changed
    amount gets a new price that takes over the lookup key."""
    counts = {"products": 0, "prices": 0, "coupons": 0, "unchanged": 0}
    for item in catalog():
        try:
            product = _stripe_call(stripe.Product.retrieve, id=item.product_id)
        except PaymentsUnavailableError as error:
            if not isinstance(error.__cause__, stripe.InvalidRequestError):
                raise
            product = _stripe_call(
                stripe.Product.create,
                id=item.product_id,
                name=item.product_name,
                metadata={
                    k: v for k, v in item.metadata.items() if k.startswith("agentry")
                },
            )
            counts["products"] += 1
            write(f"Created product {item.product_id}")
        Product.sync_from_stripe_data(product, api_key=api_key())
        found = _stripe_call(
            stripe.Price.list, lookup_keys=[item.lookup_key], active=True, limit=1
        )
        existing = found.data[0] if found.data else None
        if existing is not None and existing["unit_amount"] == item.unit_amount:
            counts["unchanged"] += 1
            price = existing
        else:
            params = {
                "product": item.product_id,
                "currency": "usd",
                "unit_amount": item.unit_amount,
                "lookup_key": item.lookup_key,
                "transfer_lookup_key": True,
                "metadata": item.metadata,
            }
            if item.interval:
                params["recurring"] = {"interval": item.interval}
            price = _stripe_call(stripe.Price.create, **params)
            counts["prices"] += 1
            write(f"Created price {item.lookup_key} ({item.unit_amount / 100:.2f} USD)")
        Price.sync_from_stripe_data(price, api_key=api_key())
    for plan in PLANS:
        if not plan["pack_discount_percent"]:
            continue
        try:
            _stripe_call(stripe.Coupon.retrieve, id=coupon_id(plan["id"]))
            counts["unchanged"] += 1
        except PaymentsUnavailableError as error:
            if not isinstance(error.__cause__, stripe.InvalidRequestError):
                raise
            _stripe_call(
                stripe.Coupon.create,
                id=coupon_id(plan["id"]),
                name=f"{plan['name']}: {plan['pack_discount_percent']}% off packs",
                percent_off=plan["pack_discount_percent"],
                duration="forever",
            )
            counts["coupons"] += 1
            write(f"Created coupon {coupon_id(plan['id'])}")
    return counts


def _catalog_price(lookup_key: str) -> Price:
    price = (
        Price.objects.filter(lookup_key=lookup_key, active=True)
        .order_by("-created")
        .first()
    )
    if price is None:
        raise PaymentsUnavailableError(
            _(
                "This item is not on sale yet: an administrator needs to run "
                "`manage.py sync_stripe_catalog`."
            )
        )
    return price


# --- who pays, and on which plan --------------------------------------


def _price_info(price_id: str) -> dict:
    """Our catalog's metadata for a Stripe price (plan or pack), by id: from
    dj-stripe's table, else fetched once from Stripe and kept."""
    price = Price.objects.filter(id=price_id).first()
    if price is None:
        price = Price.sync_from_stripe_data(
            _stripe_call(stripe.Price.retrieve, id=price_id), api_key=api_key()
        )
    data = price.stripe_data or {}
    recurring = data.get("recurring") or {}
    return {
        "lookup_key": price.lookup_key or data.get("lookup_key") or "",
        "interval": recurring.get("interval"),
        **(data.get("metadata") or {}),
    }


def plan_by_id(plan_id: str) -> dict:
    return next((p for p in PLANS if p["id"] == plan_id), PLANS[0])


def plan_for_price(price_id: str) -> tuple[dict, str | None]:
    """The plan a subscription price belongs to, and its interval."""
    info = _price_info(price_id)
    key = info["lookup_key"]
    for plan in PLANS:
        for interval in INTERVALS:
            if key == plan_lookup_key(plan["id"], interval):
                return plan, interval
    if info.get("agentry_plan"):
        return plan_by_id(info["agentry_plan"]), info.get("interval")
    return PLANS[0], None


def subscription_price_id(data: dict) -> str | None:
    items = (data.get("items") or {}).get("data") or []
    if not items:
        return None
    price = items[0].get("price")
    return price.get("id") if isinstance(price, dict) else price


def live_subscription(*, user) -> Subscription | None:
    """The user's subscription that currently gives a plan, if any."""
    return (
        Subscription.objects.filter(
            customer__subscriber=user, stripe_data__status__in=LIVE_STATUSES
        )
        .order_by("-created")
        .first()
    )


def plan_for(*, user) -> dict:
    """The user's plan: Free, or the plan of their live subscription, with
    its interval, status and renewal as Stripe last told us."""
    subscription = live_subscription(user=user)
    if subscription is None:
        return {**PLANS[0], "interval": None, "status": None, "renews_at": None}
    data = subscription.stripe_data
    price_id = subscription_price_id(data)
    plan, interval = plan_for_price(price_id) if price_id else (PLANS[0], None)
    items = (data.get("items") or {}).get("data") or [{}]
    return {
        **plan,
        "interval": interval,
        "status": data.get("status"),
        "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
        "renews_at": items[0].get("current_period_end"),
        "subscription_id": subscription.id,
    }


def user_for_customer(customer_id: str | None):
    """The user behind a Stripe customer, or None for one we do not know."""
    if not customer_id:
        return None
    customer = (
        Customer.objects.filter(id=customer_id, subscriber__isnull=False)
        .select_related("subscriber")
        .first()
    )
    return customer.subscriber if customer else None


def has_customer(*, user) -> bool:
    return Customer.objects.filter(subscriber=user).exists()


def customer_for(*, user) -> Customer:
    _require_payments()
    try:
        customer, _created = Customer.get_or_create(subscriber=user)
    except stripe.StripeError as error:
        raise PaymentsUnavailableError(
            _("Stripe could not take this request (%(error)s). Try again shortly.")
            % {"error": error.user_message or error.__class__.__name__}
        ) from error
    return customer


# --- Checkout and the portal -------------------------------------------


def _choice_errors(pack, plan, interval) -> dict[str, list[str]]:
    pack_ids = [p["id"] for p in PACKS]
    plan_ids = [p["id"] for p in PLANS if p["monthly_cents"]]
    if bool(pack) == bool(plan):
        return {"non_field_errors": [_("Choose either a credit pack or a plan.")]}
    if pack and pack not in pack_ids:
        return {"pack": [_("Choose one of: %s.") % ", ".join(pack_ids)]}
    if plan and plan not in plan_ids:
        return {"plan": [_("Choose one of: %s.") % ", ".join(plan_ids)]}
    if plan and interval not in INTERVALS:
        return {"interval": [_("Choose month or year.")]}
    return {}


def checkout_session_create(
    *,
    user,
    success_url: str,
    cancel_url: str,
    pack: str | None = None,
    plan: str | None = None,
    interval: str = "month",
) -> dict:
    """A Stripe Checkout Session for a credit pack (one payment) or a plan
    (a subscription). Returns its id and the URL to send the buyer to.

    A pack bought on a paid plan gets that plan's discount. A pack's
    purchase is recorded as pending now and credited when Stripe's webhook
    says it was paid.
    """
    errors = _choice_errors(pack, plan, interval or "month")
    if errors:
        raise ValidationError(errors)
    current = plan_for(user=user)
    if plan and current["id"] != "free":
        raise ValidationError(
            {
                "plan": [
                    _(
                        "You are already on %(plan)s. Change or cancel it from "
                        "“Manage subscription”."
                    )
                    % {"plan": current["name"]}
                ]
            }
        )
    _require_payments()
    customer = customer_for(user=user)
    params = {
        "customer": customer.id,
        "client_reference_id": str(user.pk),
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if pack:
        item = next(p for p in PACKS if p["id"] == pack)
        price = _catalog_price(pack_lookup_key(pack))
        params.update(
            mode="payment",
            line_items=[{"price": price.id, "quantity": 1}],
            metadata={"agentry_pack": pack, "agentry_user": str(user.pk)},
        )
        if current["pack_discount_percent"]:
            params["discounts"] = [{"coupon": coupon_id(current["id"])}]
    else:
        price = _catalog_price(plan_lookup_key(plan, interval))
        metadata = {"agentry_plan": plan, "agentry_user": str(user.pk)}
        params.update(
            mode="subscription",
            line_items=[{"price": price.id, "quantity": 1}],
            metadata=metadata,
            subscription_data={"metadata": metadata},
        )
    session = _stripe_call(stripe.checkout.Session.create, **params)
    if pack:
        Purchase.objects.create(
            user=user,
            checkout_session_id=session["id"],
            pack=pack,
            credits=item["credits"] * MILLI,
            amount_cents=session["amount_total"] or 0,
            currency=session["currency"] or "usd",
        )
    return {"id": session["id"], "url": session["url"], "mode": params["mode"]}


def portal_session_create(*, user, return_url: str) -> dict:
    """Stripe's customer portal, where a subscriber upgrades, downgrades,
    cancels and sees invoices."""
    customer = customer_for(user=user)
    session = _stripe_call(
        stripe.billing_portal.Session.create,
        customer=customer.id,
        return_url=return_url,
    )
    return {"url": session["url"]}


@transaction.atomic
def purchase_for_session(*, session: dict, user) -> Purchase | None:
    """The Purchase a paid Checkout Session is for: the one recorded when it
    was created, else one made now from the pack in its metadata (a session
    created elsewhere, e.g. from Stripe's dashboard). None if it is not ours."""
    purchase = (
        Purchase.objects.select_for_update()
        .filter(checkout_session_id=session["id"])
        .first()
    )
    if purchase is not None:
        return purchase
    pack = (session.get("metadata") or {}).get("agentry_pack")
    item = next((p for p in PACKS if p["id"] == pack), None)
    if item is None:
        return None
    purchase, _created = Purchase.objects.get_or_create(
        checkout_session_id=session["id"],
        defaults={
            "user": user,
            "pack": pack,
            "credits": item["credits"] * MILLI,
            "amount_cents": session.get("amount_total") or 0,
            "currency": session.get("currency") or "usd",
        },
    )
    return Purchase.objects.select_for_update().get(pk=purchase.pk)


def session_for_payment_intent(payment_intent_id: str) -> str | None:
    """The Checkout Session that made a PaymentIntent, asked of Stripe."""
    found = _stripe_call(
        stripe.checkout.Session.list, payment_intent=payment_intent_id, limit=1
    )
    return found.data[0]["id"] if found.data else None


def _months_between(start: datetime, now: datetime) -> int:
    """Whole calendar months from ``start`` to ``now``."""
    months = (now.year - start.year) * 12 + now.month - start.month
    if (now.day, now.time()) < (start.day, start.time()):
        months -= 1
    return max(months, 0)


def yearly_allocations(*, now: datetime | None = None) -> int:
    """Monthly credits for yearly subscribers. The paid yearly invoice gives
    the first month's (billing.webhooks.invoice_paid); each following month
    of the paid year gives its own, once (keyed on the subscription, its
    period and the month). Returns how many allocations were added."""
    from billing import services

    now = now or timezone.now()
    added = 0
    live = Subscription.objects.filter(
        stripe_data__status__in=("active", "trialing"),
        customer__subscriber__isnull=False,
    ).select_related("customer__subscriber")
    for subscription in live:
        price_id = subscription_price_id(subscription.stripe_data)
        if not price_id:
            continue
        plan, interval = plan_for_price(price_id)
        if interval != "year" or not plan["monthly_credits"]:
            continue
        item = subscription.stripe_data["items"]["data"][0]
        start_ts = item.get("current_period_start")
        if not start_ts:
            continue
        start = datetime.fromtimestamp(start_ts, tz=UTC)
        for month in range(1, min(_months_between(start, now), 11) + 1):
            key = f"allocation:{subscription.id}:{start_ts}:{month}"
            if LedgerEntry.objects.filter(idempotency_key=key).exists():
                continue
            services.credit_add(
                user=subscription.customer.subscriber,
                amount=plan["monthly_credits"] * MILLI,
                kind=EntryKind.ALLOCATION,
                key=key,
                description=f"{plan['name']} plan (yearly): month {month + 1} credits",
            )
            added += 1
    return added
