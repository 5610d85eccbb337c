"""The staff dashboard at /admin/dashboard/: runs per period by outcome, the
failures, the busiest agents and workflows, credits sold and spent; for staff
only, over the last day or month, in a constant number of queries.

Rows are made through the services, then moved back in time by updating
``created_at`` (the services stamp it with the present).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from agents import selectors as agent_selectors
from agents import services as agent_services
from agents.models import Run, RunStatus
from agents.runtime.executor import Outcome
from agents.selectors import RUN_OUTCOMES
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import MILLI, EntryKind, LedgerEntry
from config import charts
from config.periods import window_for
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory
from workflows.runs import workflow_run_start
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"


def member(credits: int = 1000):
    """Someone with free credits to run with: a grant, so nothing is sold."""
    user = UserFactory(credits=0)
    billing_services.credit_add(
        user=user, amount=credits * MILLI, kind=EntryKind.GRANT, key=f"t:{user.pk}"
    )
    return user


def hours_ago(hours: float) -> datetime:
    return timezone.now() - timedelta(hours=hours)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ended(run: Run, status: str, *, error: str = "", at: datetime | None = None):
    """``run`` taken by a worker and ended with ``status``, started ``at``."""
    if status == RunStatus.CANCELLED:
        agent_services.run_cancel(run=run)
    elif status != RunStatus.QUEUED:
        agent_services.run_claim(run_id=run.pk, worker="test")
        agent_services.run_finish(run=run, outcome=Outcome(status=status, error=error))
    if at is not None:
        Run.objects.filter(pk=run.pk).update(created_at=at)
    return run


def charged(run: Run, credits: float, *, at: datetime | None = None) -> None:
    """A charge of ``credits`` to ``run``, through the metering service."""
    key = f"run:{run.pk}:test:{LedgerEntry.objects.count()}"
    billing_services.run_charge(run=run, amount=int(credits * MILLI), key=key)
    if at is not None:
        LedgerEntry.objects.filter(idempotency_key=key).update(created_at=at)


def added(user, credits: float, kind: str, *, at: datetime | None = None):
    key = f"{kind}:{user.pk}:{LedgerEntry.objects.count()}"
    billing_services.credit_add(
        user=user, amount=int(credits * MILLI), kind=kind, key=key
    )
    if at is not None:
        LedgerEntry.objects.filter(idempotency_key=key).update(created_at=at)


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, credits=0))
    return client


def by_period(rows: list[dict]) -> dict[datetime, dict]:
    return {row["period"]: row for row in rows}


def test_it_shows_staff_each_hours_runs_by_outcome_and_the_failure_rate(
    staff_client,
):
    """Runs count in the hour they started, split by outcome; the failure rate
    is failures among the runs that ended; older runs are left out."""
    agent = make_agent(member(), name="Summarizer")
    three, one = hours_ago(3), hours_ago(1)
    for _ in range(2):
        ended(make_run(agent), RunStatus.COMPLETED, at=three)
    ended(make_run(agent), RunStatus.FAILED, error="Model timed out", at=three)
    ended(make_run(agent), RunStatus.CANCELLED, at=one)
    make_run(agent)  # still queued, this hour
    ended(make_run(agent), RunStatus.FAILED, error="Too old", at=hours_ago(30))

    response = staff_client.get(URL)

    assert response.status_code == 200
    rows = by_period(response.context["runs"])
    assert len(rows) == 24
    assert {key: rows[hour_of(three)][key] for key in RUN_OUTCOMES} == {
        "completed": 2,
        "failed": 1,
        "cancelled": 0,
        "other": 0,
    }
    assert rows[hour_of(one)]["cancelled"] == 1
    assert rows[hour_of(timezone.now())]["other"] == 1
    assert response.context["run_totals"] == {
        "completed": 2,
        "failed": 1,
        "cancelled": 1,
        "other": 1,
    }
    assert response.context["failure_rate"] == 25.0
    html = response.content.decode()
    assert re.search(r'id="failure-rate">\s*25.0%', html)
    assert "Model timed out" in html
    assert "Too old" not in html


def test_it_lists_the_latest_failures_linking_to_each_runs_admin_page(
    staff_client,
):
    """Each failed run shows its error and links to its change page, newest
    first."""
    agent = make_agent(member(), name="Fetcher")
    older = ended(make_run(agent), RunStatus.FAILED, error="DNS", at=hours_ago(5))
    newer = ended(make_run(agent), RunStatus.FAILED, error="HTTP 500", at=hours_ago(2))

    response = staff_client.get(URL)

    assert list(response.context["failed_runs"]) == [newer, older]
    html = response.content.decode()
    assert f'href="/admin/agents/run/{newer.pk}/change/"' in html
    assert html.index("HTTP 500") < html.index("DNS")


def test_it_ranks_agents_and_workflows_by_runs_with_failures_and_spending(
    staff_client,
):
    """The busiest first: an agent's runs, failures and credits charged; a
    workflow's run (no agent) counts under its workflow and owner."""
    alice, bob = member(), member()
    busy = make_agent(alice, name="Busy")
    quiet = make_agent(bob, name="Quiet")
    flow = workflow_create(
        owner=bob,
        data={
            "name": "Pipeline",
            "graph": {
                "entry": "q",
                "nodes": [{"id": "q", "kind": "agent", "agent": quiet.pk}],
                "edges": [],
            },
        },
    )
    for status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.FAILED):
        run = make_run(busy)
        charged(run, 1.5)
        ended(run, status)
    ended(make_run(quiet), RunStatus.COMPLETED)
    for _ in range(2):
        workflow_run_start(workflow=flow, user=bob, input="Go.")

    response = staff_client.get(URL)

    leaders = response.context["leaders"]
    assert [
        (row["kind"], row["name"], row["owner_username"], row["runs"])
        for row in leaders
    ] == [
        ("agent", "Busy", alice.username, 3),
        ("workflow", "Pipeline", bob.username, 2),
        ("agent", "Quiet", bob.username, 1),
    ]
    assert (leaders[0]["failures"], leaders[0]["spent"]) == (2, 4500)
    assert (leaders[1]["failures"], leaders[1]["spent"]) == (0, 0)
    html = response.content.decode()
    assert f'href="/admin/agents/agent/{busy.pk}/change/"' in html
    assert f'href="/admin/workflows/workflow/{flow.pk}/change/"' in html
    assert f'href="/admin/community/user/{alice.pk}/change/"' in html


def test_it_sums_credits_sold_and_spent_per_hour_with_totals(staff_client):
    """Purchases and allocations are sold, run charges spent (as positive
    amounts); grants and older entries are left out."""
    buyer = member()
    added(buyer, 100, EntryKind.PURCHASE, at=hours_ago(4))
    added(buyer, 20, EntryKind.ALLOCATION, at=hours_ago(4))
    added(buyer, 5, EntryKind.GRANT, at=hours_ago(4))
    added(buyer, 999, EntryKind.PURCHASE, at=hours_ago(26))
    run = make_run(make_agent(buyer))
    charged(run, 2.25, at=hours_ago(2))
    charged(run, 0.75, at=hours_ago(2))

    response = staff_client.get(URL)

    rows = by_period(response.context["credits"])
    assert len(rows) == 24
    assert rows[hour_of(hours_ago(4))]["sold"] == 120 * MILLI
    assert rows[hour_of(hours_ago(2))]["spent"] == 3 * MILLI
    assert response.context["credits_sold"] == 120 * MILLI
    assert response.context["credits_spent"] == 3 * MILLI
    html = response.content.decode()
    assert re.search(r'id="total-sold">\s*120\s*<', html)
    assert re.search(r'id="total-spent">\s*3\s*<', html)


def test_it_groups_by_day_over_the_last_thirty_days(staff_client):
    """?window=30d has thirty daily periods; what happened days ago is in
    it, and nothing older than the first day."""
    agent = make_agent(member())
    days_ago = timezone.now() - timedelta(days=3)
    ended(make_run(agent), RunStatus.FAILED, at=days_ago)
    ended(make_run(agent), RunStatus.COMPLETED, at=timezone.now() - timedelta(days=31))
    added(agent.owner, 50, EntryKind.PURCHASE, at=days_ago)

    response = staff_client.get(URL, {"window": "30d"})

    window = response.context["window"]
    assert (window.unit, len(window.periods)) == ("day", 30)
    day = timezone.localtime(days_ago).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert by_period(response.context["runs"])[day]["failed"] == 1
    assert response.context["run_totals"]["completed"] == 0
    assert by_period(response.context["credits"])[day]["sold"] == 50 * MILLI


def test_it_draws_a_slot_for_every_period_of_each_chart_on_its_own_scale(
    staff_client,
):
    """Empty periods keep their place in the SVG charts (runs, credits sold,
    credits spent), which carry a text alternative and no style attribute
    (the CSP forbids them). Spending has its own chart: next to a purchase of
    hundreds of credits, a run's few would be too small to see."""
    agent = make_agent(member())
    run = make_run(agent)
    charged(run, 2, at=hours_ago(3))
    ended(run, RunStatus.COMPLETED, at=hours_ago(3))
    added(agent.owner, 500, EntryKind.PURCHASE, at=hours_ago(3))

    html = staff_client.get(URL).content.decode()

    assert html.count('class="dashboard-chart-slot"') == 3 * 24
    assert '<desc id="runs-chart-desc">' in html
    assert 'aria-labelledby="runs-chart-title runs-chart-desc"' in html
    assert "style=" not in html[html.index('id="content-main"') :]
    completed = re.findall(r'<rect [^>]*fill="#2f855a">\s*<title>([^<]*)', html)
    assert len(completed) == 1
    assert "Completed: 1" in completed[0]
    for color in ("#2b6cb0", "#dd6b20"):  # sold, spent
        heights = re.findall(rf'height="([\d.]+)" fill="{color}"', html)
        assert len(heights) == 1
        assert float(heights[0]) > (charts.HEIGHT - charts.TOP - charts.BOTTOM) / 2


@pytest.mark.parametrize("value", ["bogus", "", "1y", "24h' OR 1=1", "30D"])
def test_it_falls_back_to_the_last_day_for_an_unknown_window(staff_client, value):
    """A window it does not know is the default one, not an error."""
    response = staff_client.get(URL, {"window": value})

    assert response.status_code == 200
    assert response.context["window"].key == "24h"
    assert len(response.context["runs"]) == 24


def test_it_sends_people_who_are_not_staff_to_the_admin_sign_in(client):
    """A signed-in member and an anonymous visitor are both redirected to the
    admin's sign-in page and shown nothing."""
    anonymous = client.get(URL)
    client.force_login(member())
    signed_in = client.get(URL)

    for response in (anonymous, signed_in):
        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={URL}"


def test_its_reads_refuse_anyone_who_is_not_staff():
    """The selectors check for staff themselves, whoever calls them."""
    someone, window = member(), window_for(None)

    for read in (
        agent_selectors.run_outcomes_by_period,
        agent_selectors.run_list_failed_recently,
        agent_selectors.run_leaders,
        billing_selectors.credits_by_period,
    ):
        with pytest.raises(PermissionDenied):
            read(user=someone, window=window)


def test_it_is_linked_from_the_admin_index(staff_client):
    """Staff find the dashboard from the admin's home page."""
    html = staff_client.get("/admin/").content.decode()

    assert f'href="{URL}"' in html


@pytest.mark.parametrize("runs_per_agent", [1, 6])
def test_it_takes_the_same_queries_however_many_rows(
    staff_client, django_assert_max_num_queries, runs_per_agent
):
    """Aggregates are computed in the database: more runs, agents, failures
    and ledger entries cost no more queries."""
    for index in range(runs_per_agent):
        agent = make_agent(member(), name=f"Agent {index}")
        for hours in range(runs_per_agent):
            run = make_run(agent)
            charged(run, 1)
            ended(run, RunStatus.FAILED, error="Boom", at=hours_ago(hours))
        added(agent.owner, 10, EntryKind.PURCHASE)

    # Session and user; the admin's navigation reads the staff member's
    # permissions (two); then the four reads (runs, failures, leaders,
    # credits), each one query.
    with django_assert_max_num_queries(8):
        response = staff_client.get(URL)

    assert response.status_code == 200
    assert response.context["run_totals"]["failed"] == runs_per_agent**2


def test_its_axis_steps_are_round_numbers_reaching_the_peak():
    """Grid lines fall on 1, 2 or 5 times a power of ten, at most four above
    zero, and never below one (values are whole numbers)."""
    assert [charts.nice_step(peak) for peak in (0, 1, 3, 7, 12, 40, 12_000)] == [
        1,
        1,
        1,
        2,
        5,
        10,
        5000,
    ]
