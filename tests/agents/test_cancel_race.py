"""Cancelling a run while a real worker carries it out.

On the broker and channel layer of this run of the suite, like the other
worker tests: PostgreSQL by default, Redis with REDIS_URL (as in CI).

The worker must stop promptly and save nothing after the run is
`cancelled`; what it consumed before the stop is charged, the rest of the
hold given back. Each run is cancelled at a delay after it starts running,
through the API as its owner would, on the real worker and broker.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import pytest
from django.db.models import F, Sum
from rest_framework.test import APIClient

from agents.models import Run, RunStatus, StepType
from billing.models import CreditAccount, EntryKind, LedgerEntry
from billing.services import credit_add
from tests.agents.factories import (
    CALCULATOR_QUESTION,
    make_agent,
    make_calculator_agent,
    make_run,
)
from tests.community.factories import UserFactory
from tests.worker import wait_for
from workflows.runs import workflow_run_start
from workflows.services import workflow_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Milliseconds after the worker claims the run (status `running`).
DELAYS = (0, 20, 50, 100, 200, 500)


@dataclass
class Tally:
    runs: int = 0
    cancelled: int = 0
    steps_after_cancel: int = 0
    answers_after_cancel: int = 0
    charged: int = 0
    priced: int = 0
    # Tokens on steps that were charged nothing: consumed, not paid for.
    unpaid_tokens: int = 0
    mismatches: list[str] = field(default_factory=list)
    server_errors: int = 0
    sample: str = ""


def _wait_running(run_id: int) -> bool:
    """Poll tightly until the worker claims the run; False if it never does."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = Run.objects.filter(pk=run_id).values_list("status", flat=True)[0]
        if status != RunStatus.QUEUED:
            return status == RunStatus.RUNNING
        time.sleep(0.002)
    return False


def _settled(run_id: int) -> bool:
    """The run is over and its hold given back (the worker is done with it)."""
    run = Run.objects.select_related("budget").get(pk=run_id)
    return run.is_finished and run.budget.released_at is not None


def cancel_race(start, client, worker, delay_ms: int, tries: int, tally: Tally):
    for _ in range(tries):
        run = start()
        tally.runs += 1
        if not _wait_running(run.pk):
            tally.mismatches.append(f"run {run.pk} was never claimed")
            continue
        time.sleep(delay_ms / 1000)
        response = client.post(f"/api/v1/runs/{run.pk}/cancel/")
        if response.status_code >= 500:
            tally.server_errors += 1
        cancelled = response.status_code == 200
        # What the run had when the cancel returned: anything saved later was
        # saved after the run was cancelled.
        orders = set(run.steps.values_list("order", flat=True))
        # The worker logs the run's end once it is done with it.
        assert wait_for(
            lambda run=run: f"Run {run.pk} of " in worker.output(),
            timeout=30,
            interval=0.01,
        ), run.pk
        assert wait_for(lambda run=run: _settled(run.pk), timeout=30, interval=0.01), (
            run.pk
        )
        run.refresh_from_db()
        if cancelled:
            assert run.status == RunStatus.CANCELLED, (run.pk, run.status)
            tally.cancelled += 1
            later = run.steps.exclude(order__in=orders)
            tally.steps_after_cancel += later.count()
            tally.answers_after_cancel += later.filter(
                type__in=[StepType.AGENT_RESPONSE, StepType.TOOL_RESULT]
            ).count()
            last = run.steps.order_by("-order").first()
            if last.type != StepType.CANCELLED:
                tally.mismatches.append(f"run {run.pk} ends with a {last.type} step")
            tally.sample = tally.sample or " ".join(
                f"{t}:{c}" for t, c in run.steps.values_list("type", "cost")
            )
            kinds = set(
                run.steps.filter(type=StepType.ERROR).values_list(
                    "payload__kind", flat=True
                )
            )
            if kinds - {"cancelled"}:
                tally.mismatches.append(f"run {run.pk} has error steps {kinds}")
        charged = -(
            LedgerEntry.objects.filter(run=run, kind=EntryKind.RUN_CHARGE).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
        priced = run.steps.aggregate(total=Sum("cost"))["total"] or 0
        tally.charged += charged
        tally.priced += priced
        unpaid = run.steps.filter(cost=0).aggregate(
            total=Sum(F("input_tokens") + F("output_tokens"))
        )["total"]
        tally.unpaid_tokens += unpaid or 0
        if charged != priced or charged != run.budget.charged:
            tally.mismatches.append(
                f"run {run.pk}: ledger {charged}, steps {priced}, "
                f"budget {run.budget.charged}"
            )


def check(tallies: dict[int, Tally], owner) -> None:
    report(tallies)
    for delay, tally in tallies.items():
        assert tally.server_errors == 0, (delay, tally)
        assert tally.steps_after_cancel == 0, (delay, tally)
        assert tally.mismatches == [], (delay, tally)
        assert tally.unpaid_tokens == 0, (delay, tally)
    assert sum(t.cancelled for t in tallies.values()) > 0
    account = CreditAccount.objects.get(user=owner)
    assert account.held == 0
    ledger = LedgerEntry.objects.filter(account=account).aggregate(total=Sum("amount"))[
        "total"
    ]
    assert account.balance == ledger


def rich(owner) -> None:
    credit_add(user=owner, amount=1_000_000, kind=EntryKind.GRANT, key="test:race")


def api_client(user) -> APIClient:
    # A server error is counted (and must be 0), not raised in the test.
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def test_a_cancelled_run_saves_nothing_later_and_pays_for_what_it_used(
    start_worker,
):
    """At every delay: no step after the cancel, no answer, no 500; the
    ledger's charges equal the priced steps, run by run; nothing stays held
    and the balance equals the ledger's sum."""
    worker = start_worker()
    agent = make_calculator_agent()
    rich(agent.owner)
    client = api_client(agent.owner)
    tallies = {delay: Tally() for delay in DELAYS}
    for delay in DELAYS:
        cancel_race(
            lambda: make_run(agent),
            client,
            worker,
            delay,
            TRIES,
            tallies[delay],
        )
    check(tallies, agent.owner)


def test_a_cancelled_workflow_run_saves_nothing_later_in_any_node(start_worker):
    """The same for a workflow: two agents at once, then a third; whichever
    nodes are running when it is cancelled stop and save nothing more."""
    worker = start_worker()
    owner = UserFactory()
    rich(owner)
    adder = make_calculator_agent(owner, name="Adder")
    checker = make_calculator_agent(owner, name="Checker")
    writer = make_agent(owner, name="Writer", instructions="You are Writer.")
    flow = workflow_create(
        owner=owner,
        data={
            "name": "Check and write",
            "graph": {
                "entry": "both",
                "nodes": [
                    {"id": "both", "kind": "parallel", "branches": ["a", "b"]},
                    {"id": "a", "kind": "agent", "agent": adder.pk},
                    {"id": "b", "kind": "agent", "agent": checker.pk},
                    {"id": "write", "kind": "agent", "agent": writer.pk},
                ],
                "edges": [{"from": "both", "to": "write"}],
            },
        },
    )
    client = api_client(owner)
    tallies = {delay: Tally() for delay in DELAYS}
    for delay in DELAYS:
        cancel_race(
            lambda: workflow_run_start(
                workflow=flow, user=owner, input=CALCULATOR_QUESTION
            ),
            client,
            worker,
            delay,
            WORKFLOW_TRIES,
            tallies[delay],
        )
    check(tallies, owner)


# Runs per delay (the 20 for agents); fewer workflows, each longer.
TRIES = int(os.environ.get("CANCEL_RACE_TRIES", "20"))
WORKFLOW_TRIES = int(os.environ.get("CANCEL_RACE_WORKFLOW_TRIES", "5"))


def report(tallies: dict[int, Tally]) -> None:
    print(
        "\ndelay ms | runs | cancelled | steps after | answers after | "
        "charged | priced | unpaid tokens | mismatches | 500s"
    )
    for delay, t in tallies.items():
        print(
            f"{delay:>8} | {t.runs:>4} | {t.cancelled:>9} | "
            f"{t.steps_after_cancel:>11} | {t.answers_after_cancel:>13} | "
            f"{t.charged:>7} | {t.priced:>6} | {t.unpaid_tokens:>13} | "
            f"{len(t.mismatches):>10} | "
            f"{t.server_errors}"
        )
        for line in [*t.mismatches[:3], t.sample]:
            print("          ", line)
