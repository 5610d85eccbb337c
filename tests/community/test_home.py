"""A signed-in person's home: a greeting that knows whether they are new, the
four first steps ticked from their own data, and their latest runs."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Agent, Run, RunStatus
from community.models import Profile, User
from files.services import attachment_add
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory
from tests.files.factories import add_file

pytestmark = pytest.mark.django_db


def home(client, user) -> str:
    client.force_login(user)
    return client.get("/").content.decode()


def steps_done(page: str) -> dict[str, bool]:
    return {
        label: done == "true"
        for done, label in re.findall(
            r'data-done="(true|false)">.*?<a href="[^"]*">([^<]+)</a>', page, re.S
        )
    }


def test_a_brand_new_account_is_welcomed_not_welcomed_back(client):
    newcomer = UserFactory(username="newcomer")
    page = home(client, newcomer)
    assert "Welcome, newcomer" in page
    assert "Welcome back" not in page
    assert steps_done(page) == {
        "Build an agent": False,
        "Run it": False,
        "Give it a file to search": False,
        "Publish it for others": False,
    }
    assert "0 of 4 done." in page
    assert 'href="/agents/new/">Build an agent' in page
    assert "No runs yet" in page


def test_the_greeting_uses_the_display_name(client):
    person = UserFactory(username="ada")
    Profile.objects.create(user=person, display_name="Ada Lovelace")
    assert "Welcome, Ada Lovelace" in home(client, person)


def test_someone_who_has_built_something_is_welcomed_back(client):
    person = UserFactory(username="builder")
    agent = make_agent(person, name="Helper")
    page = home(client, person)
    assert "Welcome back, builder" in page
    assert steps_done(page)["Build an agent"] is True
    assert steps_done(page)["Run it"] is False
    # The next steps are done on the agent's own pages.
    assert f'href="/agents/{agent.pk}/">Run it' in page
    assert f'href="/agents/{agent.pk}/edit/">Publish it for others' in page


def test_someone_signing_in_again_later_is_welcomed_back(client):
    person = UserFactory(username="returner")
    User.objects.filter(pk=person.pk).update(
        date_joined=person.date_joined - timedelta(days=2)
    )
    person.refresh_from_db()
    assert "Welcome back, returner" in home(client, person)


def test_the_checklist_ticks_itself_and_goes_once_all_four_are_done(client):
    person = UserFactory()
    agent = make_agent(person, name="Guide")
    make_run(agent, input="hello")
    page = home(client, person)
    assert [
        steps_done(page)[label] for label in ("Run it", "Give it a file to search")
    ] == [
        True,
        False,
    ]
    file = add_file(person, "notes.md", "# Notes\n\nThe office opens at nine.")
    attachment_add(agent=agent, user=person, file_id=file.pk)
    assert steps_done(home(client, person))["Give it a file to search"] is True
    Agent.objects.filter(pk=agent.pk).update(visibility="public")
    page = home(client, person)
    assert "Your first steps" not in page
    assert steps_done(page) == {}


def test_someone_elses_agents_and_runs_tick_nothing(client):
    stranger = UserFactory()
    public = make_agent(stranger, name="Theirs", visibility="public")
    person = UserFactory()
    make_run(public, user=person, input="trying theirs")
    page = home(client, person)
    assert steps_done(page) == {
        "Build an agent": False,
        "Run it": True,
        "Give it a file to search": False,
        "Publish it for others": False,
    }


def test_recent_runs_show_the_latest_five_of_the_persons_own(client):
    person = UserFactory()
    agent = make_agent(person, name="Counter")
    runs = [make_run(agent, input=f"question {n}") for n in range(7)]
    Run.objects.filter(pk=runs[-1].pk).update(status=RunStatus.COMPLETED)
    make_run(make_agent(UserFactory(), name="Elsewhere"), input="not mine")
    page = home(client, person)
    section = page[page.index('id="recent-runs-title"') :]
    shown = re.findall(r'href="/runs/(\d+)/"', section)
    assert shown == [str(run.pk) for run in reversed(runs[2:])]
    assert "Counter" in section
    assert "Elsewhere" not in section
    assert 'data-status="completed"' in section
    assert 'href="/runs/">All your runs' in section


def test_the_home_page_costs_the_same_queries_however_much_a_person_has(client):
    person = UserFactory()
    client.force_login(person)
    with CaptureQueriesContext(connection) as empty:
        client.get("/")
    for number in range(4):
        agent = make_agent(person, name=f"Agent {number}", visibility="public")
        for _ in range(3):
            make_run(agent, input="again")
    file = add_file(person, "notes.md", "# Notes\n\nSomething to find.")
    attachment_add(agent=agent, user=person, file_id=file.pk)
    with CaptureQueriesContext(connection) as full:
        client.get("/")
    assert len(full) == len(empty)
