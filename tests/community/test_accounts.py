"""Signing up, logging in and recovering an account through the web pages."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from community.models import AuditAction, AuditEntry, User
from tests.community.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-42"


def signup(client, **overrides):
    data = {
        "email": "newcomer@example.com",
        "username": "newcomer",
        "password1": STRONG,
        "password2": STRONG,
        **overrides,
    }
    return client.post("/accounts/signup/", data)


def test_a_visitor_signs_up_and_is_signed_in(client):
    response = signup(client)
    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert user.email == "newcomer@example.com"
    assert client.get("/").context["user"] == user


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "Taken"}, "username", "already exists"),
        ({"email": "TAKEN@example.com"}, "email", "already registered"),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"password1": "x7", "password2": "x7"}, "password1", "too short"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"username": "has space"}, "username", "letters, digits"),
        ({"password2": "something-else-entirely"}, "password2", "same password"),
        ({"username": "api-keys"}, "username", "reserved"),
        ({"username": "Feed"}, "username", "reserved"),
    ],
    ids=[
        "taken-username",
        "taken-email",
        "common-password",
        "short-password",
        "malformed-email",
        "bad-username",
        "mismatch",
        "reserved-route-name",
        "reserved-any-case",
    ],
)
def test_signup_with_bad_input_explains_the_field_and_creates_nothing(
    client, overrides, field, message
):
    UserFactory(username="taken", email="taken@example.com")
    response = signup(client, **overrides)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message.lower() in errors.lower(), response.context["form"].errors
    assert User.objects.count() == 1


def test_a_member_logs_in_with_username_or_email(client, user):
    for login in (user.username, user.email):
        response = client.post(
            "/accounts/login/", {"login": login, "password": PASSWORD}
        )
        assert response.status_code == 302, login
        assert client.get("/").context["user"] == user
        client.post("/accounts/logout/")
        assert not client.get("/").context["user"].is_authenticated


def test_a_wrong_password_is_refused_with_a_message(client, user):
    response = client.post(
        "/accounts/login/", {"login": user.username, "password": "wrong-password"}
    )
    assert response.status_code == 200
    assert "not correct" in str(response.context["form"].errors)
    assert not client.get("/").context["user"].is_authenticated


def test_password_reset_mails_a_link_that_sets_a_new_password(client, user):
    client.post("/accounts/password/reset/", {"email": user.email})
    assert len(mail.outbox) == 1
    link = next(
        line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line
    ).strip()
    path = link.split("://", 1)[-1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else "/" + path
    response = client.post(
        form_url, {"password1": STRONG, "password2": STRONG}, follow=True
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_mandatory_email_verification_holds_new_accounts_until_confirmed(
    client, settings
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    response = signup(client)
    assert response.status_code == 302
    assert "confirm-email" in response["Location"]
    assert not client.get("/").context["user"].is_authenticated
    assert any("newcomer@example.com" in message.to for message in mail.outbox)


def test_the_admin_lists_and_searches_users(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    UserFactory(username="findme")
    client.force_login(staff)
    response = client.get("/admin/community/user/?q=findme")
    assert response.status_code == 200
    assert "findme" in response.content.decode()
    assert response.context["cl"].result_count == 1
    index = client.get("/admin/").content.decode()
    assert "/admin/community/personalapikey/" in index
    assert "/admin/rest_framework_api_key/" not in index


# --- the admin signs in on the same page, under the same limits --------------


@pytest.fixture
def sign_in_limits(settings):
    """allauth's limits on failed sign-ins, on (the test settings turn every
    allauth limit off): three wrong passwords an account, ten an address."""
    cache.clear()
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,3/5m/key"}
    yield
    cache.clear()


def admin_sign_in_page(client) -> str:
    """Where the admin sends someone who is not signed in."""
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200
    return response.redirect_chain[-1][0]


def test_staff_sign_in_to_the_admin_on_the_sites_own_sign_in_page(client):
    """The admin sends staff to the site's sign-in page and back; the sign-in
    is in the audit log like any other."""
    staff = UserFactory(is_staff=True)

    page = admin_sign_in_page(client)

    assert page == "/accounts/login/?next=%2Fadmin%2F"
    response = client.post(page, {"login": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.SIGNED_IN)
    assert entry.actor == staff


def test_the_admins_own_login_form_signs_nobody_in(client):
    """A password posted to /admin/login/ is not checked there: the visitor is
    sent to the site's sign-in page, still signed out."""
    staff = UserFactory(is_staff=True)

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff.username, "password": PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "_auth_user_id" not in client.session
    assert not AuditEntry.objects.filter(action=AuditAction.SIGNED_IN).exists()


def test_wrong_passwords_for_staff_meet_the_same_limit_as_anyones(sign_in_limits):
    """Guessing a staff member's password from the admin's sign-in link is
    stopped after the per-account limit: even the right password is then
    refused, and every failure is in the audit log."""
    staff = UserFactory(is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.9")
    page = admin_sign_in_page(client)

    for attempt in range(3):
        wrong = client.post(
            page, {"login": staff.username, "password": f"guess{attempt}"}
        )
        assert wrong.status_code == 200
        assert "not correct" in str(wrong.context["form"].errors)
    right = client.post(page, {"login": staff.username, "password": PASSWORD})

    assert right.status_code == 200
    assert re.search(
        r"Too many failed sign-in attempts\. Try again in \d+ minutes\.",
        str(right.context["form"].errors),
    ), right.context["form"].errors
    assert "_auth_user_id" not in client.session
    failures = AuditEntry.objects.filter(action=AuditAction.SIGN_IN_FAILED)
    assert failures.count() == 3
    assert {entry.target_label for entry in failures} == {staff.username}
    assert {entry.ip_address for entry in failures} == {"203.0.113.9"}
