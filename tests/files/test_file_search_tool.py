"""The file_search tool in real runs of the offline demo model: answers
quote and cite the agent owner's attached files, never the runner's; the
tool's result explains an empty search; attaching files over the API."""

from __future__ import annotations

import json

import pytest

from agents import services as agent_services
from agents.models import RunStatus
from files import services
from files.models import Attachment
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory
from tests.files.factories import add_file

pytestmark = pytest.mark.django_db(transaction=True)

HANDBOOK = """# Returns

You may return any item within 30 days of delivery for a full refund.

# Shipping

Orders leave the Lisbon warehouse within two business days.
"""


def search_step(run) -> dict:
    step = run.steps.get(type="tool-result", payload__name="file_search")
    return json.loads(step.payload["output"])


def run_now(agent, user, text):
    run = make_run(agent, user=user, input=text)
    agent_services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    return run


def test_a_public_agent_answers_from_its_owners_files_with_citations():
    owner, runner = UserFactory(), UserFactory()
    handbook = add_file(owner, "handbook.md", HANDBOOK)
    add_file(runner, "runner.md", "# Returns\n\nThe runner's own return notes: none.")
    agent = make_agent(
        owner, name="Support", tools=["file_search"], visibility="public"
    )
    services.attachment_add(agent=agent, user=owner, file_id=handbook.pk)

    run = run_now(agent, runner, "How many days do I have to return an item?")
    assert run.status == RunStatus.COMPLETED, run.error
    found = search_step(run)
    assert found["results"][0]["file"] == "handbook.md"
    assert found["results"][0]["vector_score"] is not None
    assert found["reason"] == ""
    # Only the owner's attached file was searched, never the runner's.
    assert {r["file"] for r in found["results"]} == {"handbook.md"}
    assert "30 days" in run.final_output
    assert "handbook.md" in run.final_output
    assert "runner's own" not in run.final_output


def test_an_agent_with_nothing_attached_says_why_it_found_nothing():
    owner = UserFactory()
    add_file(owner, "handbook.md", HANDBOOK)  # owned but not attached
    agent = make_agent(owner, name="Support", tools=["file_search"])
    run = run_now(agent, owner, "How many days do I have to return an item?")
    assert run.status == RunStatus.COMPLETED, run.error
    found = search_step(run)
    assert found["results"] == []
    assert found["reason"] == "no_files"
    assert "No files are attached" in found["explanation"]


def test_a_fork_does_not_search_the_original_owners_files():
    owner, forker = UserFactory(), UserFactory()
    handbook = add_file(owner, "handbook.md", HANDBOOK)
    agent = make_agent(
        owner, name="Support", tools=["file_search"], visibility="public"
    )
    services.attachment_add(agent=agent, user=owner, file_id=handbook.pk)
    fork, _notes = agent_services.agent_fork(agent=agent, user=forker)
    run = run_now(fork, forker, "How many days do I have to return an item?")
    assert search_step(run)["reason"] == "no_files"
    assert "30 days" not in run.final_output


def test_attaching_files_over_the_api(as_user):
    owner, other = UserFactory(), UserFactory()
    mine = add_file(owner, "handbook.md", HANDBOOK)
    theirs = add_file(other, "other.md", "# Other\n\nSomeone else's file.")
    agent = make_agent(owner, name="Support", tools=["file_search"])
    url = f"/api/v1/agents/{agent.pk}/files/"
    client = as_user(owner)
    assert client.post(url, {"file": mine.pk}, format="json").status_code == 201
    assert client.post(url, {"file": mine.pk}, format="json").status_code == 201
    assert Attachment.objects.filter(agent=agent).count() == 1
    refused = client.post(url, {"file": theirs.pk}, format="json")
    assert refused.status_code == 400
    assert "file" in refused.json()
    both = client.post(url, {"file": mine.pk, "collection": 1}, format="json")
    assert both.status_code == 400
    listed = client.get(url).json()
    assert [a["file"]["name"] for a in listed] == ["handbook.md"]
    # Nobody else sees or changes what the agent searches.
    assert as_user(other).get(url).status_code == 404
    sneaky = as_user(other).post(url, {"file": theirs.pk}, format="json")
    assert sneaky.status_code == 404
    detach = f"{url}{mine.pk}/"
    assert as_user(other).delete(detach).status_code == 404
    assert as_user(owner).delete(detach).status_code == 204
    assert as_user(owner).delete(detach).status_code == 404
    assert not Attachment.objects.filter(agent=agent).exists()
