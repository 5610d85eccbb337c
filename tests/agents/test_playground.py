"""The playground: models, instructions and tools picked on the spot, nothing
saved but the runs (behind a hidden agent), and "save as agent"."""

import pytest

from agents import services
from agents.models import Agent, AgentVersion, Run, RunStatus
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_playground_run_uses_the_settings_given_and_lists_no_agent(as_user):
    user = UserFactory()
    api = as_user(user)
    response = api.post(
        "/api/v1/playground/runs/",
        {
            "instructions": "Answer like a pirate.",
            "model": "local/demo",
            "tools": ["calculator"],
            "input": "What is 2 + 3?",
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    run = Run.objects.get(pk=response.json()["id"])
    assert run.version.definition["instructions"] == "Answer like a pirate."
    assert run.version.definition["tools"] == ["calculator"]
    assert run.agent.is_playground
    assert run.agent.visibility == "private"
    # The hidden agent is nowhere to be listed or picked.
    assert api.get("/api/v1/agents/").json()["count"] == 0

    # A second message continues the chat with other settings.
    response = api.post(
        "/api/v1/playground/runs/",
        {
            "instructions": "Be brief.",
            "input": "And now?",
            "conversation_id": run.conversation_id,
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    second = Run.objects.get(pk=response.json()["id"])
    assert second.conversation_id == run.conversation_id
    assert second.agent_id == run.agent_id
    assert second.version.definition["instructions"] == "Be brief."
    assert Agent.objects.filter(owner=user, is_playground=True).count() == 1


def test_bad_playground_settings_get_field_messages_and_save_nothing(as_user):
    user = UserFactory()
    api = as_user(user)
    response = api.post(
        "/api/v1/playground/runs/",
        {"model": "nobody/nothing", "tools": ["no_such_tool"], "input": "  "},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "Unknown model" in body["model"][0]
    assert "Unknown tool" in body["tools"][0]
    assert "Write a message" in body["input"][0]
    assert not Agent.objects.filter(owner=user).exists()
    assert not Run.objects.exists()

    response = api.post(
        "/api/v1/playground/runs/",
        {"input": "hi", "conversation_id": 999999},
        format="json",
    )
    assert response.status_code == 400
    assert "conversation_id" in response.json()


def test_someone_elses_conversation_cannot_be_continued(as_user):
    owner, stranger = UserFactory(), UserFactory()
    run = services.playground_run(user=owner, data={}, input="Hello")
    response = as_user(stranger).post(
        "/api/v1/playground/runs/",
        {"input": "Hi", "conversation_id": run.conversation_id},
        format="json",
    )
    assert response.status_code == 400
    assert Run.objects.filter(owner=stranger).count() == 0


def test_save_as_agent_copies_the_last_settings_into_a_new_private_agent(as_user):
    user = UserFactory()
    api = as_user(user)
    response = api.post("/api/v1/playground/save/", {"name": "Pirate"}, format="json")
    assert response.status_code == 400
    assert "playground first" in response.json()["non_field_errors"][0]

    services.playground_run(
        user=user,
        data={"instructions": "Answer like a pirate.", "tools": ["calculator"]},
        input="Ahoy",
    )
    response = api.post("/api/v1/playground/save/", {"name": ""}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()

    response = api.post("/api/v1/playground/save/", {"name": "Pirate"}, format="json")
    assert response.status_code == 201, response.json()
    agent = Agent.objects.get(pk=response.json()["id"])
    assert agent.name == "Pirate"
    assert agent.instructions == "Answer like a pirate."
    assert agent.tools == ["calculator"]
    assert not agent.is_playground
    assert agent.visibility == "private"
    assert AgentVersion.objects.filter(agent=agent).count() == 1


def test_the_playground_page_runs_continues_and_saves(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/playground/")
    assert page.status_code == 200
    assert "Offline demo model" in page.content.decode()

    response = client.post(
        "/playground/",
        {"model": "local/demo", "instructions": "Be kind.", "input": "Hello there"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    run = Run.objects.get(owner=user)
    html = response.content.decode()
    assert f'name="conversation" value="{run.conversation_id}"' in html
    assert f"/ws/runs/{run.pk}/" in html

    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED, final_output="Hello, friend."
    )
    response = client.post(
        "/playground/",
        {
            "model": "local/demo",
            "input": "Again",
            "conversation": run.conversation_id,
        },
        HTTP_HX_REQUEST="true",
    )
    assert "Hello, friend." in response.content.decode()
    assert Run.objects.filter(conversation_id=run.conversation_id).count() == 2

    bad = client.post("/playground/", {"model": "local/demo", "input": ""})
    assert bad.status_code == 400
    assert "Nothing was run." in bad.content.decode()

    saved = client.post("/playground/save/", {"name": "Kind one"})
    agent = Agent.objects.get(owner=user, name="Kind one")
    assert saved.url == f"/agents/{agent.pk}/edit/"
    assert agent.instructions == ""  # the last run's settings had none
    playground = Agent.objects.get(owner=user, is_playground=True)
    assert f"/agents/{playground.pk}/" not in client.get("/agents/").content.decode()
    # Nor offered as a tool to the user's agents.
    builder = client.get(f"/agents/{agent.pk}/edit/").content.decode()
    assert f"agent/{playground.pk}" not in builder
    assert f"agent/{agent.pk}" not in builder  # not itself either


def test_the_playground_needs_a_signed_in_user(client):
    assert client.get("/playground/").status_code == 302
    assert client.post("/playground/save/", {"name": "x"}).status_code == 302


def test_a_stranger_cannot_continue_my_playground_chat_on_the_page(client):
    owner = UserFactory()
    run = services.playground_run(user=owner, data={}, input="Hello")
    client.force_login(UserFactory())
    response = client.post(
        "/playground/",
        {"model": "local/demo", "input": "Hi", "conversation": run.conversation_id},
    )
    assert response.status_code == 404


def test_agents_made_elsewhere_are_not_touched_by_the_playground():
    user = UserFactory()
    agent = make_agent(user, name="Playground")
    services.playground_run(user=user, data={"instructions": "x"}, input="Hi")
    agent.refresh_from_db()
    assert agent.instructions == "You help with arithmetic."
    assert not agent.is_playground
