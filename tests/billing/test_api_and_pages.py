"""Credits over the API, on the Credits page, at sign-up and in the admin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing import services
from billing.models import MILLI, CreditAccount, EntryKind, LedgerEntry
from tests.community.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_balance_reports_decimal_credits_and_what_expires(as_user):
    user = UserFactory(credits=0)
    services.credits_grant_signup(user=user)
    services.credit_spend(user=user, amount=750, key="run:1")
    body = as_user(user).get("/api/v1/credits/balance/").json()
    assert body["balance"] == 9.25
    assert body["low"] is False
    assert body["expiring"][0]["credits"] == 9.25
    services.credit_spend(user=user, amount=8 * MILLI, key="run:2")
    body = as_user(user).get("/api/v1/credits/balance/").json()
    assert body["balance"] == 1.25
    assert body["low"] is True


def test_the_history_lists_only_my_entries_with_filters(as_user):
    user, other = UserFactory(credits=0), UserFactory(credits=0)
    services.credits_grant_signup(user=user)
    services.credits_grant_signup(user=other)
    services.credit_spend(user=user, amount=2 * MILLI, key="run:5")
    body = as_user(user).get("/api/v1/credits/history/").json()
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in body["results"]] == [
        ("run_charge", -2, 8),
        ("grant", 10, 10),
    ]
    body = as_user(user).get("/api/v1/credits/history/?kind=grant").json()
    assert body["count"] == 1
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    body = as_user(user).get(f"/api/v1/credits/history/?since={tomorrow}").json()
    assert body["count"] == 0
    response = as_user(user).get("/api/v1/credits/history/?kind=gift&since=soon")
    assert response.status_code == 400
    assert set(response.json()) == {"kind", "since"}


def test_anonymous_callers_get_no_credits(api_client, client):
    assert api_client.get("/api/v1/credits/balance/").status_code in (401, 403)
    page = client.get("/credits/").content.decode()
    assert "10 free credits" in page
    assert 'id="credit-balance"' not in page


def test_signing_up_grants_the_free_credits(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newcomer",
            "email": "newcomer@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    account = CreditAccount.objects.get(user__username="newcomer")
    assert account.balance == 10 * MILLI
    assert LedgerEntry.objects.get(account=account).kind == EntryKind.GRANT


def test_the_credits_page_shows_balance_expiry_history_and_a_low_warning(client):
    user = UserFactory(credits=0)
    services.credits_grant_signup(user=user)
    services.credit_spend(user=user, amount=8750, key="run:1")
    client.force_login(user)
    html = client.get("/credits/").content.decode()
    assert '<strong id="credit-balance">1.25</strong>' in html
    assert 'id="credit-low"' in html
    assert "1.25 credits expire on" in html
    assert "-8.75" in html
    assert "+10" in html
    filtered = client.get("/credits/?kind=grant").content.decode()
    assert "-8.75" not in filtered


def test_the_credits_page_query_count_stays_flat(client, django_assert_max_num_queries):
    user = UserFactory(credits=0)
    services.credits_grant_signup(user=user)
    for number in range(30):
        services.credit_spend(user=user, amount=100, key=f"run:{number}")
    client.force_login(user)
    with django_assert_max_num_queries(11):
        client.get("/credits/")


def test_staff_adjust_a_balance_in_the_admin_with_a_reason(client):
    staff = UserFactory(is_staff=True, is_superuser=True, credits=0)
    user = UserFactory(credits=0)
    services.credits_grant_signup(user=user)
    account = CreditAccount.objects.get(user=user)
    client.force_login(staff)
    page = client.get(f"/admin/billing/creditaccount/{account.pk}/change/")
    assert "Adjust credits" in page.content.decode()
    url = f"/admin/billing/creditaccount/{account.pk}/adjust/"
    refused = client.post(url, {"credits": "-11", "reason": "Claw back"})
    assert "below zero" in refused.content.decode()
    done = client.post(url, {"credits": "-2.5", "reason": "Duplicate grant"})
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.balance == 7500
    entry = LedgerEntry.objects.get(kind=EntryKind.ADJUSTMENT)
    assert entry.created_by == staff
    assert entry.description == "Duplicate grant"
    # The ledger cannot be edited or deleted, even by a superuser.
    assert (
        client.get(f"/admin/billing/ledgerentry/{entry.pk}/delete/").status_code == 403
    )
