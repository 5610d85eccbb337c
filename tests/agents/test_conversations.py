"""Conversations: runs that continue each other, over the services, API and pages."""

import pytest

from agents import services
from agents.models import Conversation, Run, RunStatus
from agents.runtime.guardrails import _input_text
from agents.services.runs import conversation_input
from tests.agents.doubles import FixedProvider
from tests.agents.factories import make_agent, make_calculator_agent, make_run
from tests.community.factories import UserFactory

# isort: split
from agents_sdk.testing import ScriptedModel, assistant_message

pytestmark = pytest.mark.django_db


def finish(run, output, status=RunStatus.COMPLETED):
    Run.objects.filter(pk=run.pk).update(status=status, final_output=output)


def test_a_run_without_a_conversation_starts_one_titled_after_its_input():
    run = make_run(make_agent(), input="  Plan a trip to Lisbon for three days  ")
    conversation = run.conversation
    assert conversation.title == "Plan a trip to Lisbon for three days"
    assert conversation.owner == run.owner
    assert conversation.agent == run.agent


def test_later_turns_see_the_completed_earlier_ones_in_order(settings):
    agent = make_agent()
    first = make_run(agent, input="My name is Ada.")
    finish(first, "Hello Ada!")
    failed = services.run_start(
        agent=agent, user=agent.owner, input="(lost)", conversation=first.conversation
    )
    finish(failed, None, RunStatus.FAILED)
    second = services.run_start(
        agent=agent,
        user=agent.owner,
        input="What is my name?",
        conversation=first.conversation,
    )
    assert conversation_input(second) == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada!"},
        {"role": "user", "content": "What is my name?"},
    ]
    settings.AGENT_CONVERSATION_TURNS = 0
    assert conversation_input(second) == "What is my name?"


def test_a_structured_answer_is_passed_back_as_json_text():
    agent = make_calculator_agent()
    first = make_run(agent)
    finish(first, {"answer": 45})
    second = services.run_start(
        agent=agent,
        user=agent.owner,
        input="And plus 1?",
        conversation=first.conversation,
    )
    assert conversation_input(second)[1] == {
        "role": "assistant",
        "content": '{"answer": 45}',
    }


@pytest.mark.django_db(transaction=True)
def test_the_model_receives_the_conversation_so_far():
    agent = make_agent()
    first = make_run(agent, input="My name is Ada.")
    model = ScriptedModel(
        [[assistant_message("Hello Ada!")], [assistant_message("You are Ada.")]]
    )
    services.run_execute(run_id=first.pk, worker="t", provider=FixedProvider(model))
    second = services.run_start(
        agent=agent,
        user=agent.owner,
        input="What is my name?",
        conversation=Conversation.objects.get(pk=first.conversation_id),
    )
    services.run_execute(run_id=second.pk, worker="t", provider=FixedProvider(model))
    sent = model.calls[1].input
    texts = [(item["role"], item["content"]) for item in sent]
    assert texts == [
        ("user", "My name is Ada."),
        ("assistant", "Hello Ada!"),
        ("user", "What is my name?"),
    ]
    second.refresh_from_db()
    assert second.final_output == "You are Ada."


def test_input_guardrails_check_only_the_newest_message():
    items = [
        {"role": "user", "content": "secret stuff from before"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "hello"},
    ]
    assert _input_text(items) == "hello"


def test_a_run_cannot_continue_someone_elses_or_another_agents_conversation(
    as_user,
):
    owner = UserFactory()
    agent = make_agent(owner, visibility="public")
    theirs = make_run(agent).conversation
    other_agent = make_agent(owner, name="Other")
    client = as_user(owner)
    response = client.post(
        f"/api/v1/agents/{other_agent.pk}/run/",
        {"input": "hi", "conversation_id": theirs.pk},
    )
    assert response.status_code == 400
    assert "not yours with this agent" in response.json()["conversation_id"][0]
    stranger = UserFactory()
    response = as_user(stranger).post(
        f"/api/v1/agents/{agent.pk}/run/",
        {"input": "hi", "conversation_id": theirs.pk},
    )
    assert response.status_code == 400
    assert "no conversation with this id" in response.json()["conversation_id"][0]
    assert Run.objects.count() == 1


def test_the_api_continues_lists_renames_and_deletes_conversations(as_user):
    owner = UserFactory()
    agent = make_agent(owner)
    client = as_user(owner)
    first = client.post(f"/api/v1/agents/{agent.pk}/run/", {"input": "One"}).json()
    conversation_id = first["conversation"]
    second = client.post(
        f"/api/v1/agents/{agent.pk}/run/",
        {"input": "Two", "conversation_id": conversation_id},
    ).json()
    assert second["conversation"] == conversation_id
    listed = client.get(f"/api/v1/conversations/?agent={agent.pk}").json()
    assert [(c["id"], c["turns"]) for c in listed["results"]] == [(conversation_id, 2)]
    url = f"/api/v1/conversations/{conversation_id}/"
    detail = client.get(url).json()
    assert [r["input"] for r in detail["runs"]] == ["One", "Two"]
    assert client.patch(url, {"title": "  "}).status_code == 400
    assert client.patch(url, {"title": "Counting"}).json()["title"] == "Counting"
    assert as_user(UserFactory()).get(url).status_code == 404
    staff = UserFactory(is_staff=True)
    assert as_user(staff).get(url).status_code == 200
    assert as_user(staff).delete(url).status_code == 403
    assert as_user(owner).delete(url).status_code == 204
    assert not Run.objects.exists()


def test_the_conversation_page_shows_turns_and_continues(client):
    agent = make_agent()
    first = make_run(agent, input="My name is Ada.")
    finish(first, "Hello Ada!")
    client.force_login(agent.owner)
    url = f"/conversations/{first.conversation_id}/"
    page = client.get(url).content.decode()
    assert "My name is Ada." in page
    assert "Hello Ada!" in page
    response = client.post(f"{url}continue/", {"input": "What is my name?"})
    assert response.status_code == 302
    second = Run.objects.exclude(pk=first.pk).get()
    assert second.conversation_id == first.conversation_id
    page = client.get(url).content.decode()
    # The unfinished turn is shown live.
    assert f'ws-connect="/ws/runs/{second.pk}/' in page
    response = client.post(f"{url}continue/", {"input": "  "})
    assert response.status_code == 400
    assert Run.objects.count() == 2


def test_the_conversation_pages_rename_delete_and_keep_strangers_out(client):
    run = make_run(make_agent())
    url = f"/conversations/{run.conversation_id}/"
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.post(f"{url}delete/").status_code == 404
    client.force_login(run.owner)
    assert client.get("/conversations/").status_code == 200
    client.post(f"{url}rename/", {"title": "Renamed"})
    assert Conversation.objects.get().title == "Renamed"
    response = client.post(f"{url}rename/", {"title": ""})
    assert response.status_code == 400
    client.post(f"{url}delete/")
    assert not Conversation.objects.exists()
    assert not Run.objects.exists()
