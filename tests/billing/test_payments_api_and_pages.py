"""Buying from the API and the pages, the catalog command and the staff's
view; Stripe's API faked at the HTTP layer (tests/billing/fake_stripe.py)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from billing import payments
from billing.models import MILLI, Purchase, PurchaseStatus
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/payments/create-checkout-session/"


# --- the API ---------------------------------------------------------------


def test_checkout_for_a_pack_answers_stripes_url(stripe_catalog, as_user):
    user = UserFactory()
    response = as_user(user).post(CHECKOUT, {"pack": "pack_1000"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    session = stripe_catalog.objects[body["id"]]
    assert body["url"] == body["checkout_url"] == session["url"]
    assert body["mode"] == "payment"
    assert session["amount_total"] == 8000
    assert session["metadata"]["agentry_pack"] == "pack_1000"
    assert session["success_url"].endswith(
        "/credits/checkout/success/?session_id={CHECKOUT_SESSION_ID}"
    )
    assert session["cancel_url"].endswith("/credits/checkout/cancelled/")
    purchase = Purchase.objects.get(user=user)
    assert (purchase.credits, purchase.status) == (1000 * MILLI, PurchaseStatus.PENDING)
    # The buyer is a Stripe customer tied to the user.
    customer = stripe_catalog.objects[session["customer"]]
    assert customer["metadata"]["djstripe_subscriber"] == str(user.pk)


def test_checkout_for_a_plan_is_a_subscription(stripe_catalog, as_user):
    response = as_user(UserFactory()).post(
        CHECKOUT, {"plan": "pro", "interval": "year"}, format="json"
    )

    assert response.status_code == 201, response.content
    session = stripe_catalog.objects[response.json()["id"]]
    assert session["mode"] == "subscription"
    price = stripe_catalog.objects[session["line_items"][0]["price"]]
    assert (price["lookup_key"], price["unit_amount"]) == ("agentry_pro_yearly", 48000)
    assert session["subscription_data"]["metadata"]["agentry_plan"] == "pro"
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"pack": "pack_7"}, "pack"),
        ({"plan": "platinum"}, "plan"),
        ({"plan": "basic", "interval": "weekly"}, "interval"),
        ({"pack": "pack_100", "plan": "basic"}, "non_field_errors"),
        ({}, "non_field_errors"),
    ],
)
def test_bad_checkout_requests_get_field_errors(
    stripe_catalog, as_user, payload, field
):
    response = as_user(UserFactory()).post(CHECKOUT, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Purchase.objects.exists()
    assert ("POST", "checkout/sessions") not in stripe_catalog.requests


def test_purchase_endpoint_takes_a_pack(stripe_catalog, as_user):
    client = as_user(UserFactory())
    response = client.post("/api/v1/credits/purchase/", {"pack": "pack_100"})
    assert response.status_code == 201
    assert response.json()["checkout_url"].startswith("https://checkout.stripe.com/")

    missing = client.post("/api/v1/credits/purchase/", {})
    assert missing.status_code == 400
    assert "pack" in missing.json()


def test_without_a_stripe_key_buying_says_so(db, settings, as_user):
    settings.STRIPE_TEST_SECRET_KEY = ""
    response = as_user(UserFactory()).post(CHECKOUT, {"pack": "pack_100"})

    assert response.status_code == 503
    assert "not set up" in response.json()["detail"]
    assert not Purchase.objects.exists()


def test_stripe_failing_is_a_503_and_records_nothing(stripe_catalog, as_user):
    stripe_catalog.failing.add("checkout/sessions")
    response = as_user(UserFactory()).post(CHECKOUT, {"pack": "pack_100"})

    assert response.status_code == 503
    assert "Stripe could not take this request" in response.json()["detail"]
    assert not Purchase.objects.exists()


def test_an_unsynced_catalog_is_explained(fake_stripe, as_user):
    response = as_user(UserFactory()).post(CHECKOUT, {"pack": "pack_100"})

    assert response.status_code == 503
    assert "sync_stripe_catalog" in response.json()["detail"]


def test_paying_needs_an_account(stripe_catalog, api_client):
    assert api_client.post(CHECKOUT, {"pack": "pack_100"}).status_code in (401, 403)
    assert api_client.get("/api/v1/payments/purchases/").status_code in (401, 403)


def test_purchases_and_plan_are_your_own(stripe_catalog, as_user):
    buyer, other = UserFactory(), UserFactory()
    as_user(buyer).post(CHECKOUT, {"pack": "pack_100"})

    mine = as_user(buyer).get("/api/v1/payments/purchases/").json()["results"]
    theirs = as_user(other).get("/api/v1/payments/purchases/").json()["results"]

    assert [(p["pack"], p["credits"], p["status"]) for p in mine] == [
        ("pack_100", 100, "pending")
    ]
    assert theirs == []
    plan = as_user(other).get("/api/v1/payments/subscription/").json()
    assert (plan["id"], plan["interval"]) == ("free", None)


def test_the_portal_session_returns_to_credits(stripe_catalog, as_user):
    response = as_user(UserFactory()).post("/api/v1/payments/portal/")

    assert response.status_code == 200
    session = next(
        o
        for o in stripe_catalog.objects.values()
        if o["object"] == "billing_portal.session"
    )
    assert response.json()["url"] == session["url"]
    assert session["return_url"].endswith("/credits/")


# --- the pages -------------------------------------------------------------


def test_the_credits_page_sells_packs_and_plans(stripe_catalog, client):
    client.force_login(UserFactory())
    page = client.get(reverse("billing:credits")).content.decode()

    assert "You are on the Free plan." in page
    assert 'data-pack="pack_5000"' in page
    assert "$350" in page
    assert 'data-plan="basic-year"' in page
    assert "$192 a year" in page
    assert 'id="payments-off"' not in page


def test_the_credits_page_says_when_payments_are_off(db, settings, client):
    settings.STRIPE_TEST_SECRET_KEY = ""
    client.force_login(UserFactory())
    page = client.get(reverse("billing:credits")).content.decode()

    assert 'id="payments-off"' in page
    assert "data-pack=" not in page


def test_buying_from_the_page_goes_to_stripe_and_back(stripe_catalog, deliver, client):
    user = UserFactory(credits=0)
    client.force_login(user)

    response = client.post(reverse("billing:checkout"), {"pack": "pack_100"})
    assert response.status_code == 303
    purchase = Purchase.objects.get(user=user)
    assert (
        response["Location"]
        == (stripe_catalog.objects[purchase.checkout_session_id]["url"])
    )

    success = reverse("billing:checkout-success")
    url = f"{success}?session_id={purchase.checkout_session_id}"
    waiting = client.get(url).content.decode()
    assert "Waiting for Stripe to confirm" in waiting
    assert 'hx-trigger="every 2s"' in waiting

    session = stripe_catalog.checkout_completed(purchase.checkout_session_id)
    deliver(stripe_catalog.event("checkout.session.completed", session))

    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "100 credits were added" in done
    assert "hx-trigger" not in done


def test_someone_elses_session_shows_nothing_of_it(stripe_catalog, client):
    buyer = UserFactory()
    client.force_login(buyer)
    client.post(reverse("billing:checkout"), {"pack": "pack_500"})
    session_id = Purchase.objects.get().checkout_session_id

    client.force_login(UserFactory())
    url = f"{reverse('billing:checkout-success')}?session_id={session_id}"
    page = client.get(url).content.decode()

    assert "500 credits" not in page
    assert "being confirmed by Stripe" in page


def test_a_bad_pack_from_the_page_comes_back_with_a_message(stripe_catalog, client):
    client.force_login(UserFactory())
    response = client.post(reverse("billing:checkout"), {"pack": "pack_9"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("billing:credits")
    assert "Choose one of" in response.content.decode()
    assert not Purchase.objects.exists()


def test_the_cancel_page_says_nothing_was_charged(client):
    client.force_login(UserFactory())
    page = client.get(reverse("billing:checkout-cancelled")).content.decode()
    assert "Nothing was charged" in page


def test_the_portal_button_redirects_to_stripe(stripe_catalog, client):
    client.force_login(UserFactory())
    response = client.post(reverse("billing:portal"))
    assert response.status_code == 303
    assert response["Location"].startswith("https://billing.stripe.com/")


# --- the catalog command and the admin -------------------------------------


def test_sync_stripe_catalog_creates_then_leaves_alone(fake_stripe):
    call_command("sync_stripe_catalog")
    prices = {
        o["lookup_key"]: o["unit_amount"]
        for o in fake_stripe.objects.values()
        if o["object"] == "price"
    }
    assert prices == {
        "agentry_pack_100": 1000,
        "agentry_pack_500": 4500,
        "agentry_pack_1000": 8000,
        "agentry_pack_5000": 35000,
        "agentry_basic_monthly": 2000,
        "agentry_basic_yearly": 19200,
        "agentry_pro_monthly": 5000,
        "agentry_pro_yearly": 48000,
    }
    assert fake_stripe.objects["agentry_pro_packs"]["percent_off"] == 30
    assert payments._catalog_price("agentry_pack_100").unit_amount == 1000

    before = len(fake_stripe.objects)
    call_command("sync_stripe_catalog")
    assert len(fake_stripe.objects) == before


def test_sync_stripe_catalog_needs_a_test_key(db, settings):
    settings.STRIPE_TEST_SECRET_KEY = ""
    with pytest.raises(CommandError, match="No Stripe key"):
        call_command("sync_stripe_catalog")
    settings.STRIPE_LIVE_MODE = True
    settings.STRIPE_LIVE_SECRET_KEY = "sk_live_" + "x" * 24
    with pytest.raises(CommandError, match="live-mode key"):
        call_command("sync_stripe_catalog")


def test_staff_see_purchases_and_the_plan_in_the_admin(stripe_catalog, deliver, client):
    user = UserFactory(credits=0)
    client.force_login(user)
    client.post(reverse("billing:checkout"), {"pack": "pack_100"})
    purchase = Purchase.objects.get()
    session = stripe_catalog.checkout_completed(purchase.checkout_session_id)
    deliver(stripe_catalog.event("checkout.session.completed", session))

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    account = user.credit_account
    page = client.get(
        reverse("admin:billing_creditaccount_change", args=[account.pk])
    ).content.decode()
    assert "Free (no subscription)" in page
    assert "100 credits, $10.00" in page
    listing = client.get(reverse("admin:billing_purchase_changelist")).content.decode()
    assert "Paid" in listing
