"""The workflow pages: the list, the builder's data, a workflow's page with
its run form, a workflow run's page (nodes, lanes, the approval buttons) and
the approval and resume forms; others' private workflows stay unseen."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from agents.models import Run, RunStatus
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from workflows.models import WorkflowRun
from workflows.runs import workflow_run_execute
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def approval_workflow(owner):
    a = make_agent(owner, name="Alpha", instructions="You are Alpha.")
    b = make_agent(owner, name="Beta", instructions="You are Beta.")
    graph = {
        "entry": "fan",
        "nodes": [
            {"id": "fan", "kind": "parallel", "branches": ["a", "b"]},
            {"id": "a", "kind": "agent", "agent": a.pk},
            {"id": "b", "kind": "agent", "agent": b.pk},
            {"id": "ok", "kind": "approval", "message": "Ship both?"},
        ],
        "edges": [{"from": "fan", "to": "ok"}],
    }
    return workflow_create(owner=owner, data={"name": "Pair", "graph": graph})


def test_the_list_builder_and_page_show_the_owners_workflows():
    owner = UserFactory(credits=50)
    flow = approval_workflow(owner)
    client = signed_in(owner)
    listing = client.get("/workflows/")
    assert listing.status_code == 200
    assert b"Pair" in listing.content
    builder = client.get(f"/workflows/{flow.pk}/edit/")
    assert builder.status_code == 200
    html = builder.content.decode()
    start = html.index('id="builder-data"')
    data = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert data["graph"]["entry"] == "fan"
    assert {a["name"] for a in data["agents"]} == {"Alpha", "Beta"}
    assert data["api"]["detail"] == f"/api/v1/workflows/{flow.pk}/"
    assert data["api"]["validate"] == "/api/v1/workflows/validate/"
    assert client.get("/workflows/new/").status_code == 200
    page = client.get(f"/workflows/{flow.pk}/")
    assert page.status_code == 200
    assert b"Run workflow" in page.content
    assert b"workflow-graph-data" in page.content
    stranger = signed_in(UserFactory())
    assert stranger.get(f"/workflows/{flow.pk}/").status_code == 404
    assert stranger.get(f"/workflows/{flow.pk}/edit/").status_code == 404
    assert stranger.post(f"/workflows/{flow.pk}/run/", {"input": "x"}).status_code == (
        404
    )


def builder_agents(client) -> list[dict]:
    html = client.get("/workflows/new/").content.decode()
    start = html.index('id="builder-data"')
    end = html.index("</script>", start)
    return json.loads(html[html.index(">", start) + 1 : end])["agents"]


def test_the_builder_offers_the_persons_own_agents_before_others_shared_ones():
    """A stranger's public agent, first by name, comes after the person's own,
    marked as not theirs (the builder groups it apart)."""
    owner = UserFactory()
    make_agent(owner, name="Zebra")
    make_agent(owner, name="Mole")
    stranger = UserFactory()
    make_agent(stranger, name="Aardvark", visibility="public")
    make_agent(stranger, name="Private", visibility="private")
    agents = builder_agents(signed_in(owner))
    assert [(a["name"], a["mine"]) for a in agents] == [
        ("Mole", True),
        ("Zebra", True),
        ("Aardvark", False),
    ]


def test_saving_an_agent_node_with_no_agent_chosen_says_to_choose_one():
    client = signed_in(UserFactory())
    unchosen = {"entry": "agent1", "nodes": [{"id": "agent1", "kind": "agent"}]}
    refused = client.post(
        "/api/v1/workflows/",
        {"name": "Draft", "graph": unchosen},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert any("choose the agent" in message for message in refused.json()["graph"])


def test_validate_checks_a_graph_and_saves_nothing():
    owner = UserFactory()
    agent = make_agent(owner, name="Solo")
    client = signed_in(owner)
    good = {"entry": "a", "nodes": [{"id": "a", "kind": "agent", "agent": agent.pk}]}
    answer = client.post(
        "/api/v1/workflows/validate/",
        {"graph": good},
        content_type="application/json",
    )
    assert answer.status_code == 200
    bad = {**good, "edges": [{"from": "a", "to": "b"}]}
    refused = client.post(
        "/api/v1/workflows/validate/", {"graph": bad}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused.json()["graph"] == ["Edge 1 (a → b) is dangling: no node b."]


def test_running_from_the_page_pauses_for_approval_and_the_run_page_shows_lanes():
    owner = UserFactory(credits=50)
    flow = approval_workflow(owner)
    client = signed_in(owner)
    empty = client.post(f"/workflows/{flow.pk}/run/", {"input": "  "}, follow=True)
    assert b"Write something for the workflow to work on." in empty.content
    assert not Run.objects.exists()
    started = client.post(f"/workflows/{flow.pk}/run/", {"input": "Two views"})
    run = Run.objects.get()
    assert started.url == f"/runs/{run.pk}/"
    workflow_run_execute(run_id=run.pk, worker="test")
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "Workflow <a href" in page
    assert "Paused: waiting for approval" in page
    # Both branches' answers are inside their lanes of the parallel node.
    started_step = run.steps.get(type="node", payload__event="started")
    for index, name in enumerate(("Alpha", "Beta")):
        lane = page.index(f'id="lane-{started_step.order}-{index}"')
        end = page.index("</ol>", lane)
        assert f'<span class="step-label">{name}</span>' in page[lane:end]
    assert 'name="decision"' in page

    decided = client.post(
        f"/workflows/runs/{run.pk}/approval/",
        {"decision": "approve", "key": "ok"},
        headers={"HX-Request": "true"},
    )
    assert decided.status_code == 200
    assert b"Approved: the workflow goes on." in decided.content
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED
    workflow_run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert 'name="decision"' not in page
    assert "approved by" in page
    # Deciding again: nothing changes, the page says why.
    again = client.post(
        f"/workflows/runs/{run.pk}/approval/",
        {"decision": "approve"},
        headers={"HX-Request": "true"},
    )
    assert again.headers["HX-Refresh"] == "true"
    assert Run.objects.get(pk=run.pk).status == RunStatus.COMPLETED


def test_a_paused_run_is_the_starters_alone():
    owner = UserFactory(credits=50)
    flow = approval_workflow(owner)
    run = signed_in(owner).post(f"/workflows/{flow.pk}/run/", {"input": "Go"})
    run = Run.objects.get()
    workflow_run_execute(run_id=run.pk, worker="test")
    stranger = signed_in(UserFactory())
    assert stranger.get(f"/runs/{run.pk}/").status_code == 404
    response = stranger.post(
        f"/workflows/runs/{run.pk}/approval/", {"decision": "approve"}
    )
    assert response.status_code == 404
    assert WorkflowRun.objects.get(pk=run.pk).waiting


def test_visitors_see_public_workflows_but_not_private_ones(client):
    owner = UserFactory()
    flow = approval_workflow(owner)
    assert client.get(f"/workflows/{flow.pk}/").status_code == 404
    flow.visibility = "public"
    flow.save()
    listing = client.get("/workflows/").content.decode()
    assert "Shared by others" in listing
    assert f'href="/workflows/{flow.pk}/"' in listing
    page = client.get(f"/workflows/{flow.pk}/").content.decode()
    assert "to run it." in page
    assert 'name="input"' not in page
    response = client.post(f"/workflows/{flow.pk}/run/", {"input": "Hi"})
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
    assert not Run.objects.exists()
