"""Server-rendered pages every visitor sees."""

import pytest
from django.core.management import call_command

from community.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/", "/discover/", "/agents/", "/runs/", "/files/", "/credits/", "/workflows/"],
)
def test_the_navigation_pages_render_for_visitors(client, path):
    response = client.get(path)
    assert response.status_code == 200
    content = response.content.decode()
    for link in ("/discover/", "/agents/", "/runs/", "/files/", "/credits/"):
        assert f'href="{link}"' in content


def test_the_home_page_greets_a_signed_in_member(signed_in_client, user):
    content = signed_in_client.get("/").content.decode()
    assert user.username in content
    assert "/accounts/logout/" in content


def test_pages_use_only_vendored_assets(client):
    """The site works with no internet: no script or stylesheet from elsewhere."""
    content = client.get("/").content.decode()
    assert "/static/vendor/htmx/htmx.min.js" in content
    assert "/static/vendor/pico/pico.min.css" in content
    assert "https://" not in content.split("</head>")[0]


def test_vendored_static_files_are_served(client):
    response = client.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200


def test_an_unknown_page_gets_the_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    assert 'href="/"' in response.content.decode()


def test_profiles_resolve_usernames_case_insensitively(client, user):
    assert client.get(f"/u/{user.username.upper()}/").status_code == 200
    assert client.get("/u/nobody-here/").status_code == 404


def test_demo_data_loads_twice_without_duplicates_or_password_resets(capsys):
    call_command("seed_demo")
    admin = User.objects.get(username="admin")
    assert admin.is_staff
    assert admin.check_password("agentry-admin")
    admin.set_password("changed-by-the-owner")
    admin.save()

    call_command("seed_demo")
    output = capsys.readouterr().out
    assert User.objects.filter(username__in=["admin", "alice", "bob"]).count() == 3
    admin.refresh_from_db()
    assert admin.check_password("changed-by-the-owner")
    assert "alice" in output
    assert "(exists)" in output
    # The community is there once: ratings counted, Discover filled.
    from agents.models import Agent
    from community.models import Comment, Rating

    assert "community: 0 " in output  # the second load added nothing
    tutor = Agent.objects.get(owner__username="alice", slug="arithmetic-tutor")
    assert (tutor.rating_count, tutor.rating_sum) == (3, 14)
    assert Rating.objects.count() == 9
    assert Comment.objects.filter(parent__isnull=True).count() == 3
    assert Agent.objects.filter(visibility="public", forked_from__isnull=False).exists()


def test_the_home_page_query_count_is_small(
    client, django_assert_max_num_queries, user
):
    client.force_login(user)
    # Session, user, the low-balance banner, the notification bell's count,
    # the home's checklist and its recent runs.
    with django_assert_max_num_queries(6):
        client.get("/")
