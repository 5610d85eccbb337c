"""The credits ledger: exact, idempotent, never negative, expiring soonest first."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from billing import services
from billing.models import MILLI, CreditAccount, CreditLot, EntryKind, LedgerEntry
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


def ledger_sum(user) -> int:
    return LedgerEntry.objects.filter(account__user=user).aggregate(s=Sum("amount"))[
        "s"
    ]


def add(user, credits, key, **kwargs):
    return services.credit_add(
        user=user,
        amount=credits * MILLI,
        kind=kwargs.pop("kind", EntryKind.PURCHASE),
        key=key,
        **kwargs,
    )


def test_it_starts_new_accounts_with_ten_credits_that_expire_in_30_days():
    user = UserFactory(credits=0)
    entry = services.credits_grant_signup(user=user)
    again = services.credits_grant_signup(user=user)
    assert again.pk == entry.pk
    assert balance(user) == 10 * MILLI
    lot = CreditLot.objects.get(account__user=user)
    assert lot.expires_at - timezone.now() > timedelta(days=29, hours=23)
    assert lot.expires_at - timezone.now() <= timedelta(days=30)


def test_the_same_key_twice_changes_the_balance_once():
    user = UserFactory(credits=0)
    first = add(user, 100, "cs_test_1")
    second = add(user, 100, "cs_test_1")
    assert first.pk == second.pk
    services.credit_spend(user=user, amount=2500, key="run:1:charge:1")
    services.credit_spend(user=user, amount=2500, key="run:1:charge:1")
    assert balance(user) == 97_500
    assert ledger_sum(user) == balance(user)
    assert LedgerEntry.objects.count() == 2


def test_a_key_reused_for_another_change_is_refused():
    user, other = UserFactory(credits=0), UserFactory(credits=0)
    add(user, 5, "shared-key")
    with pytest.raises(services.IdempotencyConflictError):
        add(other, 5, "shared-key")
    with pytest.raises(services.IdempotencyConflictError):
        services.credit_spend(user=user, amount=1, key="shared-key")
    assert balance(user) == 5 * MILLI


def test_it_refuses_to_spend_beyond_the_balance_and_changes_nothing():
    user = UserFactory(credits=0)
    add(user, 3, "k1")
    with pytest.raises(services.InsufficientCreditsError) as caught:
        services.credit_spend(user=user, amount=3001, key="run:9:charge:1")
    assert "this needs 3.001 and the balance is 3" in str(caught.value)
    assert balance(user) == 3 * MILLI
    assert LedgerEntry.objects.count() == 1
    assert CreditLot.objects.get().remaining == 3 * MILLI


def test_the_database_itself_refuses_a_negative_balance():
    user = UserFactory(credits=0)
    add(user, 1, "k1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(user=user).update(balance=-1)


def test_spending_takes_the_soonest_expiring_credits_first():
    user = UserFactory(credits=0)
    now = timezone.now()
    add(user, 10, "bought")  # never expires
    add(user, 5, "later", kind=EntryKind.GRANT, expires_at=now + timedelta(days=20))
    add(user, 4, "sooner", kind=EntryKind.GRANT, expires_at=now + timedelta(days=2))
    services.credit_spend(user=user, amount=6 * MILLI, key="run:1")
    lots = {
        lot.entry.idempotency_key: lot.remaining
        for lot in CreditLot.objects.select_related("entry")
    }
    assert lots == {"sooner": 0, "later": 3 * MILLI, "bought": 10 * MILLI}


def test_unused_credits_expire_with_an_entry_and_spent_ones_do_not():
    user = UserFactory(credits=0)
    past = timezone.now() - timedelta(minutes=1)
    add(user, 10, "welcome", kind=EntryKind.GRANT, expires_at=past)
    add(user, 20, "bought")
    services.credit_spend(user=user, amount=4 * MILLI, key="run:1")
    assert services.credits_expire() == 1
    assert services.credits_expire() == 0
    expiry = LedgerEntry.objects.get(kind=EntryKind.EXPIRY)
    assert expiry.amount == -6 * MILLI
    assert balance(user) == 20 * MILLI
    assert ledger_sum(user) == balance(user)
    assert CreditLot.objects.get(entry__idempotency_key="welcome").remaining == 0


def test_staff_adjustments_need_a_reason_and_never_go_below_zero():
    user, staff = UserFactory(credits=0), UserFactory(is_staff=True, credits=0)
    add(user, 5, "k1")
    with pytest.raises(ValidationError) as caught:
        services.credit_adjust(user=user, amount=MILLI, reason=" ", staff=staff)
    assert "reason" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.credit_adjust(user=user, amount=-6 * MILLI, reason="x", staff=staff)
    assert "below zero" in caught.value.message_dict["amount"][0]
    services.credit_adjust(user=user, amount=-2 * MILLI, reason="Refund", staff=staff)
    entry = services.credit_adjust(
        user=user, amount=1500, reason="Goodwill", staff=staff
    )
    assert entry.created_by == staff
    assert entry.description == "Goodwill"
    assert balance(user) == 4500
    assert ledger_sum(user) == balance(user)


@pytest.mark.parametrize(
    ("value", "milli"), [("10", 10000), (9.25, 9250), ("0.001", 1), (-2, -2000)]
)
def test_credits_are_read_as_exact_milli_credits(value, milli):
    assert services.to_millicredits(value) == milli


@pytest.mark.parametrize("value", ["0.0001", "ten", "NaN", "Infinity"])
def test_amounts_finer_than_a_milli_credit_or_not_numbers_are_refused(value):
    with pytest.raises(ValidationError):
        services.to_millicredits(value)


@pytest.mark.django_db(transaction=True)
def test_concurrent_spends_never_overdraw_and_the_ledger_stays_exact():
    """Twenty threads each try to spend 1 credit from a balance of 10."""
    user = UserFactory(credits=0)
    add(user, 10, "bought")
    results: list[str] = []
    barrier = threading.Barrier(20)

    def spend(number: int) -> None:
        barrier.wait()
        try:
            services.credit_spend(user=user, amount=MILLI, key=f"run:{number}")
            results.append("spent")
        except services.InsufficientCreditsError:
            results.append("refused")
        finally:
            connection.close()
            close_old_connections()

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("spent") == 10
    assert results.count("refused") == 10
    assert balance(user) == 0
    assert ledger_sum(user) == 0
    assert CreditLot.objects.get().remaining == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_scheduled_expiry_task(start_worker):
    """The name beat schedules is a task the worker knows, and it expires."""
    from django.conf import settings

    from config.celery import app
    from tests.worker import wait_for

    user = UserFactory(credits=0)
    add(user, 3, "old", kind=EntryKind.GRANT, expires_at=timezone.now())
    start_worker()
    name = settings.CELERY_BEAT_SCHEDULE["expire-credits"]["task"]
    app.send_task(name)
    assert wait_for(lambda: balance(user) == 0)
    assert LedgerEntry.objects.filter(kind=EntryKind.EXPIRY).count() == 1
