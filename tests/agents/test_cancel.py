"""Cancelling a run: it says so in a last step, saves nothing after it, is
charged what its worker consumed, and gives back only the rest of its hold.

tests/agents/test_cancel_race.py cancels runs on a real worker at many
delays; these tests take each part of the protocol in turn.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents import services
from agents.models import Run, RunStatus, StepType
from agents.runtime.executor import Outcome
from agents.services.runs import Unpaid, run_step_record
from billing.models import CreditAccount, LedgerEntry, RunBudget
from config import heartbeat
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def running_run(credits: int = 20) -> Run:
    run = make_run(make_agent(UserFactory(credits=credits)))
    services.run_claim(run_id=run.pk, worker="celery@test")
    return run


def think(run: Run, order: int, cost: int):
    return run_step_record(
        run=run, order=order, type="agent-thought", payload={"text": "Hm."}, cost=cost
    )


def books_balance(user) -> None:
    """Ledger sum = balance, and nothing held."""
    account = CreditAccount.objects.get(user=user)
    total = LedgerEntry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"]
    assert account.balance == total
    assert account.held == 0


def charges(run: Run) -> int:
    return -(LedgerEntry.objects.filter(run=run).aggregate(t=Sum("amount"))["t"] or 0)


def test_a_running_run_is_cancelled_with_a_last_step_and_keeps_its_hold():
    run = running_run()
    think(run, 2, 100)
    held = CreditAccount.objects.get(user=run.owner).held
    services.run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    last = run.steps.order_by("order").last()
    assert (last.order, last.type, last.cost) == (3, StepType.CANCELLED, 0)
    # Its worker has not stopped yet: it settles the run itself.
    assert RunBudget.objects.get(run=run).released_at is None
    assert CreditAccount.objects.get(user=run.owner).held == held


def test_nothing_is_saved_or_charged_after_the_cancel():
    run = running_run()
    think(run, 2, 100)
    services.run_cancel(run=run)
    assert think(run, 4, 100) is None
    assert list(run.steps.values_list("type", flat=True)) == [
        "user-request",
        "agent-thought",
        "cancelled",
    ]
    assert charges(run) == 100


def test_the_worker_charges_what_it_consumed_to_the_cancellation_then_releases():
    """Charges = the priced steps; the rest of the hold goes back."""
    run = running_run()
    think(run, 2, 100)
    services.run_cancel(run=run)
    unpaid = Unpaid(cost=40, input_tokens=300, output_tokens=12)
    services.run_finish(run=run, outcome=Outcome("cancelled"), unpaid=unpaid)
    run.refresh_from_db()
    cancelled = run.steps.get(type=StepType.CANCELLED)
    assert (cancelled.cost, cancelled.input_tokens, cancelled.output_tokens) == (
        40,
        300,
        12,
    )
    assert charges(run) == 140 == run.steps.aggregate(t=Sum("cost"))["t"]
    assert run.cost == 140
    assert RunBudget.objects.get(run=run).released_at is not None
    books_balance(run.owner)
    # Settling twice (a redelivered task, the sweep) changes nothing.
    services.run_finish(run=run, outcome=Outcome("cancelled"), unpaid=unpaid)
    assert charges(run) == 140


def test_a_cancelled_run_that_finished_anyway_stays_cancelled_without_an_error():
    run = running_run()
    services.run_cancel(run=run)
    ended = services.run_finish(
        run=run, outcome=Outcome("failed", error="Out of credits")
    )
    assert ended is None
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert not run.steps.filter(type=StepType.ERROR).exists()


def test_a_queued_or_paused_run_gives_its_hold_back_when_cancelled():
    run = make_run(make_agent(UserFactory(credits=20)))
    services.run_cancel(run=run)
    assert run.steps.order_by("order").last().type == StepType.CANCELLED
    assert RunBudget.objects.get(run=run).released_at is not None
    books_balance(run.owner)


def test_the_sweep_gives_back_the_hold_of_a_cancelled_run_whose_worker_died():
    run = running_run()
    services.run_cancel(run=run)
    Run.objects.filter(pk=run.pk).update(
        finished_at=timezone.now() - timedelta(minutes=5)
    )
    heartbeat.beat("celery@other")
    assert services.run_sweep_dead() == 1
    assert RunBudget.objects.get(run=run).released_at is not None
    books_balance(run.owner)
    heartbeat.forget("celery@other")


def test_the_sweep_leaves_a_just_cancelled_run_to_its_live_worker():
    run = running_run()
    services.run_cancel(run=run)
    heartbeat.beat("celery@test")
    assert services.run_sweep_dead() == 0
    assert RunBudget.objects.get(run=run).released_at is None
    heartbeat.forget("celery@test")


def _first(queries, *needles) -> int:
    for index, query in enumerate(queries):
        sql = query["sql"]
        if all(needle in sql for needle in needles):
            return index
    return len(queries)


def _run_locked_before_account(capture) -> bool:
    """The run's row is locked (UPDATE, or SELECT ... FOR [NO KEY] UPDATE),
    and before the credit account's if that is locked at all."""
    queries = capture.captured_queries
    account = _first(queries, '"billing_creditaccount"', "FOR UPDATE")
    run = min(
        _first(queries, 'UPDATE "agents_run"'),
        _first(queries, 'FROM "agents_run"', "FOR NO KEY UPDATE"),
        _first(queries, 'FROM "agents_run"', "FOR UPDATE"),
    )
    return run < len(queries) and run < account


@pytest.mark.parametrize(
    "end",
    [
        pytest.param(
            lambda run: services.run_finish(run=run, outcome=Outcome("completed")),
            id="finish",
        ),
        pytest.param(lambda run: services.run_cancel(run=run), id="cancel"),
        pytest.param(lambda run: think(run, 2, 100), id="charge"),
        pytest.param(lambda run: services.run_delete(run=run), id="delete"),
    ],
)
def test_every_path_locks_the_run_before_the_credit_account(end):
    """One lock order: a cancel and its worker ending the run (or charging a
    step) at the same moment cannot deadlock on the account and the run."""
    run = running_run()
    with CaptureQueriesContext(connection) as capture:
        end(run)
    assert _run_locked_before_account(capture), [
        q["sql"][:120] for q in capture.captured_queries
    ]
