"""Ratings, comments and reactions: permissions, counts, sanitizing,
notifications, floods, and flat query counts on the agent's page."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents import services as agent_services
from community import reviews
from community.models import Comment, Notification, Rating, Reaction
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    made = make_agent(name="Poet")
    return agent_services.agent_update(
        agent=made, user=made.owner, data={"visibility": "public"}
    )


def counts(agent) -> tuple[int, int]:
    agent.refresh_from_db()
    return agent.rating_count, agent.rating_sum


# --- ratings ---------------------------------------------------------------


def test_rating_and_rerating_keep_the_counts_right(agent, as_user):
    first, second = UserFactory(), UserFactory()
    url = f"/api/v1/agents/{agent.pk}/ratings/"

    created = as_user(first).post(url, {"stars": 4, "review": "Good"}, format="json")
    assert created.status_code == 201
    assert as_user(second).post(url, {"stars": 2}, format="json").status_code == 201
    edited = as_user(first).post(url, {"stars": 5, "review": "Great"}, format="json")
    assert edited.status_code == 200
    assert counts(agent) == (2, 7)
    assert agent.rating_average == 3.5

    listing = as_user(second).get(url).json()
    assert [r["stars"] for r in listing["results"]] == [5, 2]
    assert listing["average"] == 3.5
    assert {d["stars"]: d["count"] for d in listing["distribution"]} == {
        5: 1,
        4: 0,
        3: 0,
        2: 1,
        1: 0,
    }
    # The owner heard of each new rating once (not of the edit).
    assert (
        Notification.objects.filter(recipient=agent.owner, kind="rating").count() == 2
    )

    reviews.rating_delete(rating=Rating.objects.get(user=second), user=second)
    assert counts(agent) == (1, 5)


@pytest.mark.parametrize("stars", [0, 6, "three", None])
def test_bad_stars_are_a_field_error(agent, as_user, stars):
    response = as_user(UserFactory()).post(
        f"/api/v1/agents/{agent.pk}/ratings/", {"stars": stars}, format="json"
    )
    assert response.status_code == 400
    assert "stars" in response.json()
    assert counts(agent) == (0, 0)


def test_you_cannot_rate_your_own_agent(agent, as_user):
    response = as_user(agent.owner).post(
        f"/api/v1/agents/{agent.pk}/ratings/", {"stars": 5}, format="json"
    )
    assert response.status_code == 400
    assert "own agent" in str(response.json())
    assert not Rating.objects.exists()


def test_a_private_agent_cannot_be_rated_or_seen(as_user, api_client):
    private = make_agent()
    response = as_user(UserFactory()).post(
        f"/api/v1/agents/{private.pk}/ratings/", {"stars": 5}, format="json"
    )
    assert response.status_code == 404
    assert api_client.get(f"/api/v1/agents/{private.pk}/comments/").status_code in (
        401,
        404,
    )


def test_hidden_ratings_leave_the_counts(agent):
    rating = reviews.rating_save(agent=agent, user=UserFactory(), stars=1)
    reviews.rating_save(agent=agent, user=UserFactory(), stars=5)
    reviews.rating_set_hidden(rating=rating, hidden=True)
    assert counts(agent) == (1, 5)
    assert list(reviews.rating_list(agent=agent).values_list("stars", flat=True)) == [5]
    reviews.rating_set_hidden(rating=rating, hidden=False)
    assert counts(agent) == (2, 6)


# --- comments --------------------------------------------------------------


def test_comments_are_sanitized_threaded_and_notified(agent, as_user, api_client):
    commenter, replier = UserFactory(), UserFactory()
    url = f"/api/v1/agents/{agent.pk}/comments/"
    top = as_user(commenter).post(
        url,
        {"body": "**Nice** <script>alert(1)</script> [x](javascript:alert(1))"},
        format="json",
    )
    assert top.status_code == 201
    reply = as_user(replier).post(
        url, {"body": "Agreed", "parent": top.json()["id"]}, format="json"
    )
    # A reply to a reply joins the same thread (one level).
    nested = as_user(commenter).post(
        url, {"body": "Thanks", "parent": reply.json()["id"]}, format="json"
    )
    assert nested.json()["parent"] == top.json()["id"]

    threads = api_client.get(url).json()["results"]  # visitors may read
    assert len(threads) == 1
    html = threads[0]["body_html"]
    assert "<strong>Nice</strong>" in html
    assert "<script>" not in html
    assert 'href="javascript' not in html
    assert [r["body"] for r in threads[0]["replies"]] == ["Agreed", "Thanks"]
    kinds = sorted(
        Notification.objects.filter(recipient=commenter).values_list("kind", flat=True)
    )
    assert kinds == ["reply"]
    assert (
        Notification.objects.filter(recipient=agent.owner, kind="comment").count() == 3
    )


def test_only_authors_edit_or_delete_and_owners_hide(agent, as_user):
    author, stranger = UserFactory(), UserFactory()
    comment = reviews.comment_create(agent=agent, user=author, body="First")
    edit = as_user(stranger).patch(
        f"/api/v1/comments/{comment.pk}/", {"body": "Hacked"}, format="json"
    )
    assert edit.status_code == 403
    assert (
        as_user(stranger).delete(f"/api/v1/comments/{comment.pk}/").status_code == 403
    )
    hide = as_user(stranger).post(
        f"/api/v1/comments/{comment.pk}/hide/", {"hidden": True}
    )
    assert hide.status_code == 404

    edited = as_user(author).patch(
        f"/api/v1/comments/{comment.pk}/", {"body": "First, edited"}, format="json"
    )
    assert edited.status_code == 200
    assert edited.json()["edited_at"]

    assert (
        as_user(agent.owner)
        .post(f"/api/v1/comments/{comment.pk}/hide/", {"hidden": True})
        .status_code
        == 204
    )
    assert (
        as_user(stranger).get(f"/api/v1/agents/{agent.pk}/comments/").json()["results"]
        == []
    )
    page = as_user(stranger).get(agent.get_listing_url())
    assert b"First, edited" not in page.content


def test_deleting_a_comment_with_replies_keeps_the_thread(agent):
    author = UserFactory()
    top = reviews.comment_create(agent=agent, user=author, body="Question")
    reviews.comment_create(agent=agent, user=UserFactory(), body="Answer", parent=top)
    reviews.comment_delete(comment=top, user=author)
    top.refresh_from_db()
    assert top.deleted_at is not None
    assert top.body == ""
    lone = reviews.comment_create(agent=agent, user=author, body="Alone")
    reviews.comment_delete(comment=lone, user=author)
    assert not Comment.objects.filter(pk=lone.pk).exists()


def test_comment_floods_are_refused_with_429_and_retry_after(agent, as_user, settings):
    """RATE_LIMIT_COMMENTS per person: the comments past it are refused with
    429 and Retry-After and not saved."""
    cache.clear()  # counts from earlier tests
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment": "3/min"}
    client = as_user(UserFactory())
    url = f"/api/v1/agents/{agent.pk}/comments/"
    answers = [client.post(url, {"body": f"spam {i}"}, format="json") for i in range(5)]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 429, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert "Too many comments posted" in answers[-1].json()["detail"]
    assert Comment.objects.count() == 3
    # Someone else is not held back by it.
    other = as_user(UserFactory())
    assert other.post(url, {"body": "hello"}, format="json").status_code == 201


def test_empty_and_oversized_comments_are_field_errors(agent, as_user):
    client = as_user(UserFactory())
    url = f"/api/v1/agents/{agent.pk}/comments/"
    assert "body" in client.post(url, {"body": "   "}, format="json").json()
    assert "body" in client.post(url, {"body": "x" * 5001}, format="json").json()
    assert not Comment.objects.exists()


# --- reactions -------------------------------------------------------------


def test_reactions_toggle(agent, as_user):
    client = as_user(UserFactory())
    url = f"/api/v1/agents/{agent.pk}/reactions/"
    on = client.post(url, {"emoji": "🚀"}, format="json").json()
    assert on["on"] is True
    assert {"emoji": "🚀", "count": 1, "mine": True} in on["reactions"]
    off = client.post(url, {"emoji": "🚀"}, format="json").json()
    assert off["on"] is False
    assert not Reaction.objects.exists()
    assert client.post(url, {"emoji": "💩"}, format="json").status_code == 400

    comment = reviews.comment_create(agent=agent, user=UserFactory(), body="Hi")
    liked = client.post(
        f"/api/v1/comments/{comment.pk}/reactions/", {"emoji": "👍"}, format="json"
    )
    assert liked.json()["on"] is True


# --- the agent's page --------------------------------------------------------


def test_the_page_shows_reviews_and_comments_and_rates_from_the_form(agent, client):
    rater = UserFactory()
    reviews.comment_create(agent=agent, user=UserFactory(), body="Lovely *poems*")
    client.force_login(rater)

    response = client.post(
        reverse("community:rate", args=[agent.pk]),
        {"stars": "4", "review": "Solid *work*"},
        follow=True,
    )

    page = response.content.decode()
    assert response.redirect_chain[-1][0].endswith("#reviews")
    assert "Thanks for rating" in page
    assert "Solid <em>work</em>" in page  # the review, rendered
    assert "<em>poems</em>" in page
    assert counts(agent) == (1, 4)
    own = client.post(reverse("community:rate", args=[agent.pk]), {"stars": "9"})
    assert own.status_code == 302
    assert counts(agent) == (1, 4)


def page_queries(client, agent) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(agent.get_listing_url()).status_code == 200
    return len(captured)


def test_the_page_costs_the_same_queries_with_many_comments_and_ratings(agent, client):
    people = [UserFactory() for _ in range(6)]

    def add(n):
        for i in range(n):
            person = people[i % len(people)]
            top = Comment.objects.create(agent=agent, author=person, body=f"c{i}")
            Comment.objects.create(agent=agent, author=people[0], body="r", parent=top)
            Reaction.objects.create(user=person, comment=top, emoji="👍")

    add(3)
    for person in people[:2]:
        reviews.rating_save(agent=agent, user=person, stars=4, review="ok")
    client.force_login(people[-1])
    few = page_queries(client, agent)
    add(40)
    for person in people[2:5]:
        reviews.rating_save(agent=agent, user=person, stars=3)
    assert page_queries(client, agent) == few


def test_comments_come_twenty_threads_a_page(agent, client):
    author = UserFactory()
    for i in range(25):
        Comment.objects.create(
            agent=agent,
            author=author,
            body=f"note-{i:02d}",
            body_html=f"<p>note-{i:02d}</p>",
        )
    first = client.get(agent.get_listing_url()).content.decode()
    assert first.count('class="comment"') == 20
    assert "note-24" in first
    assert "note-04" not in first
    assert "Older comments" in first
    second = client.get(agent.get_listing_url() + "?comments=2").content.decode()
    assert second.count('class="comment"') == 5
    assert "note-04" in second
