"""Follows: the services and their counts, the API, the button and the feed."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agents.models import Agent
from community import services
from community.models import Follow, Profile
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def counts(user) -> tuple[int, int]:
    profile = Profile.objects.get(user=user)
    return profile.followers_count, profile.following_count


# ---------- Services ----------


def test_following_counts_once_however_often_it_is_asked():
    fan, star = UserFactory(), UserFactory()
    _, created = services.follow_create(follower=fan, followee=star)
    assert created
    _, created = services.follow_create(follower=fan, followee=star)
    assert not created
    assert Follow.objects.count() == 1
    assert counts(star) == (1, 0)
    assert counts(fan) == (0, 1)


def test_unfollowing_lowers_the_counts_once():
    fan, star = UserFactory(), UserFactory()
    services.follow_create(follower=fan, followee=star)
    assert services.follow_delete(follower=fan, followee=star)
    assert not services.follow_delete(follower=fan, followee=star)
    assert counts(star) == (0, 0)
    assert counts(fan) == (0, 0)


def test_nobody_can_follow_themselves():
    user = UserFactory()
    with pytest.raises(ValidationError) as error:
        services.follow_create(follower=user, followee=user)
    assert error.value.message_dict["username"] == ["You cannot follow yourself."]


def test_the_database_refuses_a_self_follow_too():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=user, followee=user)


# ---------- API ----------


def test_follow_and_unfollow_through_the_api_are_idempotent(as_user):
    fan, star = UserFactory(), UserFactory(username="star")
    client = as_user(fan)
    first = client.post("/api/v1/users/star/follow/")
    assert first.status_code == 201
    assert first.json()["followers_count"] == 1
    assert client.post("/api/v1/users/STAR/follow/").status_code == 200
    assert client.delete("/api/v1/users/star/follow/").status_code == 204
    assert client.delete("/api/v1/users/star/follow/").status_code == 204
    assert counts(star) == (0, 0)


def test_following_yourself_through_the_api_is_a_400_with_a_reason(as_user):
    user = UserFactory(username="narcissus")
    response = as_user(user).post("/api/v1/users/narcissus/follow/")
    assert response.status_code == 400
    assert response.json() == {"username": ["You cannot follow yourself."]}


def test_following_someone_unknown_or_deactivated_is_a_404(as_user):
    UserFactory(username="gone", is_active=False)
    client = as_user(UserFactory())
    assert client.post("/api/v1/users/nobody/follow/").status_code == 404
    assert client.post("/api/v1/users/gone/follow/").status_code == 404


def test_following_needs_a_signed_in_member(api_client):
    UserFactory(username="star")
    assert api_client.post("/api/v1/users/star/follow/").status_code == 401


def test_anyone_lists_followers_and_following_page_by_page(api_client):
    star = UserFactory(username="star")
    fans = [UserFactory(username=f"fan{index}", credits=0) for index in range(3)]
    for fan in fans:
        services.follow_create(follower=fan, followee=star)
    gone = UserFactory(is_active=True, credits=0)
    services.follow_create(follower=gone, followee=star)
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    page = api_client.get("/api/v1/users/star/followers/?page_size=2").json()
    assert page["count"] == 3
    assert [person["username"] for person in page["results"]] == ["fan2", "fan1"]
    assert page["next"]
    following = api_client.get("/api/v1/users/fan0/following/").json()
    assert [person["username"] for person in following["results"]] == ["star"]
    assert api_client.get("/api/v1/users/nobody/followers/").status_code == 404


# ---------- Pages ----------


def test_the_follow_button_toggles_with_htmx(client):
    fan, star = UserFactory(), UserFactory(username="star")
    client.force_login(fan)
    html = client.get("/u/star/").content.decode()
    assert 'value="follow"' in html

    response = client.post(
        "/people/star/follow/", {"action": "follow"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'value="unfollow"' in response.content.decode()
    assert '<strong id="followers-count">1</strong>' in response.content.decode()
    assert Follow.objects.filter(follower=fan, followee=star).exists()

    response = client.post("/people/star/follow/", {"action": "unfollow"})
    assert response.status_code == 302
    assert not Follow.objects.exists()


def test_your_own_profile_has_no_follow_button_and_bad_actions_are_400(client):
    user = UserFactory(username="me")
    client.force_login(user)
    html = client.get("/u/me/").content.decode()
    assert 'name="action"' not in html
    assert "Edit your profile" in html
    assert client.post("/people/me/follow/", {"action": "??"}).status_code == 400
    response = client.post("/people/me/follow/", {"action": "follow"})
    assert response.status_code == 302
    assert not Follow.objects.exists()


def make_public(owner, name, visibility="public"):
    return Agent.objects.create(
        owner=owner, name=name, slug=name.lower(), visibility=visibility
    )


def test_the_feed_shows_public_agents_of_followed_people_newest_first(client, as_user):
    reader, followed, stranger = UserFactory(), UserFactory(), UserFactory()
    services.follow_create(follower=reader, followee=followed)
    make_public(followed, "Older")
    make_public(followed, "Newer")
    make_public(followed, "Hidden", visibility="private")
    make_public(stranger, "Unfollowed")
    client.force_login(reader)

    html = client.get("/feed/").content.decode()
    assert html.index("Newer") < html.index("Older")
    assert "Hidden" not in html
    assert "Unfollowed" not in html

    body = as_user(reader).get("/api/v1/feed/").json()
    assert [agent["name"] for agent in body["results"]] == ["Newer", "Older"]
    assert body["results"][0]["owner"] == followed.username


def test_the_feed_needs_sign_in(client, api_client):
    assert client.get("/feed/").status_code == 302
    assert api_client.get("/api/v1/feed/").status_code == 401
