"""Promo codes: staff create them, people redeem them on the Credits page or
over the API, once each, until they expire or are used up; each redemption
is a ledger entry."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing import services
from billing.models import (
    MILLI,
    CreditAccount,
    EntryKind,
    LedgerEntry,
    PromoCode,
    PromoRedemption,
)
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def promo(code="WELCOME5", amount=5 * MILLI, **fields) -> PromoCode:
    return services.promo_code_save(promo=PromoCode(code=code, amount=amount, **fields))


def balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


def refused(user, code) -> str:
    with pytest.raises(ValidationError) as caught:
        services.promo_redeem(user=user, code=code)
    return caught.value.message_dict["code"][0]


def test_redeeming_a_code_adds_its_credits_as_one_entry():
    user = UserFactory(credits=1)
    code = promo(description="Workshop, May")
    entry = services.promo_redeem(user=user, code="  welcome5 ")
    assert (entry.kind, entry.amount, entry.description) == (
        EntryKind.PROMO,
        5 * MILLI,
        "Workshop, May",
    )
    assert balance(user) == 6 * MILLI
    code.refresh_from_db()
    assert code.redeemed == 1
    assert PromoRedemption.objects.get(promo=code, user=user).entry == entry


def test_each_refusal_says_why_and_adds_nothing():
    user = UserFactory(credits=0)
    promo("OLD", expires_at=timezone.now() - timedelta(minutes=1))
    promo("ONCE", max_redemptions=1)
    promo("MINE")
    services.promo_redeem(user=UserFactory(), code="ONCE")
    services.promo_redeem(user=user, code="MINE")
    assert refused(user, "NOPE") == "There is no code NOPE: check its spelling."
    assert refused(user, "old") == "This code has expired."
    assert refused(user, "ONCE") == "This code has been used up."
    assert refused(user, "MINE") == "You have already redeemed this code."
    assert refused(user, " ") == "Type the code you were given."
    assert balance(user) == 5 * MILLI
    assert LedgerEntry.objects.filter(account__user=user).count() == 1


def test_the_database_allows_one_redemption_per_person():
    user = UserFactory()
    code = promo()
    entry = services.promo_redeem(user=user, code=code.code)
    with pytest.raises(IntegrityError), transaction.atomic():
        PromoRedemption.objects.create(promo=code, user=user, entry=entry)


@pytest.mark.django_db(transaction=True)
def test_many_redeeming_at_once_never_pass_the_most_redemptions():
    code = promo("RUSH", max_redemptions=3)
    people = [UserFactory(credits=0) for _ in range(8)]
    barrier = threading.Barrier(len(people))
    outcomes = []

    def redeem(user) -> None:
        barrier.wait()
        try:
            services.promo_redeem(user=user, code="RUSH")
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.message_dict["code"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 3
    assert outcomes.count("This code has been used up.") == 5
    code.refresh_from_db()
    assert code.redeemed == 3 == PromoRedemption.objects.filter(promo=code).count()
    assert LedgerEntry.objects.filter(kind=EntryKind.PROMO).count() == 3


def test_the_api_redeems_and_answers_the_new_balance(as_user):
    user = UserFactory(credits=2)
    promo()
    response = as_user(user).post(
        "/api/v1/credits/redeem/", {"code": "welcome5"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"code": "WELCOME5", "credits": 5, "balance": 7}
    response = as_user(user).post(
        "/api/v1/credits/redeem/", {"code": "welcome5"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"code": ["You have already redeemed this code."]}
    response = as_user(user).post("/api/v1/credits/redeem/", {}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()


def test_the_credits_page_redeems_in_place_with_htmx(client):
    user = UserFactory(credits=2)
    promo()
    client.force_login(user)
    page = client.get("/credits/").content.decode()
    assert 'id="credit-redeem"' in page
    response = client.post("/credits/redeem/", {"code": "NOPE"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only successful answers
    html = response.content.decode()
    assert "There is no code NOPE" in html
    assert 'aria-invalid="true"' in html
    response = client.post(
        "/credits/redeem/", {"code": "welcome5"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "5 credits added: your balance is 7." in html
    # The balances elsewhere on the page follow.
    assert 'id="credit-balance" hx-swap-oob="true">7<' in html
    assert 'id="header-balance"' in html


def test_the_credits_page_redeems_without_script_too(client):
    user = UserFactory(credits=0)
    promo()
    client.force_login(user)
    response = client.post("/credits/redeem/", {"code": "WELCOME5"}, follow=True)
    assert "5 credits added: your balance is 5." in response.content.decode()
    response = client.post("/credits/redeem/", {"code": "WELCOME5"})
    assert response.status_code == 400
    assert "You have already redeemed this code." in response.content.decode()


def test_staff_create_codes_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/billing/promocode/add/",
        {
            "code": " spring ",
            "credits": "2.5",
            "expires_at_0": "",
            "expires_at_1": "",
            "max_redemptions": "100",
            "description": "Spring",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    code = PromoCode.objects.get()
    assert (code.code, code.amount, code.max_redemptions) == ("SPRING", 2500, 100)
