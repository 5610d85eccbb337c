"""A run holds a small part of its budget and more as it spends: one balance
carries several runs at once, each can still spend its whole budget, and
money stays exact when runs charge at once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from agents import services
from agents.models import LanguageModel, Run, RunStatus
from billing import services as billing_services
from billing.models import MILLI, CreditAccount, EntryKind, LedgerEntry, RunBudget
from tests.agents.factories import make_agent, make_calculator_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def account(user) -> CreditAccount:
    return CreditAccount.objects.get(user=user)


def books_balance(user) -> None:
    """The ledger adds up to the balance, and nothing is held."""
    total = LedgerEntry.objects.filter(account__user=user).aggregate(t=Sum("amount"))
    assert account(user).balance == total["t"]
    assert account(user).held == 0


def new_user():
    """A person who just signed up: their 10 free credits, nothing else."""
    user = UserFactory(credits=0)
    billing_services.credits_grant_signup(user=user)
    return user


def test_a_new_user_starts_five_demo_runs_at_once_and_all_finish():
    user = new_user()
    agent = make_agent(user, name="Greeter", instructions="Greet warmly.")
    barrier = threading.Barrier(5)
    statuses, run_ids = [], []

    def start() -> None:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            response = client.post(
                f"/api/v1/agents/{agent.pk}/run/",
                {"input": "Hello there, how are you?"},
                format="json",
            )
            statuses.append(response.status_code)
            run_ids.append(response.json().get("id"))
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202] * 5
    # Each holds a little of the 10 credits, not all of them.
    holds = RunBudget.objects.filter(run_id__in=run_ids).values_list("held", flat=True)
    assert len(holds) == 5
    assert all(0 < hold <= 2 * MILLI for hold in holds)
    assert account(user).held == sum(holds)
    for run_id in run_ids:
        services.run_execute(run_id=run_id, worker="test")
    runs = Run.objects.filter(pk__in=run_ids)
    assert {run.status for run in runs} == {RunStatus.COMPLETED}
    spent = sum(run.cost for run in runs)
    assert spent > 0
    assert account(user).balance == 10 * MILLI - spent
    books_balance(user)


def test_a_run_holds_more_as_it_spends_up_to_its_budget():
    user = UserFactory(credits=100)
    run = make_run(make_calculator_agent(user), user=user)
    budget = RunBudget.objects.get(run=run)
    first_hold = budget.held
    assert first_hold < budget.reserved == 25 * MILLI
    charged, ran_out = billing_services.run_charge(
        run=run, amount=first_hold + 500, key="step:1"
    )
    assert (charged, ran_out) == (first_hold + 500, False)
    budget.refresh_from_db()
    assert (budget.charged, budget.held) == (first_hold + 500, 0)
    assert account(user).held == 0
    # The rest of its budget, and no more.
    left = budget.reserved - budget.charged
    charged, ran_out = billing_services.run_charge(
        run=run, amount=left + 1, key="step:2"
    )
    assert (charged, ran_out) == (left, True)
    budget.refresh_from_db()
    assert budget.charged == budget.reserved
    billing_services.run_release(run=run)
    assert account(user).balance == 75 * MILLI
    books_balance(user)


def test_a_hold_grows_only_from_what_other_runs_do_not_hold():
    user = UserFactory(credits=3)
    agent = make_agent(user)
    first, second = make_run(agent, user=user), make_run(agent, user=user)
    other_hold = RunBudget.objects.get(run=second).held
    available = 3 * MILLI - RunBudget.objects.get(run=first).held - other_hold
    hold = RunBudget.objects.get(run=first).held
    charged, ran_out = billing_services.run_charge(
        run=first, amount=3 * MILLI, key="big"
    )
    # Everything but what the second run holds: that one can still finish.
    assert (charged, ran_out) == (hold + available, True)
    assert account(user).held == other_hold
    charged, ran_out = billing_services.run_charge(
        run=second, amount=other_hold, key="small"
    )
    assert (charged, ran_out) == (other_hold, False)
    for run in (first, second):
        billing_services.run_release(run=run)
    assert account(user).balance == 0
    books_balance(user)


def test_a_run_whose_balance_runs_out_stops_saying_so_and_keeps_its_steps():
    user = UserFactory(credits=Decimal("1.5"))
    agent = make_calculator_agent(user)
    run = services.run_start(
        agent=agent, user=user, input="What is 5 + 10, then multiply by 3?"
    )
    # Prices rose after the run was priced: it now costs more than the balance.
    LanguageModel.objects.filter(provider="local").update(
        input_price_per_1k=Decimal("20"), output_price_per_1k=Decimal("20")
    )
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Out of credits: your balance ran out" in run.error
    assert "Redeem a promo code" in run.error
    assert run.steps.filter(type="error", payload__kind="out_of_credits").exists()
    assert run.steps.filter(type="agent-thought").exists()
    assert run.cost == 1500
    assert account(user).balance == 0
    books_balance(user)


def test_runs_charging_at_once_move_exactly_what_they_charge():
    user = UserFactory(credits=5)
    agent = make_agent(user)
    runs = [make_run(agent, user=user) for _ in range(4)]
    barrier = threading.Barrier(len(runs))
    charged = []

    def spend(run) -> None:
        barrier.wait()
        try:
            for step in range(20):
                amount, _ran_out = billing_services.run_charge(
                    run=run, amount=77, key=f"run:{run.pk}:{step}"
                )
                charged.append(amount)
        finally:
            connection.close()

    threads = [threading.Thread(target=spend, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for run in runs:
        billing_services.run_release(run=run)
    # 4 runs of 20 charges of 0.077 (6.16 credits) wanted, 5 there: all
    # of it spent, exactly.
    assert sum(charged) == 5 * MILLI
    assert account(user).balance == 0
    assert -LedgerEntry.objects.filter(kind=EntryKind.RUN_CHARGE).aggregate(
        t=Sum("amount")
    )["t"] == sum(charged)
    books_balance(user)
