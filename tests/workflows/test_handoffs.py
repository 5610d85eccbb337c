"""Handoffs: managing them over the API (owner only, usable targets only,
clear errors), and runs that hand the conversation from a triage agent to a
specialist with the offline demo model."""

from __future__ import annotations

import pytest
from django.test import Client

from agents import services
from agents.models import Handoff, RunStatus, Visibility
from agents.services.handoffs import MAX_HANDOFFS, handoff_create
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def tutors(owner):
    math = make_agent(
        owner,
        name="Math Tutor",
        description="Math: arithmetic, sums, times, plus, minus, products, numbers.",
        tools=["calculator"],
    )
    history = make_agent(
        owner,
        name="History Tutor",
        description="History: past events, wars, empires, kings, queens.",
        instructions="You teach history.",
    )
    triage = make_agent(
        owner,
        name="Triage",
        description="Sends each question to the right tutor.",
        instructions="Hand the conversation to the right tutor.",
    )
    for target in (math, history):
        handoff_create(agent=triage, user=owner, target_id=target.pk)
    return triage, math, history


def url(agent, handoff=None) -> str:
    base = f"/api/v1/agents/{agent.pk}/handoffs/"
    return f"{base}{handoff.pk}/" if handoff else base


# --- the API ------------------------------------------------------------------


def test_the_owner_adds_lists_changes_and_removes_handoffs(as_user):
    owner = UserFactory()
    triage = make_agent(owner, name="Triage")
    math = make_agent(owner, name="Math Tutor")
    client = as_user(owner)
    made = client.post(
        url(triage),
        {"target": math.pk, "description": "Sums", "input_filter": "remove_tools"},
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["target"] == math.pk
    assert body["target_name"] == "Math Tutor"
    assert body["input_filter"] == "remove_tools"
    listed = client.get(url(triage)).json()
    assert [h["id"] for h in listed] == [body["id"]]
    handoff = Handoff.objects.get(pk=body["id"])
    changed = client.put(
        url(triage, handoff), {"description": "Arithmetic only"}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["description"] == "Arithmetic only"
    assert changed.json()["input_filter"] == "remove_tools"
    assert client.delete(url(triage, handoff)).status_code == 204
    assert not Handoff.objects.exists()
    assert client.delete(url(triage, handoff)).status_code == 404


def test_only_the_owner_sees_or_changes_an_agents_handoffs(as_user):
    owner = UserFactory()
    triage, _math, _history = tutors(owner)
    triage.visibility = Visibility.PUBLIC
    triage.save()
    handoff = Handoff.objects.filter(agent=triage).first()
    stranger = as_user(UserFactory())
    assert stranger.get(url(triage)).status_code == 404
    assert stranger.post(url(triage), {"target": 1}, format="json").status_code == 404
    assert (
        stranger.put(url(triage, handoff), {"description": "x"}, format="json")
    ).status_code == 404
    assert stranger.delete(url(triage, handoff)).status_code == 404
    assert Handoff.objects.filter(agent=triage).count() == 2


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "target", "required"),
        ({"target": "x"}, "target", "valid integer"),
        ({"target": "SELF"}, "target", "cannot hand off to itself"),
        ({"target": "PRIVATE"}, "target", "not yours or shared"),
        ({"target": 999999}, "target", "No such agent"),
        ({"target": "OWN", "input_filter": "all"}, "input_filter", "valid choice"),
        ({"target": "OWN", "description": "x" * 301}, "description", "300"),
    ],
)
def test_bad_handoffs_are_field_errors_and_save_nothing(as_user, body, field, message):
    owner = UserFactory()
    triage = make_agent(owner, name="Triage")
    own = make_agent(owner, name="Own")
    private = make_agent(UserFactory(), name="Someone's private agent")
    names = {"SELF": triage.pk, "PRIVATE": private.pk, "OWN": own.pk}
    body = {key: names.get(value, value) for key, value in body.items()}
    response = as_user(owner).post(url(triage), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert message in " ".join(response.json()[field])
    assert not Handoff.objects.exists()


def test_a_target_once_and_at_most_ten(as_user):
    owner = UserFactory()
    triage = make_agent(owner, name="Triage")
    targets = [make_agent(owner, name=f"T{n}") for n in range(MAX_HANDOFFS + 1)]
    client = as_user(owner)
    for target in targets[:MAX_HANDOFFS]:
        made = client.post(url(triage), {"target": target.pk}, format="json")
        assert made.status_code == 201
    again = client.post(url(triage), {"target": targets[0].pk}, format="json")
    assert again.status_code == 400
    assert "already hands off to T0" in again.json()["target"][0]
    more = client.post(url(triage), {"target": targets[-1].pk}, format="json")
    assert more.status_code == 400
    assert "At most 10" in more.json()["target"][0]
    assert Handoff.objects.filter(agent=triage).count() == MAX_HANDOFFS


def test_a_shared_agent_of_someone_else_can_be_a_target(as_user):
    owner = UserFactory()
    triage = make_agent(owner, name="Triage")
    shared = make_agent(UserFactory(), name="Shared", visibility=Visibility.PUBLIC)
    made = as_user(owner).post(url(triage), {"target": shared.pk}, format="json")
    assert made.status_code == 201
    assert made.json()["target_owner"] == shared.owner.username


# --- runs ----------------------------------------------------------------------


def run_steps(run):
    return list(run.steps.order_by("order"))


@pytest.mark.django_db(transaction=True)
def test_triage_hands_a_math_question_to_the_math_tutor():
    owner = UserFactory()
    triage, _math, _history = tutors(owner)
    run = make_run(triage, input="What is 12 times 7?")
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    steps = run_steps(run)
    handoffs = [s for s in steps if s.type == "handoff"]
    assert [(s.payload["from"], s.payload["to"]) for s in handoffs] == [
        ("Triage", "Math Tutor")
    ]
    after = steps[steps.index(handoffs[0]) + 1 :]
    calls = [s for s in after if s.type == "tool-call"]
    assert [c.payload["name"] for c in calls] == ["calculator"]
    # The tutor's steps say whose they are and whose prices they cost.
    assert {c.payload["agent"] for c in calls} == {"Math Tutor"}
    assert calls[0].payload["model"] == "local/demo"
    assert "84" in str(run.final_output)
    answer = [s for s in steps if s.type == "agent-response"][-1]
    assert answer.payload["agent"] == "Math Tutor"
    # The run page shows the handoff and whose each later step is.
    client = Client()
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "Handed off from <strong>Triage</strong> to <strong>Math Tutor</strong>" in (
        " ".join(page.split())
    )
    assert "by Math Tutor" in page


@pytest.mark.django_db(transaction=True)
def test_a_history_question_goes_to_the_history_tutor_even_for_a_stranger():
    owner = UserFactory()
    triage, _math, _history = tutors(owner)
    triage.visibility = Visibility.PUBLIC
    triage.save()
    run = make_run(
        triage,
        user=UserFactory(),
        input="Which empire did the kings and queens of the past wars rule?",
    )
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    handoff = run.steps.get(type="handoff")
    assert handoff.payload["to"] == "History Tutor"
    assert run.steps.filter(
        type="agent-response", payload__agent="History Tutor"
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_a_target_that_is_no_longer_shared_is_left_out_of_runs():
    owner, other = UserFactory(), UserFactory()
    triage = make_agent(owner, name="Triage", tools=["calculator"])
    math = make_agent(
        other,
        name="Math Tutor",
        description="Math: arithmetic, sums, times, numbers.",
        tools=["calculator"],
        visibility=Visibility.PUBLIC,
    )
    handoff_create(agent=triage, user=owner, target_id=math.pk)
    math.visibility = Visibility.PRIVATE
    math.save()
    run = make_run(triage, input="What is 12 times 7?")
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert not run.steps.filter(type="handoff").exists()
    assert "84" in str(run.final_output)


@pytest.mark.django_db(transaction=True)
def test_the_demo_triage_hands_off_with_no_key(settings):
    from django.core.management import call_command

    from agents.models import Agent

    settings.OPENAI_API_KEY = ""
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    triage = Agent.objects.get(name="Triage", owner__username="bob")
    assert Handoff.objects.filter(agent=triage).count() == 2
    run = make_run(triage, user=UserFactory(), input="What is 12 times 7, plus 5?")
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.steps.get(type="handoff").payload["to"] == "Math Tutor"
    assert "89" in str(run.final_output)


# --- the section on the agent's page and in the builder -------------------------


def test_the_handoffs_section_adds_and_removes_for_the_owner_only():
    owner = UserFactory()
    triage = make_agent(owner, name="Triage")
    math = make_agent(owner, name="Math Tutor")
    shared = make_agent(UserFactory(), name="Shared", visibility=Visibility.PUBLIC)
    client = Client()
    client.force_login(owner)
    section_url = f"/agents/{triage.pk}/handoffs/"
    for page in (f"/agents/{triage.pk}/", f"/agents/{triage.pk}/edit/"):
        assert f'hx-get="{section_url}"' in client.get(page).content.decode()
    section = client.get(section_url).content.decode()
    assert f'<option value="{math.pk}">Math Tutor</option>' in section
    assert f'<option value="{triage.pk}">' not in section
    added = client.post(
        section_url,
        {"target": math.pk, "description": "Sums", "input_filter": "remove_tools"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Math Tutor" in added
    assert "Without earlier tool calls" in added
    by_id = client.post(
        section_url, {"target_id": shared.pk}, headers={"HX-Request": "true"}
    ).content.decode()
    assert f"by {shared.owner.username}" in by_id
    refused = client.post(
        section_url, {"target_id": triage.pk}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "An agent cannot hand off to itself." in refused
    assert Handoff.objects.filter(agent=triage).count() == 2
    handoff = Handoff.objects.get(agent=triage, target=math)
    client.post(section_url, {"remove": handoff.pk}, headers={"HX-Request": "true"})
    left = Handoff.objects.filter(agent=triage).values_list("target", flat=True)
    assert list(left) == [shared.pk]
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(section_url).status_code == 404
    assert stranger.post(section_url, {"target": math.pk}).status_code == 404


def test_wired_handoffs_carry_their_description_and_input_filter():
    from agents.runtime.executor import RunSpec, build_agent, wire_handoffs
    from agents.runtime.providers import AgentryModelProvider
    from agents.runtime.sdk import sdk

    provider = AgentryModelProvider()
    spec = RunSpec(
        definition={"name": "Triage"},
        input="hi",
        agent_id=1,
        handoffs={
            1: [
                {"target": 2, "description": "Sums", "input_filter": "remove_tools"},
                {"target": 3, "description": "", "input_filter": ""},
            ],
            # Handing back must not build agents forever: each is built once.
            2: [{"target": 1, "description": "", "input_filter": ""}],
        },
        handoff_definitions={
            2: {"name": "Math Tutor", "description": "Math."},
            3: {"name": "History Tutor", "description": "History."},
        },
    )
    root = build_agent(spec.definition, spec=spec, provider=provider)
    wire_handoffs(root, spec=spec, provider=provider)
    math, history = root.handoffs
    assert isinstance(math, sdk.Handoff)
    assert math.agent_name == "Math Tutor"
    assert math.tool_description == "Sums"
    assert math.input_filter is sdk.extensions.handoff_filters.remove_all_tools
    assert history.input_filter is None
    assert history.tool_description == (
        "Hand the conversation to History Tutor. History."
    )


def test_the_public_page_names_the_agents_it_hands_off_to_that_you_may_see():
    owner = UserFactory()
    triage, math, _history = tutors(owner)
    for agent in (triage, math):
        services.agent_update(agent=agent, user=owner, data={"visibility": "public"})
    triage.refresh_from_db()
    math.refresh_from_db()
    response = Client().get(triage.get_listing_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hands off to" in page
    assert f'href="{math.get_listing_url()}">Math Tutor</a>' in page
    # History Tutor is private: visitors do not learn of it.
    assert "History Tutor" not in page
