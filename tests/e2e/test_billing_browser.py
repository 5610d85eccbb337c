"""Buying credits in a real browser: the Credits page, Stripe Checkout (its
page stands in for Stripe's, which this machine cannot reach) and back, with
the credits arriving by signed webhook through dj-stripe's real endpoint."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from billing import services
from billing.models import MILLI, EntryKind, PromoCode, Purchase
from tests.community.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIMEOUT = 10_000


@pytest.fixture(autouse=True)
def _default_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()


def stand_in_for_stripe(page: Page, seen: list[str]) -> None:
    """Stripe's hosted pages, offline: record where the site sent us."""

    def fulfil(route):
        seen.append(route.request.url)
        route.fulfill(
            status=200,
            content_type="text/html",
            body="<h1>Stripe Checkout (stand-in)</h1>",
        )

    page.route(re.compile(r"https://(checkout|billing)\.stripe\.com/.*"), fulfil)


def test_a_member_is_warned_buys_a_pack_and_subscribes(
    page: Page, live_server, stripe_catalog, deliver, screenshot
):
    user = UserFactory(username="payer", credits=3)
    account = services.account_get_or_create(user=user)
    account.low_balance_threshold = 5 * MILLI
    account.save(update_fields=["low_balance_threshold"])
    seen: list[str] = []
    stand_in_for_stripe(page, seen)

    sign_in(page, live_server.url, "payer")
    banner = page.locator("#low-balance-banner")
    expect(banner).to_contain_text("3 credits")
    banner.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/credits/")
    expect(page.locator("#credit-plan")).to_contain_text("Free plan")

    # A pack: off to Checkout, paid, and back.
    page.locator('[data-pack="pack_100"]').click()
    expect(page.get_by_role("heading")).to_have_text("Stripe Checkout (stand-in)")
    purchase = Purchase.objects.get(user=user)
    assert seen[-1] == stripe_catalog.objects[purchase.checkout_session_id]["url"]
    session = stripe_catalog.checkout_completed(purchase.checkout_session_id)
    page.goto(
        f"{live_server.url}/credits/checkout/success/"
        f"?session_id={purchase.checkout_session_id}"
    )
    expect(page.locator("#purchase-status")).to_contain_text("Waiting for Stripe")
    assert (
        deliver(stripe_catalog.event("checkout.session.completed", session)).status_code
        == 200
    )
    # The page checks again by itself and shows the credits.
    expect(page.locator("#purchase-done")).to_contain_text("100 credits were added")

    # Basic, monthly: Checkout again, then Stripe's webhooks.
    page.goto(f"{live_server.url}/credits/")
    expect(page.locator("#low-balance-banner")).to_have_count(0)
    expect(page.locator("#credit-balance")).to_have_text("103")
    page.locator('[data-plan="basic-month"]').click()
    expect(page.get_by_role("heading")).to_have_text("Stripe Checkout (stand-in)")
    session_id = seen[-1].rsplit("/", 1)[-1]
    session = stripe_catalog.objects[session_id]
    subscription = stripe_catalog.subscription(
        customer=session["customer"], price_id=session["line_items"][0]["price"]
    )
    stripe_catalog.checkout_completed(session_id, subscription=subscription)
    deliver(stripe_catalog.event("checkout.session.completed", session))
    invoice = stripe_catalog.invoice(subscription_id=subscription["id"])
    deliver(stripe_catalog.event("invoice.paid", invoice))

    page.goto(f"{live_server.url}/credits/")
    expect(page.locator("#credit-balance")).to_have_text("203")
    expect(page.locator("#credit-plan")).to_contain_text("Basic plan")
    # Packs now show the subscriber's price.
    expect(page.locator('[data-pack="pack_100"]')).to_contain_text("$8")
    history = page.locator("#credit-history")
    bought = history.locator(f'tr[data-kind="{EntryKind.PURCHASE}"]')
    expect(bought.filter(has_text="100-credit pack")).to_have_count(1)
    expect(history.locator(f'tr[data-kind="{EntryKind.ALLOCATION}"]')).to_have_count(1)
    screenshot(page)

    page.locator("#manage-subscription").click()
    expect(page.get_by_role("heading")).to_have_text("Stripe Checkout (stand-in)")
    assert seen[-1].startswith("https://billing.stripe.com/")


def test_a_member_out_of_credits_redeems_a_code_and_the_header_follows(
    page: Page, live_server, settings, screenshot
):
    """Without payments set up, the Credits page shows the way back: a promo
    code, redeemed in place; the balance in the header follows, and on a
    phone the header still fits."""
    settings.STRIPE_TEST_SECRET_KEY = ""
    settings.STRIPE_LIVE_SECRET_KEY = ""
    UserFactory(username="broke", credits=0)
    services.promo_code_save(
        promo=PromoCode(code="WELCOME5", amount=5 * MILLI, max_redemptions=10)
    )
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, live_server.url, "broke")
    expect(page.locator("#header-balance")).to_contain_text("0 credits")
    page.goto(f"{live_server.url}/credits/")
    expect(page.locator("#payments-off")).to_contain_text("redeem a code")

    page.locator("#id_promo_code").fill("nope")
    page.get_by_role("button", name="Redeem").click()
    expect(page.locator("#id_promo_code_error")).to_contain_text(
        "There is no code NOPE"
    )
    page.locator("#id_promo_code").fill("welcome5")
    page.get_by_role("button", name="Redeem").click()
    expect(page.locator("#credit-redeemed")).to_contain_text("5 credits added")
    expect(page.locator("#credit-balance")).to_have_text("5")
    expect(page.locator("#header-balance")).to_contain_text("5 credits")
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, "the page scrolls sideways"
    screenshot(page, "redeemed")
