"""The community pages' fragment cache (config.fragments): what visitors see
after a write is the new state at once, the cache is really used, and
nothing one viewer sees reaches another through it.

The test settings keep no fragments; these tests switch a local-memory cache
on, as a web process without Redis has."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from agents import services as agent_services
from community import reviews
from community.models import Profile
from config.markdown import plain_text
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from workflows.services import workflow_create, workflow_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragment_cache")]


def publish(agent, **data):
    return agent_services.agent_update(
        agent=agent, user=agent.owner, data={"visibility": "public", **data}
    )


@pytest.fixture
def agent():
    return publish(make_agent(name="Poet"), description="Writes short poems.")


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# --- the cache is used -------------------------------------------------------


def test_a_visitor_gets_the_agent_page_from_the_cache_the_second_time(
    agent, client, fragment_cache
):
    for i in range(3):
        reviews.comment_create(agent=agent, user=UserFactory(), body=f"Comment {i}")
    url = agent.get_listing_url()
    first = queries(client, url)
    second = queries(client, url)

    assert second < first
    assert page(client, url).count('class="comment"') == 3


def test_discover_and_the_profile_are_not_rendered_again_the_second_time(agent, client):
    with mock.patch(
        "agents.views_community.render_to_string", wraps=render_to_string
    ) as rendered:
        assert "Poet" in page(client, "/discover/")
        assert rendered.call_count == 2  # the card and the body around it
        assert "Poet" in page(client, "/discover/")
        assert rendered.call_count == 2
    with mock.patch("community.views.plain_text", wraps=plain_text) as summaries:
        url = f"/u/{agent.owner.username}/"
        assert "Writes short poems." in page(client, url)
        assert summaries.call_count == 1
        assert "Writes short poems." in page(client, url)
        assert summaries.call_count == 1


# --- a write shows at once -----------------------------------------------------


def test_a_new_comment_and_a_reply_show_at_once(agent, client):
    url = agent.get_listing_url()
    assert "No comments yet." in page(client, url)

    top = reviews.comment_create(agent=agent, user=UserFactory(), body="First!")
    assert "First!" in page(client, url)

    reviews.comment_create(
        agent=agent, user=UserFactory(), body="A reply to it", parent=top
    )
    assert "A reply to it" in page(client, url)


def test_an_edited_a_hidden_and_a_deleted_comment_show_at_once(agent, client):
    author = UserFactory()
    kept = reviews.comment_create(agent=agent, user=author, body="Original words")
    gone = reviews.comment_create(agent=agent, user=author, body="Soon deleted")
    rude = reviews.comment_create(agent=agent, user=UserFactory(), body="Rude words")
    url = agent.get_listing_url()
    assert "Original words" in page(client, url)

    reviews.comment_edit(comment=kept, user=author, body="Better words")
    shown = page(client, url)
    assert "Better words" in shown
    assert "Original words" not in shown

    reviews.comment_set_hidden(comment=rude, user=agent.owner, hidden=True)
    assert "Rude words" not in page(client, url)

    reviews.comment_delete(comment=gone, user=author)
    assert "Soon deleted" not in page(client, url)


def test_a_deleted_comment_with_replies_reads_as_deleted_at_once(agent, client):
    author = UserFactory()
    top = reviews.comment_create(agent=agent, user=author, body="Said something")
    reviews.comment_create(agent=agent, user=UserFactory(), body="Reply", parent=top)
    url = agent.get_listing_url()
    assert "Said something" in page(client, url)

    reviews.comment_delete(comment=top, user=author)
    shown = page(client, url)

    assert "Said something" not in shown
    assert "This comment was deleted." in shown


def test_a_reaction_on_a_comment_and_on_the_agent_show_at_once(agent, client):
    comment = reviews.comment_create(agent=agent, user=UserFactory(), body="Nice")
    url = agent.get_listing_url()
    assert "🚀 1" not in page(client, url)

    reviews.reaction_toggle(user=UserFactory(), emoji="🚀", comment=comment)
    assert "🚀 1" in page(client, url)

    reviews.reaction_toggle(user=UserFactory(), emoji="🤔", agent=agent)
    assert "🤔 1" in page(client, url)


def test_a_rating_shows_at_once_on_the_page_and_the_card(agent, client):
    url = agent.get_listing_url()
    assert "No ratings yet" in page(client, url)
    assert "No ratings yet" in page(client, "/discover/")

    reviews.rating_save(agent=agent, user=UserFactory(), stars=4, review="Lovely poems")

    shown = page(client, url)
    assert "Lovely poems" in shown
    assert "(1 rating)" in shown
    card = page(client, "/discover/")
    assert "No ratings yet" not in card
    assert "★ 4.0" in card


def test_a_fork_shows_at_once_on_the_origin_and_its_card(agent, client):
    url = agent.get_listing_url()
    assert "0 forks" in page(client, "/discover/")
    forker = UserFactory(username="forker")
    fork, _notes = agent_services.agent_fork(agent=agent, user=forker)
    publish(fork)

    assert "forker/Poet" in page(client, url)
    assert "1 fork" in page(client, "/discover/?q=poet")
    assert "1 fork" in page(client, "/discover/")


def test_a_new_name_and_description_show_at_once(agent, client):
    assert "Writes short poems." in page(client, "/discover/")
    assert "Writes short poems." in page(client, agent.get_listing_url())

    renamed = publish(agent, name="Sonneteer", description="Writes sonnets.")

    for url in ("/discover/", renamed.get_listing_url(), f"/u/{agent.owner.username}/"):
        shown = page(client, url)
        assert "Sonneteer" in shown
        assert "Writes sonnets." in shown
        assert "Writes short poems." not in shown


def test_an_unpublished_agent_leaves_discover_and_its_page_at_once(agent, client):
    url = agent.get_listing_url()
    assert "Poet" in page(client, "/discover/")
    assert "Poet" in page(client, f"/u/{agent.owner.username}/")
    page(client, url)

    agent_services.agent_update(
        agent=agent, user=agent.owner, data={"visibility": "private"}
    )

    assert 'data-agent="' not in page(client, "/discover/")
    assert "Poet" not in page(client, f"/u/{agent.owner.username}/")
    assert client.get(url).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_a_shared_workflow_made_private_or_renamed_leaves_discover_at_once(
    agent, client
):
    graph = {"entry": "w", "nodes": [{"id": "w", "kind": "agent", "agent": agent.pk}]}
    workflow = workflow_create(
        owner=agent.owner,
        data={"name": "Weekly digest", "graph": graph, "visibility": "public"},
    )
    assert "Weekly digest" in page(client, "/discover/")

    workflow_update(workflow=workflow, user=agent.owner, data={"name": "Daily digest"})
    html = page(client, "/discover/")
    assert "Daily digest" in html
    assert "Weekly digest" not in html

    workflow_update(workflow=workflow, user=agent.owner, data={"visibility": "private"})
    assert "Daily digest" not in page(client, "/discover/")


def test_a_new_bio_and_a_new_agent_show_on_the_profile_at_once(agent, client):
    url = f"/u/{agent.owner.username}/"
    assert "Poet" in page(client, url)

    Profile.objects.update_or_create(
        user=agent.owner, defaults={"bio": "I write **poems**."}
    )
    publish(make_agent(owner=agent.owner, name="Limericks"))
    shown = page(client, url)

    assert "<strong>poems</strong>" in shown
    assert "Limericks" in shown


# --- nothing private through the cache -------------------------------------


def test_a_visitor_never_sees_a_signed_in_persons_forms_or_token(agent, client):
    author = UserFactory(username="commenter")
    reviews.comment_create(agent=agent, user=author, body="Mine")
    url = agent.get_listing_url()
    client.force_login(author)
    own = page(client, url)
    assert "comment-edit" in own
    assert "csrfmiddlewaretoken" in own
    client.logout()

    visitor = page(client, url)

    assert "comment-edit" not in visitor
    assert "csrfmiddlewaretoken" not in visitor
    assert "Sign in to comment" in visitor


def test_a_signed_in_person_never_gets_a_visitors_or_anothers_page(agent, client):
    author = UserFactory(username="commenter")
    comment = reviews.comment_create(agent=agent, user=author, body="Mine")
    reviews.reaction_toggle(user=author, emoji="👍", comment=comment)
    url = agent.get_listing_url()
    assert "Sign in to comment" in page(client, url)  # a visitor's, kept
    client.force_login(author)
    page(client, url)

    reader = UserFactory(username="reader")
    client.force_login(reader)
    shown = page(client, url)

    assert "Sign in to comment" not in shown
    assert 'id="comment-form"' in shown
    assert "comment-edit" not in shown  # the author's forms are theirs
    assert "reaction-mine" not in shown  # and so is their reaction


def test_discover_shows_each_person_their_own_header(agent, client):
    client.force_login(UserFactory(username="first-person"))
    assert "first-person" in page(client, "/discover/")
    client.force_login(UserFactory(username="second-person"))

    shown = page(client, "/discover/")

    assert "second-person" in shown
    assert "first-person" not in shown
    client.logout()
    assert "second-person" not in page(client, "/discover/")
