"""Workflows over the API: the JSON graph with every node kind saved and
versioned, and every kind of bad graph refused with a message, nothing
saved."""

from __future__ import annotations

import pytest

from agents.models import Visibility
from tests.agents.factories import make_agent
from tests.api_schema import assert_documented
from tests.community.factories import UserFactory
from workflows.models import Workflow, WorkflowVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    owner = UserFactory()
    agents = {
        name: make_agent(owner, name=name)
        for name in ("Classifier", "Solver", "Explainer", "Writer", "Reviewer")
    }
    return owner, agents


def full_graph(agents) -> dict:
    """A router, a parallel node with an aggregate, a reviewer loop, an
    approval and a sequential chain."""
    return {
        "entry": "classify",
        "nodes": [
            {
                "id": "classify",
                "kind": "router",
                "agent": agents["Classifier"].pk,
                "routes": {"math": "solve", "history": "explain"},
                "default": "explain",
            },
            {"id": "solve", "kind": "agent", "agent": agents["Solver"].pk},
            {"id": "explain", "kind": "agent", "agent": agents["Explainer"].pk},
            {"id": "both", "kind": "parallel", "branches": ["solve", "explain"]},
            {"id": "merge", "kind": "aggregate", "mode": "join"},
            {"id": "draft", "kind": "agent", "agent": agents["Writer"].pk},
            {"id": "review", "kind": "agent", "agent": agents["Reviewer"].pk},
            {
                "id": "polish",
                "kind": "loop",
                "worker": "draft",
                "reviewer": "review",
                "max_iterations": 3,
            },
            {"id": "ok", "kind": "approval", "message": "Publish this?"},
            {"id": "chain", "kind": "sequential", "steps": ["draft", "review"]},
        ],
        "edges": [
            {"from": "classify", "to": "both"},
            {"from": "both", "to": "merge"},
            {"from": "merge", "to": "polish"},
            {"from": "polish", "to": "ok"},
            {"from": "ok", "to": "chain"},
        ],
    }


def test_a_workflow_with_every_node_kind_is_saved_and_versioned(as_user, team):
    owner, agents = team
    client = as_user(owner)
    made = client.post(
        "/api/v1/workflows/",
        {"name": "Homework", "graph": full_graph(agents)},
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["version_number"] == 1
    assert body["visibility"] == "private"
    assert [n["kind"] for n in body["graph"]["nodes"]] == [
        "router", "agent", "agent", "parallel", "aggregate", "agent", "agent",
        "loop", "approval", "sequential",
    ]  # fmt: skip
    assert client.get("/api/v1/workflows/").json()["results"][0]["id"] == body["id"]
    url = f"/api/v1/workflows/{body['id']}/"
    renamed = client.patch(url, {"name": "Homework helper"}, format="json").json()
    assert renamed["version_number"] == 1
    graph = full_graph(agents)
    graph["nodes"][-2]["message"] = "Send it to the class?"
    replaced = client.put(url, {"name": "Homework", "graph": graph}, format="json")
    assert replaced.status_code == 200
    assert replaced.json()["version_number"] == 2
    versions = WorkflowVersion.objects.filter(workflow_id=body["id"])
    assert sorted(versions.values_list("number", flat=True)) == [1, 2]
    assert versions.get(number=1).graph["nodes"][-2]["message"] == "Publish this?"
    incomplete = client.put(url, {"name": "No graph"}, format="json")
    assert incomplete.status_code == 400
    assert "graph" in incomplete.json()
    assert client.delete(url).status_code == 204
    assert not Workflow.objects.exists()


def _bad(graph_change, agents, other_agent):
    graph = full_graph(agents)
    graph_change(graph, other_agent)
    return graph


BAD_GRAPHS = [
    (
        "cycle",
        lambda g, o: g["edges"].append({"from": "ok", "to": "both"}),
        "The edges form a cycle: both → merge → polish → ok → both.",
    ),
    (
        "dangling edge",
        lambda g, o: g["edges"].append({"from": "ok", "to": "publish"}),
        "Edge 6 (ok → publish) is dangling: no node publish.",
    ),
    (
        "unknown kind",
        lambda g, o: g["nodes"].append({"id": "x", "kind": "teleport"}),
        "x: unknown kind 'teleport'",
    ),
    (
        "agent not visible",
        lambda g, o: g["nodes"][1].update(agent=o.pk),
        "is not yours or shared",
    ),
    (
        "router without routes",
        lambda g, o: g["nodes"][0].update(routes={}),
        "classify: a router needs routes",
    ),
    (
        "missing node reference",
        lambda g, o: g["nodes"][0]["routes"].update(art="paint"),
        "classify refers to paint, which is not a node.",
    ),
    (
        "duplicate id",
        lambda g, o: g["nodes"].append({"id": "ok", "kind": "approval"}),
        "Two nodes are called ok.",
    ),
    (
        "no entry",
        lambda g, o: g.update(entry="nowhere"),
        "entry: there is no node nowhere.",
    ),
    (
        "loop of one node",
        lambda g, o: g["nodes"][7].update(reviewer="draft"),
        "polish: the worker and the reviewer are different nodes.",
    ),
    (
        "edge of a node inside another",
        lambda g, o: g["edges"].append({"from": "solve", "to": "ok"}),
        "solve runs inside another node, so it cannot have edges",
    ),
    (
        "a node containing itself",
        lambda g, o: (
            g["nodes"].append(
                {"id": "again", "kind": "sequential", "steps": ["chain", "again2"]}
            )
            or g["nodes"].append(
                {"id": "again2", "kind": "sequential", "steps": ["again", "draft"]}
            )
        ),
        "contains itself: again → again2 → again.",
    ),
    (
        "a node never reached",
        lambda g, o: g["nodes"].append({"id": "lost", "kind": "approval"}),
        "lost is never reached",
    ),
    (
        "a reviewer that is not an agent",
        lambda g, o: g["nodes"][7].update(reviewer="ok"),
        "polish: the reviewer must be an agent node.",
    ),
    (
        "a template reading an unknown node",
        lambda g, o: g["nodes"][5].update(input="{{input}} then {{nothing}}"),
        "the input reads {{nothing}}, which is not a node",
    ),
    (
        "a router threshold out of range",
        lambda g, o: g["nodes"][0].update(min_confidence=2),
        "classify: min_confidence is a number from 0 to 1.",
    ),
    (
        "no nodes",
        lambda g, o: g.update(nodes=[]),
        "nodes: a list of at least one node.",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"),
    [(change, message) for _name, change, message in BAD_GRAPHS],
    ids=[name for name, _change, _message in BAD_GRAPHS],
)
def test_bad_graphs_are_refused_with_a_message_and_nothing_saved(
    as_user, team, change, message
):
    owner, agents = team
    private = make_agent(UserFactory(), name="Someone's private agent")
    graph = _bad(change, agents, private)
    response = as_user(owner).post(
        "/api/v1/workflows/", {"name": "Bad", "graph": graph}, format="json"
    )
    assert response.status_code == 400, response.content
    assert any(message in problem for problem in response.json()["graph"]), (
        response.json()
    )
    assert not Workflow.objects.exists()


def test_malformed_and_missing_input_are_field_errors(as_user, team):
    owner, _agents = team
    client = as_user(owner)
    broken = client.generic(
        "POST", "/api/v1/workflows/", "{nodes: [", content_type="application/json"
    )
    assert broken.status_code == 400
    assert "JSON parse error" in broken.json()["detail"]
    empty = client.post("/api/v1/workflows/", {}, format="json")
    assert empty.status_code == 400
    assert set(empty.json()) == {"name", "graph"}
    not_object = client.post(
        "/api/v1/workflows/", {"name": "X", "graph": [1, 2]}, format="json"
    )
    assert not_object.json()["graph"] == ["A JSON object with nodes, edges and entry."]
    assert not Workflow.objects.exists()


def test_a_shared_agent_may_be_used_and_workflows_are_their_owners(as_user, team):
    owner, _agents = team
    shared = make_agent(UserFactory(), name="Shared", visibility=Visibility.PUBLIC)
    graph = {"entry": "a", "nodes": [{"id": "a", "kind": "agent", "agent": shared.pk}]}
    made = as_user(owner).post(
        "/api/v1/workflows/", {"name": "Uses shared", "graph": graph}, format="json"
    )
    assert made.status_code == 201, made.content
    url = f"/api/v1/workflows/{made.json()['id']}/"
    stranger = as_user(UserFactory())
    assert stranger.get(url).status_code == 404
    assert stranger.patch(url, {"name": "Mine"}, format="json").status_code == 404
    assert stranger.delete(url).status_code == 404
    assert stranger.get("/api/v1/workflows/").json()["count"] == 0
    assert Workflow.objects.get().name == "Uses shared"


def test_workflow_lists_and_an_unforked_workflow_are_answered_as_documented(
    as_user, team
):
    """My workflows and Discover come as pages, and a workflow that is no
    fork has a null `forked_from`, as documented (the schema said one
    workflow, and an integer; found by tests/config/test_api_fuzz.py)."""
    owner, agents = team
    client = as_user(owner)
    made = client.post(
        "/api/v1/workflows/",
        {"name": "Homework", "graph": full_graph(agents), "visibility": "public"},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["forked_from"] is None
    assert_documented(made, method="post", path="/api/v1/workflows/")
    mine = client.get("/api/v1/workflows/")
    assert mine.json()["count"] == 1
    assert_documented(mine, method="get", path="/api/v1/workflows/")
    discover = as_user(UserFactory()).get("/api/v1/workflows/discover/")
    assert discover.json()["count"] == 1
    assert_documented(discover, method="get", path="/api/v1/workflows/discover/")
