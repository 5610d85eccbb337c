"""Against Stripe's real test mode: opt-in, with a test key in the
environment (``STRIPE_TESTMODE_SECRET_KEY=sk_test_... make test``, or
``make test-stripe``). Without one these tests are reported as skipped; the
suite's faked-Stripe tests (tests/billing/test_stripe_*.py) cover the same
paths offline.

Stripe's own objects (catalog, customer, Checkout Session, a subscription
paid with Stripe's test card) are created for real; the events about them are
signed here with the endpoint's secret and posted to the site's webhook view,
so dj-stripe re-fetches every object from Stripe itself.
"""

from __future__ import annotations

import json
import os

import pytest
import stripe
from django.urls import reverse
from djstripe.models import WebhookEndpoint

from billing import payments, services
from billing.models import MILLI, EntryKind, LedgerEntry
from tests.community.factories import UserFactory

KEY = os.environ.get("STRIPE_TESTMODE_SECRET_KEY", "")

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not KEY.startswith("sk_test_"),
        reason="set STRIPE_TESTMODE_SECRET_KEY=sk_test_... to run against Stripe",
    ),
]


@pytest.fixture
def live_stripe(settings):
    settings.STRIPE_TEST_SECRET_KEY = KEY
    settings.STRIPE_LIVE_MODE = False
    payments.catalog_sync(write=lambda *args: None)


def event(type_: str, obj) -> dict:
    return {
        "id": f"evt_agentry_{obj['id']}_{type_}",
        "object": "event",
        "api_version": "2026-05-27.dahlia",
        "created": obj["created"],
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
        "data": {"object": obj.to_dict() if hasattr(obj, "to_dict") else obj},
    }


def test_a_checkout_session_is_real(live_stripe):
    user = UserFactory()
    session = payments.checkout_session_create(
        user=user,
        pack="pack_100",
        success_url="https://agentry.example/ok",
        cancel_url="https://agentry.example/no",
    )
    assert session["url"].startswith("https://checkout.stripe.com/")
    remote = stripe.checkout.Session.retrieve(session["id"], api_key=KEY)
    assert remote["amount_total"] == 1000


def test_a_paid_subscription_invoice_allocates_credits(live_stripe, client):
    user = UserFactory(credits=0)
    customer = payments.customer_for(user=user)
    stripe.PaymentMethod.attach("pm_card_visa", customer=customer.id, api_key=KEY)
    price = payments._catalog_price(payments.plan_lookup_key("basic", "month"))
    subscription = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": price.id}],
        default_payment_method="pm_card_visa",
        api_key=KEY,
    )
    try:
        invoice = stripe.Invoice.retrieve(subscription["latest_invoice"], api_key=KEY)
        assert invoice["status"] == "paid"
        endpoint = WebhookEndpoint.objects.create(
            id="we_agentry_testmode",
            livemode=False,
            secret="whsec_agentry_testmode",
            url="https://agentry.example/stripe/webhook/",
            enabled_events=["*"],
            status="enabled",
            api_version="2026-05-27.dahlia",
        )
        body = json.dumps(event("invoice.paid", invoice))
        header = stripe.WebhookSignature.generate_signature_header(
            body, endpoint.secret
        )
        url = reverse(
            "djstripe:djstripe_webhook_by_uuid",
            kwargs={"uuid": endpoint.djstripe_uuid},
        )
        for _ in range(2):
            response = client.post(
                url,
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=header,
            )
            assert response.status_code == 200, response.content
        assert services.account_get_or_create(user=user).balance == 100 * MILLI
        assert LedgerEntry.objects.filter(kind=EntryKind.ALLOCATION).count() == 1
    finally:
        stripe.Subscription.cancel(subscription["id"], api_key=KEY)
