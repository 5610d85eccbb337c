"""CREDITS_MODE=off, for a private install: runs hold and cost nothing, are
never refused for credits, and no page or endpoint speaks of credits.
CREDITS_MODE=metered (the default) shows the balance on every page."""

from decimal import Decimal

import pytest
from django.test import override_settings

from agents import services
from agents.models import RunStatus
from billing.models import EntryKind, LedgerEntry, RunBudget
from tests.agents.factories import make_agent, make_calculator_agent, make_run
from tests.community.factories import UserFactory
from workflows.runs import workflow_run_execute, workflow_run_start
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True)

off = override_settings(CREDITS_MODE="off")


@off
def test_with_credits_off_a_run_without_credits_runs_and_costs_nothing():
    user = UserFactory(credits=0)
    # An owner's cap per run is in credits: it refuses nothing either.
    agent = make_calculator_agent(user, max_credits_per_run="0.001")
    run = make_run(agent, user=user)
    assert not RunBudget.objects.filter(run=run).exists()
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.cost == 0
    assert not LedgerEntry.objects.filter(kind=EntryKind.RUN_CHARGE).exists()


@off
def test_with_credits_off_a_workflow_runs_without_a_budget():
    user = UserFactory(credits=0)
    agent = make_agent(user, max_credits_per_run="0.001")
    flow = workflow_create(
        owner=user,
        data={
            "name": "One step",
            "graph": {
                "entry": "a",
                "nodes": [{"id": "a", "kind": "agent", "agent": agent.pk}],
                "edges": [],
            },
        },
    )
    run = workflow_run_start(workflow=flow, user=user, input="Hello")
    assert not RunBudget.objects.filter(run=run).exists()
    workflow_run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert not LedgerEntry.objects.filter(kind=EntryKind.RUN_CHARGE).exists()


@off
def test_with_credits_off_no_page_shows_credits(client):
    user = UserFactory(credits=10)
    agent = make_agent(user)
    client.force_login(user)
    for path in ("/", "/agents/", f"/agents/{agent.pk}/"):
        page = client.get(path).content.decode()
        assert 'id="header-balance"' not in page
        assert 'href="/credits/"' not in page
        assert 'id="run-estimate"' not in page
    assert client.get("/credits/").status_code == 404
    assert client.post("/credits/redeem/", {"code": "X"}).status_code == 404


@off
def test_with_credits_off_the_credits_api_answers_404_saying_why(as_user):
    client = as_user(UserFactory())
    for path in (
        "/api/v1/credits/balance/",
        "/api/v1/credits/history/",
        "/api/v1/credits/usage/",
        "/api/v1/pricing/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"] == (
            "Credits are off on this site: runs cost nothing."
        )
    response = client.post("/api/v1/credits/redeem/", {"code": "X"}, format="json")
    assert response.status_code == 404


def test_metered_every_page_shows_the_balance_in_the_header(client):
    user = UserFactory(credits=Decimal("7.5"))
    client.force_login(user)
    for path in ("/agents/", "/runs/", "/credits/"):
        page = client.get(path).content.decode()
        header = page.split('id="header-balance"')[1].split("</a>")[0]
        assert "7.5 credits" in header, path
        # The balance is the header's one way to the Credits page: the nav's
        # own Credits link would crowd the row.
        nav = page.split("<nav")[1].split("</nav>")[0]
        assert nav.count('href="/credits/"') == 1, path
    client.logout()
    page = client.get("/").content.decode()
    assert 'id="header-balance"' not in page
    assert 'href="/credits/"' in page.split("<nav")[1].split("</nav>")[0]


def test_the_context_says_whether_credits_are_on(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/agents/").context["credits_enabled"] is True
    with off:
        assert client.get("/agents/").context["credits_enabled"] is False
