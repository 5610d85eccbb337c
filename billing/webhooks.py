"""What Stripe's webhooks do to credits.

dj-stripe's endpoint (``/stripe/webhook/<uuid>/``) checks the signature,
records the event, syncs the objects it names from Stripe's API, and then
sends the signals these handlers listen to — all in one transaction, so a
handler that fails leaves nothing half-written and Stripe delivers again.

Each handler is idempotent on the business object, not on the event: the
ledger key is the Checkout Session, the invoice, or the charge's refunded
total, so a replayed or duplicated event (a different event id for the same
thing) changes nothing. An event for a customer we do not know is logged and
acknowledged, and credits nobody.
"""

from __future__ import annotations

import logging

from djstripe.event_handlers import djstripe_receiver

from billing import payments, services
from billing.models import MILLI, EntryKind, Purchase

logger = logging.getLogger(__name__)


def _id(value) -> str | None:
    """A Stripe reference, whether expanded into an object or not."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def _ignored(event, what: str, reason: str) -> None:
    """Acknowledge an event we take no action on, and say why in the log."""
    logger.warning(
        "Stripe event %s (%s): %s %s; ignored", event.id, event.type, what, reason
    )


def _user_or_log(event, obj: dict, what: str):
    """The user behind the object's customer, or None (logged) for a
    customer we do not know."""
    customer = _id(obj.get("customer"))
    user = payments.user_for_customer(customer)
    if user is None:
        _ignored(event, f"{what} {obj['id']}", f"is for unknown customer {customer}")
    return user


@djstripe_receiver(
    ["checkout.session.completed", "checkout.session.async_payment_succeeded"]
)
def checkout_paid(sender, event, **kwargs):
    session = event.data["object"]
    if session.get("mode") != "payment":
        return  # a subscription's credits come with its paid invoice
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        # An async payment (a bank debit) that has not cleared:
        # checkout.session.async_payment_succeeded will follow.
        logger.info("Checkout Session %s not paid yet", session["id"])
        return
    purchase = Purchase.objects.filter(checkout_session_id=session["id"]).first()
    # A session we created names its buyer; another needs a known customer.
    user = purchase.user if purchase else _user_or_log(event, session, "session")
    if user is None:
        return
    purchase = payments.purchase_for_session(session=session, user=user)
    if purchase is None:
        _ignored(event, f"session {session['id']}", "is not for a credit pack")
        return
    services.purchase_fulfil(
        purchase_id=purchase.pk,
        payment_intent_id=_id(session.get("payment_intent")) or "",
    )


def _invoice_subscription(invoice: dict) -> str | None:
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _id(parent.get("subscription")) or _id(invoice.get("subscription"))


def _line_price(line: dict) -> str | None:
    details = (line.get("pricing") or {}).get("price_details") or {}
    return _id(details.get("price")) or _id(line.get("price"))


def _invoice_credits(invoice: dict) -> tuple[int, list[str]]:
    """The monthly credits an invoice pays for, in milli-credits: each line
    adds (or, for the unused time of an old plan, subtracts) its plan's
    monthly credits. An upgrade's proration invoice thus gives the
    difference; a downgrade takes nothing back."""
    total = 0
    names = []
    for line in (invoice.get("lines") or {}).get("data") or []:
        price_id = _line_price(line)
        if not price_id:
            continue
        plan, _interval = payments.plan_for_price(price_id)
        if not plan["monthly_credits"]:
            continue
        sign = -1 if (line.get("amount") or 0) < 0 else 1
        total += sign * plan["monthly_credits"] * MILLI
        if sign > 0:
            names.append(plan["name"])
    return max(total, 0), names


@djstripe_receiver("invoice.paid")
def invoice_paid(sender, event, **kwargs):
    """A subscription's monthly credits, once per paid invoice."""
    invoice = event.data["object"]
    if not _invoice_subscription(invoice):
        return  # not a subscription's invoice
    user = _user_or_log(event, invoice, "invoice")
    if user is None:
        return
    amount, names = _invoice_credits(invoice)
    if amount <= 0:
        return
    services.credit_add(
        user=user,
        amount=amount,
        kind=EntryKind.ALLOCATION,
        key=f"allocation:invoice:{invoice['id']}",
        description=f"{' + '.join(names)} plan: monthly credits",
    )


@djstripe_receiver(["customer.subscription.updated", "customer.subscription.deleted"])
def subscription_changed(sender, event, **kwargs):
    """dj-stripe has already synced the subscription, which is what the
    Credits page reads the plan from; here we only say what happened."""
    subscription = event.data["object"]
    user = _user_or_log(event, subscription, "subscription")
    if user is None:
        return
    logger.info(
        "Subscription %s of user %s is now %s",
        subscription["id"],
        user.pk,
        subscription.get("status"),
    )


@djstripe_receiver("charge.refunded")
def charge_refunded(sender, event, **kwargs):
    charge = event.data["object"]
    intent = _id(charge.get("payment_intent"))
    purchase = (
        Purchase.objects.filter(payment_intent_id=intent).first() if intent else None
    )
    if purchase is None and intent:
        # The refund may be told before the purchase's own webhook: ask
        # Stripe which Checkout Session made this payment.
        session_id = payments.session_for_payment_intent(intent)
        purchase = Purchase.objects.filter(checkout_session_id=session_id).first()
        if purchase is not None:
            Purchase.objects.filter(pk=purchase.pk).update(payment_intent_id=intent)
    if purchase is None:
        _ignored(event, f"charge {charge['id']}", "is not for a credit pack")
        return
    services.purchase_refund(
        purchase_id=purchase.pk,
        amount_refunded_cents=charge.get("amount_refunded") or 0,
        amount_cents=charge.get("amount") or 0,
    )
