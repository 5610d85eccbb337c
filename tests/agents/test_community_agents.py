"""Publishing, Discover, an agent's public page and forks."""

from __future__ import annotations

from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents import services
from agents.models import Agent, AgentVersion, CustomTool, Visibility
from agents.selectors import RATING_PRIOR_STARS, RATING_PRIOR_VOTES
from agents.services.search import (
    agent_search_index,
    agents_search_reindex,
    trending_refresh,
)
from community.models import Notification
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

COMMUNITY = "/api/v1/community/agents/"


def publish(agent, **listing):
    return services.agent_update(
        agent=agent, user=agent.owner, data={"visibility": "public", **listing}
    )


def names(response) -> list[str]:
    return [a["name"] for a in response.json()["results"]]


# --- publishing ------------------------------------------------------------


def test_publishing_with_a_listing_over_the_api(as_user):
    agent = make_agent(name="Haiku writer")
    client = as_user(agent.owner)

    response = client.patch(
        f"/api/v1/agents/{agent.pk}/",
        {
            "visibility": "public",
            "category": "writing",
            "long_description": "Writes **haiku**.",
            "example_prompts": ["A haiku about rain", "One about the sea"],
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["published_at"]
    assert body["url"] == f"/u/{agent.owner.username}/haiku-writer/"
    assert (body["rating_average"], body["rating_count"]) == (None, 0)
    assert (body["fork_count"], body["run_count"], body["forked_from"]) == (0, 0, None)
    # The listing is not the definition: no new version for it.
    assert body["version"] == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"category": "astrology"}, "category"),
        ({"example_prompts": ["a", "b", "c", "d", "e", "f"]}, "example_prompts"),
        ({"example_prompts": ["x" * 301]}, "example_prompts"),
        ({"example_prompts": [1, 2]}, "example_prompts"),
        ({"long_description": "x" * 10001}, "long_description"),
    ],
)
def test_bad_listings_are_refused_with_field_errors(as_user, data, field):
    agent = make_agent()
    response = as_user(agent.owner).patch(
        f"/api/v1/agents/{agent.pk}/", {"visibility": "public", **data}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    agent.refresh_from_db()
    assert agent.visibility == Visibility.PRIVATE  # nothing half-written


# --- Discover --------------------------------------------------------------


@pytest.fixture
def catalogue():
    author = UserFactory(username="maker")
    poet = publish(
        make_agent(author, name="Poet", description="Writes verse", tags=["poetry"]),
        category="writing",
    )
    coder = publish(
        make_agent(author, name="Reviewer", description="Reviews Python code"),
        category="coding",
    )
    make_agent(author, name="Secret", description="verse")  # private
    services.agent_update(
        agent=make_agent(author, name="Hidden link", description="verse"),
        user=author,
        data={"visibility": "unlisted"},
    )
    gone = UserFactory(username="gone")
    publish(make_agent(gone, name="Left", description="verse"))
    gone.is_active = False
    gone.save()
    return poet, coder


def test_discover_lists_only_published_agents_to_anyone(api_client, catalogue):
    response = api_client.get(COMMUNITY)
    assert response.status_code == 200
    assert sorted(names(response)) == ["Poet", "Reviewer"]


def test_search_finds_names_descriptions_and_tags(api_client, catalogue):
    assert names(api_client.get(COMMUNITY, {"q": "verse"})) == ["Poet"]
    assert names(api_client.get(COMMUNITY, {"q": "poetry"})) == ["Poet"]
    assert names(api_client.get(COMMUNITY, {"q": "reviewing python"})) == ["Reviewer"]
    assert names(api_client.get(COMMUNITY, {"q": "nothing-like-this"})) == []


def test_filters_and_sorts(api_client, catalogue):
    poet, coder = catalogue
    assert names(api_client.get(COMMUNITY, {"tag": "Poetry"})) == ["Poet"]
    assert names(api_client.get(COMMUNITY, {"category": "coding"})) == ["Reviewer"]
    Agent.objects.filter(pk=coder.pk).update(run_count=5)
    assert names(api_client.get(COMMUNITY, {"sort": "runs"})) == ["Reviewer", "Poet"]
    Agent.objects.filter(pk=poet.pk).update(rating_count=10, rating_sum=48)
    Agent.objects.filter(pk=coder.pk).update(rating_count=1, rating_sum=5)
    # Ten ratings averaging 4.8 beat one of 5 stars.
    assert names(api_client.get(COMMUNITY, {"sort": "top"})) == ["Poet", "Reviewer"]
    assert names(api_client.get(COMMUNITY, {"sort": "new"})) == ["Reviewer", "Poet"]
    bad = api_client.get(COMMUNITY, {"sort": "random", "category": "astrology"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"sort", "category"}


def test_newest_is_accepted_as_the_same_sort_as_new(api_client, catalogue):
    """`sort=newest` orders by publication like `new`, not by the default
    trending score, and is not refused."""
    poet, _coder = catalogue
    Agent.objects.filter(pk=poet.pk).update(trending_score=100)
    assert names(api_client.get(COMMUNITY)) == ["Poet", "Reviewer"]
    newest = api_client.get(COMMUNITY, {"sort": "newest"})
    assert newest.status_code == 200
    assert names(newest) == names(api_client.get(COMMUNITY, {"sort": "new"}))
    assert names(newest) == ["Reviewer", "Poet"]


def test_trending_favours_recent_activity(api_client, catalogue):
    poet, coder = catalogue
    runner = UserFactory()
    make_run(coder, user=runner, input="hi")
    make_run(coder, user=runner, input="again")
    make_run(poet, user=runner, input="hi")
    coder.refresh_from_db()
    assert coder.run_count == 2

    assert trending_refresh() == 2
    assert names(api_client.get(COMMUNITY)) == ["Reviewer", "Poet"]
    poet.refresh_from_db()
    coder.refresh_from_db()
    assert coder.trending_score > poet.trending_score > 0
    assert trending_refresh() == 0  # nothing changed


def test_top_rated_orders_by_the_exact_bayesian_average_ties_included(api_client):
    """Sorted in float8, the order is the one exact fractions give: equal
    averages (22/6 and 44/12; 4.0 four ways) fall to the rating count, then
    the newest."""
    owner = UserFactory()
    counts = [
        *[(0, 0), (5, 1), (25, 6), (13, 3), (17, 4), (34, 9), (35, 9), (1, 1)],
        *[(15, 3), (27, 6), (39, 9), (27, 6)],  # 4.0 each
    ]
    agents = []
    for stars, ratings in counts:
        agent = publish(make_agent(owner=owner, name=f"Rated {stars} of {ratings}"))
        Agent.objects.filter(pk=agent.pk).update(rating_sum=stars, rating_count=ratings)
        agents.append(agent)

    def exact(index: int):
        stars, ratings = counts[index]
        average = Fraction(
            stars + RATING_PRIOR_VOTES * RATING_PRIOR_STARS,
            ratings + RATING_PRIOR_VOTES,
        )
        # Newest first among equals: later agents were published later.
        return (-average, -ratings, -index)

    expected = [agents[i].pk for i in sorted(range(len(counts)), key=exact)]
    results = api_client.get(COMMUNITY, {"sort": "top"}).json()["results"]
    shown = [row["id"] for row in results]
    assert shown == expected


def test_the_discover_page_needs_no_account_and_escapes_names(client, catalogue):
    poet, _coder = catalogue
    Agent.objects.filter(pk=poet.pk).update(name="<script>alert(1)</script>")
    agent_search_index(agent_id=poet.pk)

    page = client.get(reverse("discover")).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "Reviewer" in page
    assert "#poetry" in page  # the tag cloud
    partial = client.get(reverse("discover"), {"q": "code"}, HTTP_HX_REQUEST="true")
    assert b'id="discover-results"' in partial.content
    assert b"<html" not in partial.content


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def bulk_agents(owner, count, start=0):
    Agent.objects.bulk_create(
        Agent(
            owner=owner,
            name=f"Bulk {i}",
            slug=f"bulk-{i}",
            description="many",
            tags=["bulk"],
            visibility=Visibility.PUBLIC,
            category="other",
            version_number=1,
            run_count=i,
        )
        for i in range(start, start + count)
    )
    agents_search_reindex()


def test_discover_costs_the_same_queries_for_10_or_1000_agents(client):
    owner = UserFactory()
    urls = ["/discover/", "/discover/?q=many&sort=top", f"{COMMUNITY}?sort=runs"]
    bulk_agents(owner, 10)
    few = [queries(client, url) for url in urls]
    bulk_agents(owner, 990, start=10)
    assert [queries(client, url) for url in urls] == few


def test_discover_pages_count_every_match_and_send_strays_where_the_paginator_did(
    client,
):
    bulk_agents(UserFactory(), 50)

    def shown(page) -> tuple[str, str]:
        html = client.get("/discover/", {"sort": "runs", "page": page}).content
        html = " ".join(html.decode().split())
        count = html.split('id="discover-count">')[1].split("</p>")[0].strip()
        where = html.split('aria-label="Pages">')[1].split("</nav>")[0]
        number = where.split("Page ")[1].split("<")[0].strip()
        return count, number

    assert shown(1) == ("50 agents", "1 of 3")
    assert shown(3) == ("50 agents", "3 of 3")  # two agents on it
    # Past the end, below 1: the last page; not a number: the first.
    assert shown(4) == ("50 agents", "3 of 3")
    assert shown(0) == ("50 agents", "3 of 3")
    assert shown(-2) == ("50 agents", "3 of 3")
    assert shown("two") == ("50 agents", "1 of 3")
    last = client.get("/discover/", {"sort": "runs", "page": 3}).content.decode()
    assert "Bulk 1<" in last
    assert "Bulk 0<" in last
    assert "Bulk 2<" not in last


def test_discover_with_no_match_says_so(client):
    bulk_agents(UserFactory(), 3)
    html = client.get("/discover/", {"q": "zebrafish"}).content.decode()
    assert "0 agents" in " ".join(html.split())
    assert "No published agent matches" in html


@pytest.mark.usefixtures("fragment_cache")
def test_a_signed_out_visitor_gets_discover_in_two_queries(client):
    """The page's agents with the number matching, then the workflows shown
    (the tag cloud is kept a minute)."""
    bulk_agents(UserFactory(), 30)
    client.get("/discover/")
    for url in ("/discover/", "/discover/?q=many&sort=top&page=2"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        assert len(captured) == 2, [query["sql"][:60] for query in captured]


# --- an agent's page ---------------------------------------------------------


def test_the_public_page_shows_the_listing_to_anyone(client):
    agent = publish(
        make_agent(name="Poet", description="Short"),
        long_description="## About\n\n**bold** <script>alert(1)</script>",
        example_prompts=["Write about rain"],
        category="writing",
    )
    page = client.get(agent.get_listing_url()).content.decode()

    assert "<h4>About</h4>" in page  # a user's heading, demoted
    assert "<strong>bold</strong>" in page
    assert "<script>alert(1)" not in page
    assert "Write about rain" in page
    assert "Sign in to run or fork" in page


def test_private_and_unlisted_pages_are_hidden_from_strangers(client):
    private = make_agent(name="Private one")
    unlisted = services.agent_update(
        agent=make_agent(name="Unlisted one"),
        user=UserFactory(),
        data={"visibility": "unlisted"},
    )
    assert client.get(private.get_listing_url()).status_code == 404
    assert client.get(unlisted.get_listing_url()).status_code == 404
    client.force_login(UserFactory())
    assert client.get(private.get_listing_url()).status_code == 404
    assert client.get(unlisted.get_listing_url()).status_code == 200  # with the link
    client.force_login(private.owner)
    assert client.get(private.get_listing_url()).status_code == 200


def test_the_public_page_costs_the_same_queries_with_many_forks(client):
    agent = publish(make_agent(name="Origin"))
    forker = UserFactory()
    for _ in range(3):
        publish(services.agent_fork(agent=agent, user=forker)[0])
    few = queries(client, agent.get_listing_url())
    for _ in range(10):
        publish(services.agent_fork(agent=agent, user=UserFactory())[0])
    assert queries(client, agent.get_listing_url()) == few


# --- forks -----------------------------------------------------------------


def test_forking_copies_the_current_version_and_remembers_its_origin(as_user):
    owner = UserFactory()
    hook = CustomTool.objects.create(
        owner=owner,
        name="my_hook",
        description="Owner's webhook",
        webhook_url="https://hooks.example.com/x",
        parameters={"type": "object", "properties": {}},
    )
    agent = publish(
        make_agent(
            owner,
            name="Origin",
            tools=["calculator", f"custom/{hook.pk}"],
            max_credits_per_run="2.5",
        ),
        long_description="About it",
    )
    forker = UserFactory()

    response = as_user(forker).post(f"/api/v1/agents/{agent.pk}/clone/")

    assert response.status_code == 201, response.json()
    body = response.json()
    fork = Agent.objects.get(pk=body["agent"]["id"])
    assert fork.owner == forker
    assert fork.visibility == Visibility.PRIVATE
    assert fork.tools == ["calculator"]
    assert fork.max_credits_per_run == 2500
    assert fork.long_description == "About it"
    assert (fork.forked_from, fork.forked_from_version) == (agent, 1)
    assert body["agent"]["forked_from"]["id"] == agent.pk
    assert any("webhook tool" in note for note in body["notes"])
    assert AgentVersion.objects.filter(agent=fork).count() == 1
    agent.refresh_from_db()
    assert agent.fork_count == 1
    notice = Notification.objects.get(recipient=owner)
    assert (notice.kind, notice.actor) == ("fork", forker)


def test_a_private_agent_cannot_be_forked(as_user):
    agent = make_agent()
    stranger = as_user(UserFactory()).post(f"/api/v1/agents/{agent.pk}/clone/")
    assert stranger.status_code == 404
    owner = as_user(agent.owner).post(f"/api/v1/agents/{agent.pk}/clone/")
    assert owner.status_code == 400
    assert "private" in str(owner.json()).lower()
    assert Agent.objects.count() == 1


def test_forking_from_the_page(client):
    agent = publish(make_agent(name="Origin"))
    forker = UserFactory()
    client.force_login(forker)

    response = client.post(reverse("agents:fork", args=[agent.pk]), follow=True)

    fork = Agent.objects.get(owner=forker)
    assert response.redirect_chain[-1][0] == fork.get_absolute_url()
    assert "private until you publish it" in response.content.decode()
    origin_page = client.get(agent.get_listing_url()).content.decode()
    assert "1 fork" in origin_page


def test_a_fork_shows_what_it_changed_against_its_origin(client):
    agent = publish(make_agent(name="Origin", instructions="Be brief."))
    forker = UserFactory()
    fork, _notes = services.agent_fork(agent=agent, user=forker)
    services.agent_update(
        agent=fork,
        user=forker,
        data={"instructions": "Be thorough.", "visibility": "public"},
    )
    url = reverse("agents:fork-changes", args=[fork.pk])

    page = client.get(url).content.decode()  # a visitor, both public

    assert "Be brief." in page
    assert "Be thorough." in page
    assert "version 1" in page
    # Once the origin is private, the fork no longer shows its definition.
    services.agent_update(agent=agent, user=agent.owner, data={"visibility": "private"})
    assert client.get(url).status_code == 404
