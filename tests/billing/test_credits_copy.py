"""What the pages say about credits is true: what the free credits buy, that
offline runs are charged, and how someone short of credits gets more here
(buying when the site takes payments, else a code or the operator)."""

import pytest
from django.core import mail

from billing import selectors
from billing.notifications import low_balance_email_send
from billing.services import SIGNUP_CREDITS, credit_spend
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_credits_page_says_what_the_free_credits_buy(client):
    runs = selectors.offline_runs_for(milli=SIGNUP_CREDITS)
    assert runs >= 50  # a short offline answer costs under a fifth of a credit
    page = client.get("/credits/").content.decode()
    assert f"enough for about {runs} short runs on the offline demo model" in page
    assert "real models" not in page


def test_the_home_page_no_longer_says_offline_runs_are_free(client, settings):
    page = client.get("/").content.decode()
    assert "are free" not in page
    assert "Runs cost credits, on the offline demo model too" in page
    settings.CREDITS_MODE = "off"
    assert "Credits are off on this site" in client.get("/").content.decode()


def test_a_refused_run_says_how_to_get_credits_on_this_site(as_user, settings):
    user = UserFactory(credits=0)
    agent = make_agent(user)
    url = f"/api/v1/agents/{agent.pk}/run/"
    message = as_user(user).post(url, {"input": "Hi"}, format="json").json()
    assert message["credits"][0].endswith(
        "Redeem a promo code on the Credits page, or ask the site's operator "
        "for credits."
    )
    settings.STRIPE_TEST_SECRET_KEY = "sk_test_123"
    message = as_user(user).post(url, {"input": "Hi"}, format="json").json()
    assert message["credits"][0].endswith("Buy credits on the Credits page.")


def test_the_credits_page_without_payments_points_to_codes_and_the_operator(
    client, settings
):
    settings.STRIPE_TEST_SECRET_KEY = ""
    client.force_login(UserFactory(credits=0))
    page = client.get("/credits/").content.decode()
    assert "More credits" in page
    assert "redeem a code above, or ask the site's operator" in page
    assert 'id="credit-redeem"' in page


def test_the_low_balance_email_says_the_way_back():
    user = UserFactory(credits=3)
    credit_spend(user=user, amount=2000, key="run:1")  # 1 left: below 2
    assert low_balance_email_send(account_id=user.credit_account.pk)
    assert "Redeem a promo code on the Credits page" in mail.outbox[0].body
