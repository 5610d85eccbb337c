"""Stripe fixtures, loaded as a plugin by tests/conftest.py so billing and
browser tests share them: a test-mode key, Stripe's API faked at the HTTP
layer (tests/billing/fake_stripe.py), the catalog synced into it, and a
webhook endpoint whose secret signs the events posted to the real view."""

from __future__ import annotations

import pytest
import responses
import stripe
from django.urls import reverse
from djstripe.models import WebhookEndpoint

from billing import payments
from tests.billing.fake_stripe import FakeStripe

WEBHOOK_SECRET = "whsec_test_agentry"


@pytest.fixture
def stripe_keys(settings, monkeypatch):
    settings.STRIPE_TEST_SECRET_KEY = "sk_test_AgentryFakeKeyForTests0001"
    settings.STRIPE_LIVE_MODE = False
    monkeypatch.setattr(stripe, "max_network_retries", 0)


@pytest.fixture
def fake_stripe(stripe_keys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeStripe(rsps)


@pytest.fixture
def stripe_catalog(db, fake_stripe):
    payments.catalog_sync(write=lambda *args: None)
    return fake_stripe


@pytest.fixture
def webhook_endpoint(db):
    return WebhookEndpoint.objects.create(
        id="we_test_agentry",
        livemode=False,
        secret=WEBHOOK_SECRET,
        url="https://agentry.example/stripe/webhook/",
        enabled_events=["*"],
        status="enabled",
        api_version="2026-05-27.dahlia",
    )


@pytest.fixture
def deliver(client, webhook_endpoint, fake_stripe):
    """Post an event, signed with the endpoint's secret, to dj-stripe's
    webhook view; returns the response."""
    url = reverse(
        "djstripe:djstripe_webhook_by_uuid",
        kwargs={"uuid": webhook_endpoint.djstripe_uuid},
    )

    def post(event, *, secret=WEBHOOK_SECRET, signature=None):
        body, header = fake_stripe.signed(event, secret)
        headers = (
            {}
            if signature == "missing"
            else {"HTTP_STRIPE_SIGNATURE": signature or header}
        )
        return client.post(url, data=body, content_type="application/json", **headers)

    return post
