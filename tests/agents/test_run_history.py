"""Finding and clearing past runs: search, dates, and deleting many at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Run
from tests.agents.factories import make_agent, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Three runs of one user on three days, and a stranger's run."""
    agent = make_agent()
    now = timezone.now()
    runs = {}
    for days_ago, text in [
        (10, "plan a trip"),
        (5, "sum these numbers"),
        (0, "trip budget"),
    ]:
        run = make_run(agent, input=text)
        Run.objects.filter(pk=run.pk).update(created_at=now - timedelta(days=days_ago))
        runs[text] = run
    make_run(make_agent(), input="a stranger's trip")
    return agent.owner, runs, now.date()


def ids(response) -> set[int]:
    return {run["id"] for run in response.json()["results"]}


def test_the_api_searches_inputs_and_filters_by_date(as_user, history):
    owner, runs, today = history
    client = as_user(owner)
    assert ids(client.get("/api/v1/runs/?q=TRIP")) == {
        runs["plan a trip"].pk,
        runs["trip budget"].pk,
    }
    since = (today - timedelta(days=6)).isoformat()
    assert ids(client.get(f"/api/v1/runs/?since={since}")) == {
        runs["sum these numbers"].pk,
        runs["trip budget"].pk,
    }
    until = (today - timedelta(days=5)).isoformat()
    assert ids(client.get(f"/api/v1/runs/?until={until}&q=trip")) == {
        runs["plan a trip"].pk
    }
    bad = client.get("/api/v1/runs/?since=yesterday")
    assert bad.status_code == 400
    assert "since" in bad.json()


def test_the_runs_page_filters_the_same_way(client, history):
    owner, runs, _today = history
    client.force_login(owner)
    page = client.get("/runs/", {"q": "trip"}).content.decode()
    assert f"#{runs['plan a trip'].pk}<" in page
    assert f"#{runs['sum these numbers'].pk}<" not in page
    assert "a stranger" not in page


def test_deleting_many_removes_only_the_users_own_runs(client, history):
    owner, runs, _today = history
    strangers = Run.objects.exclude(owner=owner).get()
    client.force_login(owner)
    response = client.post(
        "/runs/delete/",
        {"runs": [runs["plan a trip"].pk, runs["trip budget"].pk, strangers.pk, "x"]},
    )
    assert response.status_code == 302
    assert set(Run.objects.values_list("pk", flat=True)) == {
        runs["sum these numbers"].pk,
        strangers.pk,
    }
    page = client.get("/runs/").content.decode()
    assert "Deleted 2 runs." in page


def test_anonymous_visitors_cannot_delete_runs(client, history):
    response = client.post(
        "/runs/delete/", {"runs": [r.pk for r in history[1].values()]}
    )
    assert response.status_code == 302
    assert Run.objects.count() == 4
