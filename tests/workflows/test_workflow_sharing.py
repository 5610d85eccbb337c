"""Shared workflows: found by search and sorted, run by others, forked into a
private copy (only when every agent it uses is one the forker may use)."""

from __future__ import annotations

import pytest

from agents.models import Visibility
from community.models import Notification
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from workflows.models import Workflow, WorkflowVersion
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


def shared_workflow(owner, name="Essay pipeline", agent_visibility="public", **data):
    agent = make_agent(owner, name="Writer", visibility=agent_visibility)
    graph = {"entry": "w", "nodes": [{"id": "w", "kind": "agent", "agent": agent.pk}]}
    return workflow_create(
        owner=owner,
        data={"name": name, "graph": graph, "visibility": "public", **data},
    )


def test_a_shared_workflow_is_forked_into_a_private_copy(as_user):
    owner = UserFactory()
    original = shared_workflow(owner, description="Drafts essays")
    forker = UserFactory()
    response = as_user(forker).post(f"/api/v1/workflows/{original.pk}/fork/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == forker.username
    assert body["visibility"] == "private"
    assert body["forked_from"] == original.pk
    assert body["graph"]["nodes"] == original.graph["nodes"]
    fork = Workflow.objects.get(pk=body["id"])
    assert WorkflowVersion.objects.filter(workflow=fork, number=1).exists()
    original.refresh_from_db()
    assert original.fork_count == 1
    notice = Notification.objects.get(recipient=owner)
    assert notice.kind == "fork"
    assert "forked your workflow Essay pipeline" in notice.text


def test_a_workflow_using_a_private_agent_cannot_be_forked(as_user):
    owner = UserFactory()
    original = shared_workflow(owner, agent_visibility="private")
    client = as_user(UserFactory())
    response = client.post(f"/api/v1/workflows/{original.pk}/fork/")
    assert response.status_code == 400
    assert "uses agents you cannot use" in response.json()["graph"][0]
    assert Workflow.objects.count() == 1
    # Running it is another matter: its owner's agents run it.
    assert (
        client.post(
            f"/api/v1/workflows/{original.pk}/run/", {"input": "Hi"}, format="json"
        ).status_code
        == 202
    )


def test_private_workflows_are_neither_forked_nor_found(as_user):
    owner = UserFactory()
    private = shared_workflow(owner, visibility="private")
    assert (
        as_user(UserFactory()).post(f"/api/v1/workflows/{private.pk}/fork/").status_code
        == 404
    )
    own = as_user(owner).post(f"/api/v1/workflows/{private.pk}/fork/")
    assert own.status_code == 400
    assert own.json()["non_field_errors"] == ["A private workflow cannot be forked."]
    assert (
        as_user(UserFactory()).get("/api/v1/workflows/discover/").json()["results"]
        == []
    )


def test_discover_searches_and_sorts_shared_workflows(client):
    owner = UserFactory()
    essays = shared_workflow(owner, name="Essay pipeline", description="Drafts")
    triage = shared_workflow(owner, name="Support triage", description="Tickets")
    Workflow.objects.filter(pk=triage.pk).update(run_count=5)
    Workflow.objects.filter(pk=essays.pk).update(fork_count=3)
    hidden = shared_workflow(owner, name="Mine only", visibility=Visibility.PRIVATE)

    def names(**query):
        response = client.get("/api/v1/workflows/discover/", query)
        assert response.status_code == 200
        return [w["name"] for w in response.json()["results"]]

    assert set(names()) == {"Essay pipeline", "Support triage"}
    assert hidden.name not in names()
    assert names(q="tickets") == ["Support triage"]
    assert names(q="essay drafts") == ["Essay pipeline"]
    assert names(sort="runs")[0] == "Support triage"
    assert names(sort="forks")[0] == "Essay pipeline"
    assert client.get("/api/v1/workflows/discover/", {"sort": "x"}).status_code == 400
    page = client.get("/workflows/", {"q": "triage"}).content.decode()
    assert "Support triage" in page
    assert "Essay pipeline" not in page


def test_starting_a_run_counts_it(as_user):
    owner = UserFactory(credits=10)
    flow = shared_workflow(owner)
    as_user(owner).post(
        f"/api/v1/workflows/{flow.pk}/run/", {"input": "Go"}, format="json"
    )
    flow.refresh_from_db()
    assert flow.run_count == 1


def test_the_fork_button_makes_a_copy_and_opens_its_builder(client):
    owner = UserFactory()
    original = shared_workflow(owner)
    forker = UserFactory()
    client.force_login(forker)
    assert b"Fork" in client.get(f"/workflows/{original.pk}/").content
    response = client.post(f"/workflows/{original.pk}/fork/")
    fork = Workflow.objects.get(owner=forker)
    assert response.url == f"/workflows/{fork.pk}/edit/"
    page = client.get(f"/workflows/{fork.pk}/").content.decode()
    assert "forked from" in page


# --- ratings, comments and reactions: the agents' machinery, for workflows ----


def test_a_shared_workflow_is_rated_commented_and_reacted_to_over_the_api(as_user):
    owner = UserFactory()
    flow = shared_workflow(owner)
    fan = UserFactory()
    client = as_user(fan)
    base = f"/api/v1/workflows/{flow.pk}"
    rated = client.post(f"{base}/ratings/", {"stars": 4, "review": "**Neat**"})
    assert rated.status_code == 201, rated.content
    assert "<strong>Neat</strong>" in rated.json()["review_html"]
    again = client.post(f"{base}/ratings/", {"stars": 2})
    assert again.status_code == 200
    flow.refresh_from_db()
    assert (flow.rating_count, flow.rating_sum) == (1, 2)
    listed = client.get(f"{base}/ratings/").json()
    assert listed["average"] == 2
    assert listed["distribution"][3] == {"stars": 2, "count": 1, "percent": 100}

    made = client.post(f"{base}/comments/", {"body": "Handy <script>x</script>"})
    assert made.status_code == 201
    assert "<script>" not in made.json()["body_html"]
    reply = as_user(owner).post(
        f"{base}/comments/", {"body": "Thanks", "parent": made.json()["id"]}
    )
    assert reply.status_code == 201
    threads = as_user(fan).get(f"{base}/comments/").json()["results"]
    assert [t["id"] for t in threads] == [made.json()["id"]]
    assert [r["body"] for r in threads[0]["replies"]] == ["Thanks"]

    reacted = client.post(f"{base}/reactions/", {"emoji": "🚀"})
    assert reacted.json()["on"] is True
    assert {"emoji": "🚀", "count": 1, "mine": True} in reacted.json()["reactions"]

    kinds = set(
        Notification.objects.filter(recipient=owner).values_list("kind", flat=True)
    )
    assert {"rating", "comment"} <= kinds
    assert Notification.objects.filter(recipient=fan, kind="reply").exists()
    # Owner hides the comment: gone from the list.
    hidden = as_user(owner).post(f"/api/v1/comments/{made.json()['id']}/hide/")
    assert hidden.status_code == 204
    assert client.get(f"{base}/comments/").json()["results"] == []


def test_own_and_private_workflows_take_no_ratings(as_user):
    owner = UserFactory()
    flow = shared_workflow(owner)
    own = as_user(owner).post(f"/api/v1/workflows/{flow.pk}/ratings/", {"stars": 5})
    assert own.status_code == 400
    assert own.json()["stars"] == ["You cannot rate your own workflow."]
    private = shared_workflow(owner, name="Quiet", visibility="private")
    client = as_user(UserFactory())
    url = f"/api/v1/workflows/{private.pk}"
    assert client.post(f"{url}/ratings/", {"stars": 5}).status_code == 404
    assert client.get(f"{url}/comments/").status_code == 404
    # Its owner sees it, and is told why nobody can rate it.
    refused = as_user(owner).post(f"{url}/comments/", {"body": "Note to self"})
    assert refused.status_code == 400
    assert "Private workflows have no ratings or comments." in str(refused.json())


def test_the_workflow_page_has_the_rating_and_comment_forms(client):
    owner = UserFactory()
    flow = shared_workflow(owner)
    fan = UserFactory()
    client.force_login(fan)
    page = client.get(f"/workflows/{flow.pk}/").content.decode()
    assert f'action="/workflows/{flow.pk}/rate/"' in page
    assert f'action="/workflows/{flow.pk}/comment/"' in page
    response = client.post(
        f"/workflows/{flow.pk}/rate/", {"stars": "5", "review": "Saved me hours"}
    )
    assert response.url == f"/workflows/{flow.pk}/#reviews"
    client.post(f"/workflows/{flow.pk}/comment/", {"body": "How do I add a loop?"})
    client.post(f"/workflows/{flow.pk}/react/", {"emoji": "❤️"})
    page = client.get(f"/workflows/{flow.pk}/").content.decode()
    assert "Saved me hours" in page
    assert "How do I add a loop?" in page
    assert "❤️ 1" in page
    flow.refresh_from_db()
    assert flow.rating_average == 5


def test_a_comment_on_a_workflow_can_be_reported(as_user):
    from community.models import Comment, Report

    owner = UserFactory()
    flow = shared_workflow(owner)
    author = UserFactory()
    as_user(author).post(f"/api/v1/workflows/{flow.pk}/comments/", {"body": "Spam"})
    comment = Comment.objects.get()
    assert comment.target == flow
    response = as_user(UserFactory()).post(
        "/api/v1/reports/",
        {"target_type": "comment", "target_id": comment.pk, "reason": "spam"},
    )
    assert response.status_code == 201, response.content
    assert Report.objects.get().comment == comment


def test_staff_hide_a_workflow_from_the_community(client, as_user):
    owner = UserFactory()
    flow = shared_workflow(owner, name="Spammy")
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/workflows/workflow/").status_code == 200
    response = client.post(
        "/admin/workflows/workflow/",
        {"action": "hide_workflows", "_selected_action": [flow.pk]},
    )
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.is_hidden
    stranger = as_user(UserFactory())
    assert stranger.get("/api/v1/workflows/discover/").json()["results"] == []
    assert stranger.get(f"/api/v1/workflows/{flow.pk}/comments/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/workflows/{flow.pk}/run/", {"input": "x"}, format="json"
        ).status_code
        == 404
    )
    # Its owner still has it.
    assert as_user(owner).get(f"/api/v1/workflows/{flow.pk}/").status_code == 200


def test_discover_lists_the_most_run_shared_workflows(client):
    owner = UserFactory()
    popular = shared_workflow(owner, name="Popular pipeline")
    Workflow.objects.filter(pk=popular.pk).update(run_count=9)
    shared_workflow(owner, name="Secret pipeline", visibility="private")
    page = client.get("/discover/").content.decode()
    assert f'href="/workflows/{popular.pk}/"' in page
    assert "Secret pipeline" not in page


@pytest.mark.usefixtures("fragment_cache")
def test_discover_shows_the_six_most_run_workflows_and_drops_one_at_once(client):
    owner = UserFactory()
    flows = [shared_workflow(owner, name=f"Flow {runs}") for runs in range(8)]
    for runs, flow in enumerate(flows):
        Workflow.objects.filter(pk=flow.pk).update(run_count=runs)

    def shown() -> list[str]:
        page = client.get("/discover/").content.decode()
        return [flow.name for flow in flows if f'href="/workflows/{flow.pk}/"' in page]

    assert shown() == [f"Flow {runs}" for runs in range(2, 8)]
    Workflow.objects.filter(pk=flows[7].pk).update(visibility=Visibility.PRIVATE)
    Workflow.objects.filter(pk=flows[6].pk).update(name="Renamed")
    Workflow.objects.filter(pk=flows[5].pk).update(owner=UserFactory(is_hidden=True))
    page = client.get("/discover/").content.decode()
    assert f'href="/workflows/{flows[7].pk}/"' not in page
    assert f'href="/workflows/{flows[5].pk}/"' not in page
    assert "Renamed" in page
    assert "Flow 6" not in page
    assert shown() == ["Flow 0", "Flow 1", "Flow 2", "Flow 3", "Flow 4", "Flow 6"]
