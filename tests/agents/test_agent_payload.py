"""The API's agent payload, built directly by AgentSerializer, is exactly what
DRF's generic ModelSerializer path gives for the same declared fields, and
the community list shows every change at once."""

from __future__ import annotations

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from agents import services
from agents.api import AgentSerializer
from agents.models import Agent
from community import reviews
from tests.agents.factories import SUM_SCHEMA, make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

COMMUNITY = "/api/v1/community/agents/"


def generic(agent: Agent) -> dict:
    """What ModelSerializer's own to_representation gives, field by field."""
    serializer = AgentSerializer(agent)
    return serializers.ModelSerializer.to_representation(serializer, agent)


def published(**data) -> Agent:
    agent = make_agent(**data)
    return services.agent_update(
        agent=agent, user=agent.owner, data={"visibility": "public"}
    )


def every_kind_of_agent() -> list[Agent]:
    plain = make_agent(name="Plain")
    listed = published(
        name="Listed",
        description="Adds **numbers**.",
        tags=["maths", "sums"],
        category="data",
        long_description="# Long\n\nText.",
        example_prompts=["What is 2 + 2?"],
        output_type=SUM_SCHEMA,
        tools=["calculator"],
        max_credits_per_run=2.5,
        model_settings={"temperature": 0.3},
    )
    rater = UserFactory()
    reviews.rating_save(user=rater, stars=4, review="Good", agent=listed)
    fork, _notes = services.agent_fork(agent=listed, user=rater)
    return [
        Agent.objects.select_related("owner", "forked_from__owner").get(pk=agent.pk)
        for agent in (plain, listed, fork)
    ]


def test_the_built_payload_is_the_generic_serializers_output_for_every_kind_of_agent():
    agents = every_kind_of_agent()
    assert agents[1].rating_count == 1
    assert agents[2].forked_from_id == agents[1].pk

    for agent in agents:
        built = AgentSerializer(agent).data
        expected = generic(agent)
        assert list(built) == list(expected)
        assert JSONRenderer().render(built) == JSONRenderer().render(expected)


def test_the_community_list_gives_each_agent_the_generic_payload(api_client):
    agents = every_kind_of_agent()

    results = api_client.get(COMMUNITY, {"sort": "new"}).json()["results"]

    by_id = {agent.pk: agent for agent in agents}
    assert {row["id"] for row in results} == {agents[1].pk}
    for row in results:
        expected = generic(by_id[row["id"]])
        assert JSONRenderer().render(row) == JSONRenderer().render(expected)


def test_the_community_list_shows_a_new_rating_a_fork_and_a_rename_at_once(
    api_client,
):
    agent = published(name="Counter")

    def listed() -> dict:
        results = api_client.get(COMMUNITY, {"sort": "new"}).json()["results"]
        return next(row for row in results if row["id"] == agent.pk)

    assert (listed()["rating_count"], listed()["fork_count"]) == (0, 0)

    reviews.rating_save(user=UserFactory(), stars=5, agent=agent)
    assert (listed()["rating_count"], listed()["rating_average"]) == (1, 5.0)

    services.agent_fork(agent=agent, user=UserFactory())
    assert listed()["fork_count"] == 1

    agent.refresh_from_db()
    services.agent_update(agent=agent, user=agent.owner, data={"name": "Tally"})
    assert listed()["name"] == "Tally"


def test_the_community_list_pages_keep_the_sort_order(api_client):
    owner = UserFactory()
    for runs in (3, 9, 1, 7, 5):
        agent = published(owner=owner, name=f"Runner {runs}")
        Agent.objects.filter(pk=agent.pk).update(run_count=runs)

    pages = [
        api_client.get(
            COMMUNITY, {"sort": "runs", "page_size": 2, "page": number}
        ).json()
        for number in (1, 2, 3)
    ]

    shown = [row["run_count"] for page in pages for row in page["results"]]
    assert shown == [9, 7, 5, 3, 1]
    assert [page["count"] for page in pages] == [5, 5, 5]
