"""Stripe's webhooks through dj-stripe's real endpoint, signed like Stripe's,
with Stripe's API faked at the HTTP layer (tests/billing/fake_stripe.py).

Every webhook the site acts on is delivered here, also replayed and out of
order; the balance must come out exact every time.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from djstripe.models import Event, WebhookEventTrigger

from billing import payments, services
from billing.models import MILLI, EntryKind, LedgerEntry, Purchase, PurchaseStatus
from tests.billing.stripe_fixtures import WEBHOOK_SECRET
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

URLS = {
    "success_url": "https://agentry.example/credits/success/",
    "cancel_url": "https://agentry.example/credits/",
}


def balance(user) -> int:
    return services.account_get_or_create(user=user).balance


def buy_pack(fake, user, pack="pack_100") -> dict:
    session = payments.checkout_session_create(user=user, pack=pack, **URLS)
    return fake.objects[session["id"]]


def subscribe(fake, deliver, user, plan="basic", interval="month") -> dict:
    """Check out a plan and deliver what Stripe sends: the completed session,
    then the first invoice, paid. Returns the subscription."""
    created = payments.checkout_session_create(
        user=user, plan=plan, interval=interval, **URLS
    )
    session = fake.objects[created["id"]]
    price_id = session["line_items"][0]["price"]
    subscription = fake.subscription(
        customer=session["customer"], price_id=price_id, metadata=session["metadata"]
    )
    fake.checkout_completed(session["id"], subscription=subscription)
    assert deliver(fake.event("checkout.session.completed", session)).status_code == 200
    invoice = fake.invoice(subscription_id=subscription["id"])
    assert deliver(fake.event("invoice.paid", invoice)).status_code == 200
    return subscription


# --- credit packs -------------------------------------------------------


def test_a_paid_checkout_credits_its_pack(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    session = buy_pack(stripe_catalog, user, "pack_500")
    assert Purchase.objects.get().status == PurchaseStatus.PENDING
    stripe_catalog.checkout_completed(session["id"])

    response = deliver(stripe_catalog.event("checkout.session.completed", session))

    assert response.status_code == 200, response.content
    assert balance(user) == 500 * MILLI
    purchase = Purchase.objects.get(checkout_session_id=session["id"])
    assert purchase.status == PurchaseStatus.PAID
    assert purchase.amount_cents == 4500
    assert purchase.payment_intent_id == session["payment_intent"]
    entry = LedgerEntry.objects.get(kind=EntryKind.PURCHASE)
    assert entry.idempotency_key == f"purchase:{session['id']}"
    assert purchase.entry == entry


def test_the_same_purchase_announced_ten_times_credits_once(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    session = buy_pack(stripe_catalog, user)
    stripe_catalog.checkout_completed(session["id"])
    event = stripe_catalog.event("checkout.session.completed", session)

    for _ in range(10):
        assert deliver(event).status_code == 200
    # Different events about the same session (Stripe may send both).
    for kind in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ):
        assert deliver(stripe_catalog.event(kind, session)).status_code == 200

    assert balance(user) == 100 * MILLI
    assert LedgerEntry.objects.filter(kind=EntryKind.PURCHASE).count() == 1


def test_an_async_payment_is_credited_when_it_succeeds(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    session = buy_pack(stripe_catalog, user)
    stripe_catalog.checkout_completed(session["id"], payment_status="unpaid")

    deliver(stripe_catalog.event("checkout.session.completed", session))
    assert balance(user) == 0
    assert Purchase.objects.get().status == PurchaseStatus.PENDING

    session["payment_status"] = "paid"
    event = stripe_catalog.event("checkout.session.async_payment_succeeded", session)
    assert deliver(event).status_code == 200
    assert balance(user) == 100 * MILLI


def test_a_subscriber_pays_less_for_packs(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    subscribe(stripe_catalog, deliver, user, plan="pro")

    session = buy_pack(stripe_catalog, user, "pack_100")

    assert session["discounts"] == [{"coupon": "agentry_pro_packs"}]
    assert session["amount_total"] == 700  # $10 less 30%
    assert Purchase.objects.get().amount_cents == 700


# --- signatures and strangers ----------------------------------------------


@pytest.mark.parametrize(
    ("secret", "signature"),
    [
        ("whsec_wrong", None),
        (None, "t=1,v1=deadbeef"),
        (None, "missing"),
    ],
)
def test_a_badly_signed_webhook_is_refused_and_changes_nothing(
    stripe_catalog, deliver, secret, signature
):
    user = UserFactory(credits=0)
    session = buy_pack(stripe_catalog, user)
    stripe_catalog.checkout_completed(session["id"])
    event = stripe_catalog.event("checkout.session.completed", session)
    kwargs = {"signature": signature}
    if secret:
        kwargs["secret"] = secret

    response = deliver(event, **kwargs)

    assert response.status_code == 400
    assert balance(user) == 0
    assert not Event.objects.filter(id=event["id"]).exists()
    assert Purchase.objects.get().status == PurchaseStatus.PENDING


def test_a_webhook_for_an_unknown_customer_is_acknowledged_and_credits_nobody(
    stripe_catalog, deliver, caplog
):
    stranger = stripe_catalog.customer(email="stranger@example.com")
    price = next(
        o
        for o in stripe_catalog.objects.values()
        if o.get("lookup_key") == "agentry_pack_100"
    )
    session = stripe_catalog.put(
        {
            "id": "cs_test_from_elsewhere",
            "object": "checkout.session",
            "mode": "payment",
            "customer": stranger["id"],
            "line_items": [{"price": price["id"], "quantity": 1}],
            "amount_total": 1000,
            "currency": "usd",
            "metadata": {"agentry_pack": "pack_100"},
            "payment_intent": None,
            "subscription": None,
            "status": "open",
            "payment_status": "unpaid",
        }
    )
    stripe_catalog.checkout_completed(session["id"])
    before = LedgerEntry.objects.count()

    with caplog.at_level(logging.WARNING, logger="billing.webhooks"):
        response = deliver(stripe_catalog.event("checkout.session.completed", session))

    assert response.status_code == 200
    assert LedgerEntry.objects.count() == before
    assert not Purchase.objects.exists()
    assert "unknown customer" in caplog.text
    assert WebhookEventTrigger.objects.get().processed


def test_an_invoice_for_an_unknown_customer_is_acknowledged(stripe_catalog, deliver):
    stranger = stripe_catalog.customer(email="stranger@example.com")
    price = next(
        o
        for o in stripe_catalog.objects.values()
        if o.get("lookup_key") == "agentry_basic_monthly"
    )
    subscription = stripe_catalog.subscription(
        customer=stranger["id"], price_id=price["id"]
    )
    invoice = stripe_catalog.invoice(subscription_id=subscription["id"])
    before = LedgerEntry.objects.count()

    assert deliver(stripe_catalog.event("invoice.paid", invoice)).status_code == 200
    assert LedgerEntry.objects.count() == before


# --- subscriptions ---------------------------------------------------------


def test_subscribing_gives_the_monthly_credits_once_per_invoice(
    stripe_catalog, deliver
):
    user = UserFactory(credits=0)
    subscription = subscribe(stripe_catalog, deliver, user, plan="basic")

    assert balance(user) == 100 * MILLI
    plan = payments.plan_for(user=user)
    assert (plan["id"], plan["interval"], plan["status"]) == (
        "basic",
        "month",
        "active",
    )

    # The next month's invoice gives the next 100, however often announced.
    renewal = stripe_catalog.invoice(
        subscription_id=subscription["id"], billing_reason="subscription_cycle"
    )
    for _ in range(3):
        assert deliver(stripe_catalog.event("invoice.paid", renewal)).status_code == 200
    assert balance(user) == 200 * MILLI
    assert LedgerEntry.objects.filter(kind=EntryKind.ALLOCATION).count() == 2


def test_invoice_paid_before_checkout_completed_is_still_exact(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    created = payments.checkout_session_create(
        user=user, plan="basic", interval="month", **URLS
    )
    session = stripe_catalog.objects[created["id"]]
    subscription = stripe_catalog.subscription(
        customer=session["customer"], price_id=session["line_items"][0]["price"]
    )
    stripe_catalog.checkout_completed(session["id"], subscription=subscription)
    invoice = stripe_catalog.invoice(subscription_id=subscription["id"])

    deliver(stripe_catalog.event("invoice.paid", invoice))
    deliver(stripe_catalog.event("checkout.session.completed", session))
    deliver(stripe_catalog.event("invoice.paid", invoice))

    assert balance(user) == 100 * MILLI


def test_upgrading_gives_the_difference_and_downgrading_takes_nothing(
    stripe_catalog, deliver
):
    user = UserFactory(credits=0)
    subscription = subscribe(stripe_catalog, deliver, user, plan="basic")
    prices = {
        o["lookup_key"]: o
        for o in stripe_catalog.objects.values()
        if o.get("object") == "price"
    }
    # Upgrade in the portal: Stripe changes the price and bills the proration.
    stripe_catalog.change_plan(subscription["id"], prices["agentry_pro_monthly"]["id"])
    event = stripe_catalog.event("customer.subscription.updated", subscription)
    assert deliver(event).status_code == 200
    assert payments.plan_for(user=user)["id"] == "pro"
    proration = stripe_catalog.invoice(
        subscription_id=subscription["id"], billing_reason="subscription_update"
    )
    unused = dict(proration["lines"]["data"][0], id="il_unused_basic", amount=-2000)
    unused["pricing"] = {
        "type": "price_details",
        "price_details": {"price": prices["agentry_basic_monthly"]["id"]},
    }
    proration["lines"]["data"].append(unused)
    deliver(stripe_catalog.event("invoice.paid", proration))
    assert balance(user) == 300 * MILLI  # 100 + (300 - 100)

    # Downgrade: the unused Pro time is worth more than Basic; nothing is taken.
    stripe_catalog.change_plan(
        subscription["id"], prices["agentry_basic_monthly"]["id"]
    )
    deliver(stripe_catalog.event("customer.subscription.updated", subscription))
    downgrade = stripe_catalog.invoice(
        subscription_id=subscription["id"], billing_reason="subscription_update"
    )
    downgrade["lines"]["data"].append(
        dict(
            unused,
            id="il_unused_pro",
            pricing={
                "type": "price_details",
                "price_details": {"price": prices["agentry_pro_monthly"]["id"]},
            },
        )
    )
    deliver(stripe_catalog.event("invoice.paid", downgrade))
    assert balance(user) == 300 * MILLI
    assert payments.plan_for(user=user)["id"] == "basic"


def test_a_cancelled_subscription_leaves_the_user_on_free(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    subscription = subscribe(stripe_catalog, deliver, user, plan="basic")
    subscription["status"] = "canceled"
    subscription["ended_at"] = subscription["canceled_at"] = int(
        datetime.now().timestamp()
    )

    response = deliver(
        stripe_catalog.event("customer.subscription.deleted", subscription)
    )

    assert response.status_code == 200
    assert payments.plan_for(user=user)["id"] == "free"
    assert balance(user) == 100 * MILLI  # what was allocated stays
    # Packs are full price again.
    assert buy_pack(stripe_catalog, user)["amount_total"] == 1000


def test_a_yearly_plan_gives_its_credits_month_by_month(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    subscription = subscribe(
        stripe_catalog, deliver, user, plan="basic", interval="year"
    )
    assert balance(user) == 100 * MILLI
    start = datetime.fromtimestamp(
        subscription["items"]["data"][0]["current_period_start"], tz=UTC
    )

    assert payments.yearly_allocations(now=start + timedelta(days=20)) == 0
    added = payments.yearly_allocations(now=start + timedelta(days=95))
    assert added == 3
    assert payments.yearly_allocations(now=start + timedelta(days=95)) == 0
    assert payments.yearly_allocations(now=start + timedelta(days=800)) == 8
    assert balance(user) == 12 * 100 * MILLI


def test_buying_a_plan_twice_is_refused(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    subscribe(stripe_catalog, deliver, user, plan="basic")

    with pytest.raises(ValidationError) as error:
        payments.checkout_session_create(user=user, plan="pro", **URLS)
    assert "Manage subscription" in str(error.value.message_dict["plan"])


# --- refunds ---------------------------------------------------------------


def paid_pack(fake, deliver, user, pack="pack_100") -> tuple[dict, dict]:
    session = buy_pack(fake, user, pack)
    fake.checkout_completed(session["id"])
    deliver(fake.event("checkout.session.completed", session))
    charge = fake.objects[fake.objects[session["payment_intent"]]["latest_charge"]]
    return session, charge


def test_a_refund_removes_what_is_left_of_the_purchase(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    _session, charge = paid_pack(stripe_catalog, deliver, user)
    services.credit_spend(user=user, amount=30 * MILLI, key="test:spent")
    assert balance(user) == 70 * MILLI

    stripe_catalog.refund(charge["id"])
    for _ in range(3):  # replayed
        response = deliver(stripe_catalog.event("charge.refunded", charge))
        assert response.status_code == 200

    assert balance(user) == 0  # the 30 spent stay spent; the 70 left are gone
    refund = LedgerEntry.objects.get(kind=EntryKind.REFUND)
    assert refund.amount == -70 * MILLI
    purchase = Purchase.objects.get()
    assert purchase.status == PurchaseStatus.REFUNDED
    assert purchase.amount_refunded_cents == 1000


def test_partial_refunds_each_take_their_share(stripe_catalog, deliver):
    user = UserFactory(credits=5)
    _session, charge = paid_pack(stripe_catalog, deliver, user)

    stripe_catalog.refund(charge["id"], amount=250)  # a quarter
    deliver(stripe_catalog.event("charge.refunded", charge))
    assert balance(user) == (105 - 25) * MILLI
    assert Purchase.objects.get().status == PurchaseStatus.PARTIALLY_REFUNDED

    stripe_catalog.refund(charge["id"], amount=250)  # another quarter
    deliver(stripe_catalog.event("charge.refunded", charge))
    deliver(stripe_catalog.event("charge.refunded", charge))
    assert balance(user) == (105 - 50) * MILLI
    # The other credits (the 5 the user had) are never touched.
    stripe_catalog.refund(charge["id"])
    deliver(stripe_catalog.event("charge.refunded", charge))
    assert balance(user) == 5 * MILLI


def test_a_refund_announced_before_the_purchase_credits_only_the_rest(
    stripe_catalog, deliver
):
    user = UserFactory(credits=0)
    session = buy_pack(stripe_catalog, user)
    stripe_catalog.checkout_completed(session["id"])
    charge = stripe_catalog.objects[
        stripe_catalog.objects[session["payment_intent"]]["latest_charge"]
    ]
    stripe_catalog.refund(charge["id"], amount=400)

    deliver(stripe_catalog.event("charge.refunded", charge))
    deliver(stripe_catalog.event("checkout.session.completed", session))

    assert balance(user) == 60 * MILLI
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()


def test_a_refund_of_something_else_is_acknowledged(stripe_catalog, deliver):
    user = UserFactory(credits=0)
    customer = payments.customer_for(user=user)
    intent = stripe_catalog.payment_intent(customer=customer.id, amount=500)
    charge = stripe_catalog.charge(
        customer=customer.id, payment_intent=intent["id"], amount=500
    )
    stripe_catalog.refund(charge["id"])

    assert deliver(stripe_catalog.event("charge.refunded", charge)).status_code == 200
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()


@pytest.mark.django_db(transaction=True)
def test_duplicates_delivered_at_the_same_moment_credit_once(
    stripe_catalog, webhook_endpoint
):
    """Stripe's retries can overlap: six deliveries at once, some the same
    event, some other events about the same session."""
    user = UserFactory(credits=0)
    session = buy_pack(stripe_catalog, user)
    stripe_catalog.checkout_completed(session["id"])
    first = stripe_catalog.event("checkout.session.completed", session)
    events = [first, first, first] + [
        stripe_catalog.event(kind, session)
        for kind in (
            "checkout.session.completed",
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded",
        )
    ]
    url = reverse(
        "djstripe:djstripe_webhook_by_uuid",
        kwargs={"uuid": webhook_endpoint.djstripe_uuid},
    )
    barrier = threading.Barrier(len(events))
    answers = []

    def deliver(event):
        body, header = stripe_catalog.signed(event, WEBHOOK_SECRET)
        barrier.wait()
        try:
            response = Client().post(
                url,
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=header,
            )
            answers.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [200] * len(events)
    assert balance(user) == 100 * MILLI
    assert LedgerEntry.objects.filter(kind=EntryKind.PURCHASE).count() == 1
