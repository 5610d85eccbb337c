"""Profiles: the public page, the settings page, the API, and avatars."""

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from agents.models import Agent
from community import services
from community.avatars import MAX_AVATAR_BYTES, avatar_process
from community.models import Follow, Profile
from tests.community.factories import UserFactory
from tests.community.images import image_bytes, upload

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def publish(owner, count=1, **fields):
    start = Agent.objects.filter(owner=owner).count()
    return Agent.objects.bulk_create(
        [
            Agent(
                owner=owner,
                name=fields.get("name", f"Agent {start + index}"),
                slug=f"agent-{start + index}",
                description=fields.get("description", "Helps with **things**."),
                visibility=fields.get("visibility", "public"),
            )
            for index in range(count)
        ]
    )


# ---------- Avatars ----------


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_an_accepted_image_becomes_a_256_pixel_square_webp(image_format):
    data = avatar_process(upload(image_bytes(image_format, size=(640, 300))))
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        assert image.size == (256, 256)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, I am text", "Upload a PNG, JPEG, WebP or GIF image."),
        (image_bytes("PNG")[:60], "Upload a PNG, JPEG, WebP or GIF image."),
        (image_bytes("BMP"), "Upload a PNG, JPEG, WebP or GIF image."),
        (b"", "The file is empty."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "Upload a PNG"),
    ],
)
def test_it_refuses_what_is_not_an_allowed_image(content, message):
    with pytest.raises(ValidationError) as error:
        avatar_process(upload(content, name="x.png"))
    assert message in error.value.message_dict["avatar"][0]


def test_it_refuses_an_image_over_5_mb():
    big = upload(image_bytes())
    big.size = MAX_AVATAR_BYTES + 1
    with pytest.raises(ValidationError) as error:
        avatar_process(big)
    assert "larger than 5 MB" in error.value.message_dict["avatar"][0]


# ---------- The public page ----------


def test_anyone_sees_a_profile_with_bio_links_counts_and_published_agents(client):
    person = UserFactory(username="alice")
    services.profile_update(
        user=person,
        display_name="Alice Liddell",
        bio="I build **agents**.",
        links=["https://alice.example/"],
    )
    publish(person, name="Summariser", description="Summarises *long* texts.")
    publish(person, name="Zqx hidden", visibility="private")
    Agent.objects.create(
        owner=person, name="Zqx sandbox", slug="sandbox", is_playground=True
    )
    services.follow_create(follower=UserFactory(), followee=person)

    response = client.get("/u/ALICE/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alice Liddell" in html
    assert "<strong>agents</strong>" in html
    assert 'href="https://alice.example/" rel="nofollow noopener noreferrer"' in html
    assert '<strong id="followers-count">1</strong>' in html
    assert "Summariser" in html
    assert "Summarises long texts." in html
    assert "Zqx" not in html
    # Signed out: no follow button.
    assert 'name="action"' not in html


def test_a_profile_without_a_saved_profile_shows_initials_and_writes_nothing(client):
    person = UserFactory(username="bob")
    html = client.get("/u/bob/").content.decode()
    assert "avatar-initials" in html
    assert ">B</span>" in html
    assert not Profile.objects.filter(user=person).exists()


@pytest.mark.parametrize("username", ["nobody", "inactive"])
def test_unknown_and_deactivated_people_have_no_page(client, username):
    UserFactory(username="inactive", is_active=False)
    assert client.get(f"/u/{username}/").status_code == 404
    assert client.get(f"/api/v1/users/{username}/").status_code == 404


def test_script_in_a_name_or_bio_is_shown_as_text_never_run(client, api_client):
    person = UserFactory(username="mallory")
    services.profile_update(user=person, display_name=XSS, bio=f"Hi {XSS}")
    html = client.get("/u/mallory/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    body = api_client.get("/api/v1/users/mallory/").json()
    assert body["display_name"] == XSS
    assert "<script" not in body["bio_html"]


def test_a_javascript_link_is_refused():
    person = UserFactory()
    with pytest.raises(ValidationError) as error:
        services.profile_update(user=person, links=["javascript:alert(1)"])
    assert "http://" in error.value.message_dict["links"][0]


def test_the_profile_page_costs_the_same_queries_with_few_or_many_rows(client):
    person = UserFactory(username="busy")
    visitor = UserFactory()
    client.force_login(visitor)
    publish(person, 3)
    for _ in range(2):
        services.follow_create(follower=UserFactory(credits=0), followee=person)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/u/busy/").status_code == 200
        return len(queries)

    few = count_queries()
    publish(person, 40)
    for _ in range(25):
        services.follow_create(follower=UserFactory(credits=0), followee=person)
    services.follow_create(follower=visitor, followee=person)
    many = count_queries()
    assert few == many
    assert few <= 10  # the agents listed carry the author's totals


def test_the_profile_totals_count_every_published_agent_not_only_those_shown(client):
    person = UserFactory(username="prolific")
    publish(person, 35)
    publish(person, name="Private", visibility="private")
    Agent.objects.filter(owner=person).update(run_count=2, rating_sum=9, rating_count=2)
    signed_out = client.get("/u/prolific/").content.decode()
    # 35 published agents (30 listed), two runs and two ratings each; the
    # private one's are not counted.
    assert "70 runs of their agents" in signed_out
    assert "★ 4.5" in signed_out
    assert "(70 ratings)" in signed_out
    assert signed_out.count('href="/u/prolific/agent-') == 30


def test_a_profile_with_nothing_published_shows_no_runs_and_no_average(client):
    person = UserFactory(username="quiet")
    publish(person, name="Private", visibility="private")
    Agent.objects.filter(owner=person).update(run_count=5, rating_sum=5, rating_count=1)
    html = client.get("/u/quiet/").content.decode()
    assert "0 runs of their agents" in html
    assert "★" not in html


def test_a_signed_out_visitor_gets_a_profile_in_two_queries(client):
    """The person, then their listed agents with the totals beside them."""
    person = UserFactory(username="twoq")
    publish(person, 3)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/u/twoq/").status_code == 200
    assert len(queries) == 2, [query["sql"][:80] for query in queries]


# ---------- The API ----------


def test_the_api_shows_a_public_profile_to_anyone(api_client):
    person = UserFactory(username="carol")
    services.profile_update(
        user=person, display_name="Carol", bio="# Hi", links=["http://carol.dev"]
    )
    publish(person, 2)
    publish(person, visibility="private")
    services.follow_create(follower=UserFactory(), followee=person)
    body = api_client.get("/api/v1/users/carol/").json()
    assert body["username"] == "carol"
    assert body["display_name"] == "Carol"
    assert body["bio"] == "# Hi"
    assert body["bio_html"] == "<h3>Hi</h3>\n"
    assert body["links"] == ["http://carol.dev"]
    assert body["avatar_url"] is None
    assert body["followers_count"] == 1
    assert body["following_count"] == 0
    assert body["agents_count"] == 2
    assert body["date_joined"]
    assert "email" not in body


def test_a_member_edits_their_profile_through_the_api(as_user):
    user = UserFactory()
    client = as_user(user)
    response = client.patch(
        "/api/v1/users/me/profile/",
        {
            "display_name": "New name",
            "links": ["https://a.example", ""],
            "email_preferences": {"follow": False},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["display_name"] == "New name"
    assert body["links"] == ["https://a.example"]
    assert body["email_preferences"]["follow"] is False
    assert body["email_preferences"]["comment"] is True
    assert body["email_preferences"]["low_balance"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": "x" * 51}, "display_name"),
        ({"bio": "x" * 2001}, "bio"),
        ({"links": ["ftp://files.example"]}, "links"),
        ({"links": ["https://a.example"] * 5}, "links"),
        ({"links": "https://a.example"}, "links"),
        ({"email_preferences": {"follow": "maybe"}}, "email_preferences"),
        ({"email_preferences": {"spam": True}}, "email_preferences"),
    ],
)
def test_bad_profile_input_gets_a_400_with_the_field_and_changes_nothing(
    as_user, body, field
):
    user = UserFactory()
    services.profile_update(user=user, display_name="Kept")
    response = as_user(user).patch("/api/v1/users/me/profile/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field]
    assert Profile.objects.get(user=user).display_name == "Kept"


def test_an_avatar_uploaded_through_the_api_is_served_resized(as_user, media_root):
    user = UserFactory()
    response = as_user(user).patch(
        "/api/v1/users/me/profile/", {"avatar": upload()}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["avatar_url"].endswith(".webp")
    stored = Profile.objects.get(user=user).avatar
    with Image.open(stored.path) as image:
        assert image.size == (256, 256)


def test_editing_needs_a_signed_in_member(api_client):
    response = api_client.patch("/api/v1/users/me/profile/", {}, format="json")
    assert response.status_code == 401


# ---------- The settings page ----------


def settings_form(**overrides):
    data = {
        "display_name": "Dee",
        "bio": "Hello",
        "link_1": "https://dee.example",
        "link_2": "",
        "link_3": "",
        "link_4": "",
        "email_follow": "on",
        "email_comment": "on",
    }
    data.update(overrides)
    return data


def test_the_settings_page_saves_a_profile_with_an_avatar(signed_in_client, user):
    page = signed_in_client.get("/settings/profile/")
    assert page.status_code == 200
    assert 'name="email_follow"' in page.content.decode()

    response = signed_in_client.post(
        "/settings/profile/", settings_form(avatar=upload())
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "Dee"
    assert profile.links == ["https://dee.example"]
    assert profile.wants_email("follow")
    assert not profile.wants_email("rating")
    with Image.open(profile.avatar.path) as image:
        assert (image.format, image.size) == ("WEBP", (256, 256))
    html = signed_in_client.get(f"/u/{user.username}/").content.decode()
    assert profile.avatar.url in html


def test_a_new_avatar_replaces_the_old_file(
    signed_in_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in_client.post("/settings/profile/", settings_form(avatar=upload()))
    first = Profile.objects.get(user=user).avatar.path
    with django_capture_on_commit_callbacks(execute=True):
        signed_in_client.post("/settings/profile/", settings_form(avatar=upload()))
    second = Profile.objects.get(user=user).avatar.path
    assert first != second
    assert not Path(first).exists()


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"link_2": "javascript:alert(1)"}, "id_link_2_error"),
        ({"display_name": "x" * 51}, "id_display_name_error"),
        (
            {"avatar": upload(b"GIF89a not really", name="a.gif")},
            "id_avatar_error",
        ),
    ],
)
def test_the_settings_page_shows_errors_by_field_and_saves_nothing(
    signed_in_client, user, overrides, field_error, media_root
):
    response = signed_in_client.post("/settings/profile/", settings_form(**overrides))
    assert response.status_code == 400
    assert f'id="{field_error}"' in response.content.decode()
    assert not Profile.objects.filter(user=user, display_name="Dee").exists()
    assert not list(media_root.rglob("*.webp"))


def test_the_settings_page_needs_sign_in(client):
    response = client.get("/settings/profile/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_follow_rows_and_counts_agree_after_follows_and_unfollows():
    person = UserFactory()
    fans = [UserFactory(credits=0) for _ in range(3)]
    for fan in fans:
        services.follow_create(follower=fan, followee=person)
    services.follow_delete(follower=fans[0], followee=person)
    assert Profile.objects.get(user=person).followers_count == (
        Follow.objects.filter(followee=person).count()
    )


def test_other_apps_routes_under_users_are_not_taken_for_usernames(as_user):
    """/api/v1/users/api-keys/ belongs to the agents app's provider keys."""
    response = as_user(UserFactory()).get("/api/v1/users/api-keys/")
    assert response.status_code == 200
    assert "username" not in response.content.decode()
