"""What runs cost lately: per day, per agent and per model, over the API and
as the Credits page's chart, each user seeing only their own."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents import services as agent_services
from agents.models import RunStep
from agents.services.runs import run_claim, run_step_record
from billing import usage
from billing.models import MILLI, LedgerEntry
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def charge(run, *, order, milli, days_ago=0, payload=None, type="agent-thought"):
    """A step of ``run`` charged ``milli`` through the metering service, moved
    ``days_ago`` days back (its ledger entry with it). Steps are recorded
    for running runs: the run is taken by a worker first, if it was not."""
    run_claim(run_id=run.pk, worker="test")
    step, _exhausted = run_step_record(
        run=run,
        order=order,
        type=type,
        payload=payload or {"text": "Thinking."},
        cost=milli,
        input_tokens=10,
    )
    if days_ago:
        when = timezone.now() - timedelta(days=days_ago)
        RunStep.objects.filter(pk=step.pk).update(created_at=when)
        LedgerEntry.objects.filter(idempotency_key=f"run:{run.pk}:step:{order}").update(
            created_at=when
        )
    return step


@pytest.fixture
def spender():
    """A member who ran two agents on two models over the last weeks."""
    user = UserFactory(credits=100)
    writer = make_agent(user, name="Writer", model="openai/gpt-4.1")
    adder = make_agent(user, name="Adder")  # local/demo
    first, second = make_run(writer), make_run(adder)
    charge(first, order=2, milli=3000, days_ago=29)  # the window's first day
    charge(first, order=3, milli=1500)  # today
    charge(second, order=2, milli=500, days_ago=3)
    charge(second, order=3, milli=1000, days_ago=30)  # a day too old
    return user


def test_the_api_lists_all_30_days_with_zeros_and_splits_by_agent_and_model(
    as_user, spender
):
    body = as_user(spender).get("/api/v1/credits/usage/").json()
    today = timezone.localdate()
    days = body["by_day"]
    assert len(days) == 30
    assert days[0]["date"] == (today - timedelta(days=29)).isoformat()
    assert days[-1]["date"] == today.isoformat()
    assert (days[0]["credits"], days[-4]["credits"], days[-1]["credits"]) == (
        3,
        0.5,
        1.5,
    )
    assert sum(day["credits"] for day in days) == body["total"] == 5
    assert [day["credits"] for day in days].count(0) == 27
    assert [(a["name"], a["credits"], a["share"]) for a in body["by_agent"]] == [
        ("Writer", 4.5, 90.0),
        ("Adder", 0.5, 10.0),
    ]
    assert [(m["model"], m["name"], m["credits"]) for m in body["by_model"]] == [
        ("openai/gpt-4.1", "GPT-4.1", 4.5),
        ("local/demo", "Offline demo model", 0.5),
    ]


def test_the_api_takes_a_number_of_days_and_refuses_nonsense(as_user, spender):
    client = as_user(spender)
    body = client.get("/api/v1/credits/usage/?days=7").json()
    assert len(body["by_day"]) == 7
    assert body["total"] == 2
    for bad in ("0", "abc", "5000"):
        response = client.get(f"/api/v1/credits/usage/?days={bad}")
        assert response.status_code == 400
        assert "days" in response.json()


def test_nobody_sees_another_members_usage(as_user, client, spender):
    stranger = UserFactory(credits=100)
    body = as_user(stranger).get("/api/v1/credits/usage/").json()
    assert body["total"] == 0
    assert body["by_agent"] == body["by_model"] == []
    assert {day["credits"] for day in body["by_day"]} == {0}
    client.force_login(stranger)
    html = client.get("/credits/").content.decode()
    assert "No runs were charged in this time." in html
    assert "Writer" not in html
    assert 'id="credit-usage-agents"' not in html


def test_visitors_get_no_usage(api_client):
    assert api_client.get("/api/v1/credits/usage/").status_code in (401, 403)


def test_a_run_is_split_between_its_model_its_fallback_and_an_agent_it_asked():
    """Each step counts towards the model that was running when it was charged."""
    user = UserFactory(credits=100)
    run = make_run(make_agent(user, name="Careful", model="openai/gpt-4.1"))
    charge(run, order=2, milli=1000)
    run_step_record(
        run=run,
        order=3,
        type="fallback",
        payload={"from": "openai/gpt-4.1", "to": "openai/gpt-4o-mini"},
    )
    charge(run, order=4, milli=700)
    charge(run, order=5, milli=200, payload={"text": "4", "model": "local/demo"})
    rows = usage.usage_by_model(user=user)
    assert [(row["model"], row["milli"]) for row in rows] == [
        ("openai/gpt-4.1", 1000),
        ("openai/gpt-4o-mini", 700),
        ("local/demo", 200),
    ]
    assert sum(row["share"] for row in rows) == pytest.approx(100, abs=0.2)


def test_deleted_runs_stay_in_the_totals_as_one_row(spender):
    run = spender.runs.get(agent__name="Writer")
    agent_services.run_delete(run=run)
    summary = usage.usage_summary(user=spender)
    assert summary["total"] == 5 * MILLI
    assert [(row["agent_id"], row["milli"]) for row in summary["by_agent"]] == [
        (None, 4500),
        (spender.agents.get(name="Adder").pk, 500),
    ]
    assert [(row["model"], row["milli"]) for row in summary["by_model"]] == [
        (None, 4500),
        ("local/demo", 500),
    ]


def test_the_window_ends_today_in_days_given_by_now(spender):
    """``now`` moves the window: a week from now, only today's charge is in."""
    later = timezone.now() + timedelta(days=7)
    days = usage.usage_by_day(user=spender, days=10, now=later)
    assert days[0]["date"] == timezone.localdate(later) - timedelta(days=9)
    assert [day["milli"] for day in days] == [0, 0, 1500] + [0] * 7


def test_the_credits_page_draws_the_chart_with_the_numbers_in_a_table(client, spender):
    client.force_login(spender)
    html = client.get("/credits/").content.decode()
    usage_html = html.split('id="credit-usage"')[1].split("</section>")[0]
    assert "5 credits spent on runs in the last 30 days." in usage_html
    svg = usage_html.split("<svg")[1].split("</svg>")[0]
    assert 'role="img"' in svg
    assert svg.count("<rect") == 30
    # The busiest day's bar fills the chart; an empty day has none.
    assert re.search(r'<rect x="1" y="0\.0" width="8" height="100\.0"', svg)
    assert re.search(r'<rect x="11" y="100\.0" width="8" height="0\.0"', svg)
    table = usage_html.split('id="credit-usage-days"')[1].split("</table>")[0]
    assert table.count("<tr>") == 31  # the head and every day
    assert "<td>1.5</td>" in table
    agents = usage_html.split('id="credit-usage-agents"')[1].split("</table>")[0]
    assert re.search(r"Writer\s*</td>\s*<td>4\.5</td>", agents)
    assert "90.0%" in agents
    models = usage_html.split('id="credit-usage-models"')[1].split("</table>")[0]
    assert re.search(r"GPT-4\.1\s*</td>\s*<td>4\.5</td>", models)
    assert "10.0%" in models


def test_the_credits_page_query_count_stays_flat_as_runs_grow(client):
    user = UserFactory(credits=500)
    client.force_login(user)

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/credits/").status_code == 200
        return len(queries)

    agent = make_agent(user, name="First", model="openai/gpt-4.1")
    charge(make_run(agent), order=2, milli=100)
    few = page_queries()
    for number in range(4):
        other = make_agent(user, name=f"Other {number}", model="openai/gpt-4o-mini")
        run = make_run(other)
        for order in range(2, 5):
            charge(run, order=order, milli=100, days_ago=number + order)
    assert page_queries() == few
