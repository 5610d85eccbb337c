"""The community API's list keeps each agent's payload in the fragment cache
(config.fragments) under a key read from the database on every request: a
write shows at once, from any process, and a kept payload is the one a fresh
build gives, for visitors and signed-in people alike.

The test settings keep no fragments; these tests switch a local-memory cache
on, as a web process without Redis has."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents import selectors, services
from agents.api import AgentSerializer
from agents.models import Agent, LanguageModel
from community import reviews
from community.models import User
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragment_cache")]

COMMUNITY = "/api/v1/community/agents/"


def published(**data) -> Agent:
    agent = make_agent(**data)
    return services.agent_update(
        agent=agent, user=agent.owner, data={"visibility": "public"}
    )


def listing(client, **params) -> dict:
    response = client.get(COMMUNITY, {"sort": "new", **params})
    assert response.status_code == 200
    return response.json()


def listed(client, agent) -> dict:
    return next(row for row in listing(client)["results"] if row["id"] == agent.pk)


def built_afresh(client, **params) -> bytes:
    caches["fragments"].clear()
    return client.get(COMMUNITY, {"sort": "new", **params}).content


# --- the cache is used, and gives what a fresh build gives ---------------------


def test_the_second_request_builds_no_payload_and_reads_only_the_page_keys(
    api_client,
):
    for name in ("Adder", "Poet", "Tally"):
        published(name=name)
    first = api_client.get(COMMUNITY, {"sort": "top"}).content

    with (
        mock.patch.object(
            AgentSerializer,
            "to_representation",
            autospec=True,
            side_effect=AgentSerializer.to_representation,
        ) as built,
        CaptureQueriesContext(connection) as captured,
    ):
        second = api_client.get(COMMUNITY, {"sort": "top"}).content

    assert built.call_count == 0
    assert second == first
    # One query: the page's keys with the list's length (no COUNT of its own).
    assert len(captured) == 1
    assert "COUNT(*) OVER ()" in captured[0]["sql"]


def test_a_kept_page_is_byte_for_byte_what_a_fresh_build_gives(api_client):
    origin = published(name="Origin", description="Adds **numbers**.")
    reviews.rating_save(user=UserFactory(), stars=4, review="Good", agent=origin)
    fork, _notes = services.agent_fork(agent=origin, user=UserFactory())
    services.agent_update(agent=fork, user=fork.owner, data={"visibility": "public"})

    kept_before = api_client.get(COMMUNITY, {"sort": "new"}).content
    kept = api_client.get(COMMUNITY, {"sort": "new"}).content

    assert kept == kept_before == built_afresh(api_client)


def test_signed_in_people_get_the_same_kept_payloads_as_visitors(api_client, as_user):
    agent = published(name="Poet")
    reviews.rating_save(user=UserFactory(), stars=5, agent=agent)
    visitor = api_client.get(COMMUNITY, {"sort": "new"}).content

    assert as_user(agent.owner).get(COMMUNITY, {"sort": "new"}).content == visitor
    assert as_user(UserFactory()).get(COMMUNITY, {"sort": "new"}).content == visitor
    api_client.force_authenticate(None)
    assert built_afresh(api_client) == visitor


# --- a write shows at once -------------------------------------------------------


def test_a_rating_a_fork_and_a_run_show_at_once(api_client):
    agent = published(name="Counter")
    assert listed(api_client, agent)["rating_count"] == 0

    reviews.rating_save(user=UserFactory(), stars=5, agent=agent)
    shown = listed(api_client, agent)
    assert (shown["rating_count"], shown["rating_average"]) == (1, 5.0)

    services.agent_fork(agent=agent, user=UserFactory())
    assert listed(api_client, agent)["fork_count"] == 1

    Agent.objects.filter(pk=agent.pk).update(run_count=7)
    assert listed(api_client, agent)["run_count"] == 7


def test_a_rename_and_an_edited_description_show_at_once(api_client):
    agent = published(name="Counter", description="Counts.")
    assert listed(api_client, agent)["name"] == "Counter"

    agent = services.agent_update(
        agent=agent, user=agent.owner, data={"name": "Tally", "description": "Sums."}
    )

    shown = listed(api_client, agent)
    assert (shown["name"], shown["description"]) == ("Tally", "Sums.")
    assert shown["url"] == agent.get_listing_url()


def test_an_unpublished_or_hidden_agent_leaves_the_list_at_once(api_client):
    kept = published(name="Kept")
    leaving = published(name="Leaving")
    hidden = published(name="Hidden")
    assert listing(api_client)["count"] == 3

    services.agent_update(
        agent=leaving, user=leaving.owner, data={"visibility": "private"}
    )
    Agent.objects.filter(pk=hidden.pk).update(is_hidden=True)

    page = listing(api_client)
    assert [row["id"] for row in page["results"]] == [kept.pk]
    assert page["count"] == 1


def test_a_renamed_owner_and_a_renamed_origin_show_at_once(api_client):
    origin = published(name="Origin")
    fork, _notes = services.agent_fork(agent=origin, user=UserFactory())
    fork = services.agent_update(
        agent=fork, user=fork.owner, data={"visibility": "public"}
    )
    assert listed(api_client, fork)["forked_from"]["name"] == "Origin"

    services.agent_update(agent=origin, user=origin.owner, data={"name": "Source"})
    assert listed(api_client, fork)["forked_from"]["name"] == "Source"

    # As another process (or the admin) would: nothing in this one is told.
    User.objects.filter(pk=origin.owner_id).update(username="renamed-author")
    User.objects.filter(pk=fork.owner_id).update(username="renamed-forker")
    shown = listed(api_client, fork)
    assert shown["owner"] == "renamed-forker"
    assert shown["forked_from"]["owner"] == "renamed-author"
    assert shown["forked_from"]["url"].startswith("/u/renamed-author/")


def test_a_write_from_another_process_shows_at_once(api_client):
    """The key comes from the agent's row, not from anything this process
    remembers: an UPDATE no code here sees still changes the payload."""
    agent = published(name="Counter")
    assert listed(api_client, agent)["rating_count"] == 0

    Agent.objects.filter(pk=agent.pk).update(rating_count=2, rating_sum=9)

    shown = listed(api_client, agent)
    assert (shown["rating_count"], shown["rating_average"]) == (2, 4.5)


def test_a_renamed_model_shows_once_the_catalog_is_read_again(api_client):
    agent = published(name="Poet")
    model = LanguageModel.objects.filter(
        provider=agent.model.partition("/")[0], name=agent.model.partition("/")[2]
    ).first()
    if model is None:
        pytest.skip("the agent's model is not in the test catalog")
    assert listed(api_client, agent)["model_label"] == model.display_name

    LanguageModel.objects.filter(pk=model.pk).update(display_name="Renamed model")
    caches["fragments"].delete("model-labels")  # the minute has passed

    assert listed(api_client, agent)["model_label"] == "Renamed model"


def test_a_payload_built_after_a_change_is_not_kept_under_the_older_key(api_client):
    """An agent that changes between the page's keys and its rows being read
    is kept under its new state's key only: when its old state comes back
    (here its owner renamed, then renamed back), the old state is shown, not
    the one in between."""
    agent = published(name="Counter")
    name = agent.owner.username
    assert listed(api_client, agent)["owner"] == name
    caches["fragments"].clear()
    unchanged = selectors.agent_list_published

    def renamed_meanwhile(**filters):
        if not filters:  # the page's rows, after its keys were read
            User.objects.filter(pk=agent.owner_id).update(username="in-between")
        return unchanged(**filters)

    with mock.patch.object(selectors, "agent_list_published", renamed_meanwhile):
        assert listed(api_client, agent)["owner"] == "in-between"

    User.objects.filter(pk=agent.owner_id).update(username=name)
    assert listed(api_client, agent)["owner"] == name


def test_a_run_or_a_rating_changes_the_counters_without_building_the_payload_again(
    api_client,
):
    """The counters are read with the keys and set on the kept payload: a run
    does not make a new entry of the whole payload."""
    agent = published(name="Counter")
    listed(api_client, agent)

    Agent.objects.filter(pk=agent.pk).update(run_count=3)
    reviews.rating_save(user=UserFactory(), stars=4, agent=agent)
    with mock.patch.object(
        AgentSerializer,
        "to_representation",
        autospec=True,
        side_effect=AgentSerializer.to_representation,
    ) as built:
        shown = listed(api_client, agent)

    assert built.call_count == 0
    assert (shown["run_count"], shown["rating_count"]) == (3, 1)
    assert shown["rating_average"] == 4.0
    assert api_client.get(COMMUNITY, {"sort": "new"}).content == built_afresh(
        api_client
    )


# --- the page and its count come from one query ----------------------------------


def test_pages_count_and_links_are_those_of_the_usual_pagination(api_client):
    owner = UserFactory()
    for runs in (3, 9, 1, 7, 5):
        agent = published(owner=owner, name=f"Runner {runs}")
        Agent.objects.filter(pk=agent.pk).update(run_count=runs)

    pages = [
        listing(api_client, sort="runs", page_size=2, page=number)
        for number in (1, 2, 3)
    ]

    assert [row["run_count"] for page in pages for row in page["results"]] == [
        9,
        7,
        5,
        3,
        1,
    ]
    assert [page["count"] for page in pages] == [5, 5, 5]
    assert pages[0]["previous"] is None
    assert "page=3" in pages[1]["next"]
    assert pages[2]["next"] is None
    last = listing(api_client, sort="runs", page_size=2, page="last")
    assert last == pages[2]


def test_a_page_past_the_end_or_not_a_number_is_not_found(api_client):
    published(name="Only")

    assert listing(api_client)["count"] == 1
    for page in (2, 0, "x"):
        response = api_client.get(COMMUNITY, {"page": page})
        assert response.status_code == 404
        assert response.json()["detail"].startswith("Invalid page")


def test_an_empty_list_has_a_first_page_with_a_count_of_nothing(api_client):
    page = listing(api_client, tag="nothing-has-this")

    assert (page["count"], page["results"], page["next"]) == (0, [], None)
