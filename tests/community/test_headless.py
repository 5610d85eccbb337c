"""Programs sign up and log in over HTTP (allauth headless) and use the token."""

import pytest

from community.models import User
from tests.community.factories import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = "/_allauth/app/v1/auth/signup"
LOGIN = "/_allauth/app/v1/auth/login"


def test_a_program_signs_up_and_calls_the_api_with_the_session_token(client):
    response = client.post(
        SIGNUP,
        {
            "email": "bot@example.com",
            "username": "bot",
            "password": "a-long-passphrase-77",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    token = response.json()["meta"]["session_token"]
    assert User.objects.filter(username="bot").exists()

    me = client.get("/api/v1/me/", headers={"X-Session-Token": token})
    assert me.status_code == 200
    assert me.json()["username"] == "bot"


def test_headless_signup_with_a_taken_username_is_a_400_with_the_field(client, user):
    response = client.post(
        SIGNUP,
        {
            "email": "other@example.com",
            "username": user.username.upper(),
            "password": "a-long-passphrase-77",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(error.get("param") == "username" for error in errors), errors


def test_a_program_logs_in_and_a_wrong_password_is_a_400(client, user):
    good = client.post(
        LOGIN,
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert good.status_code == 200
    assert good.json()["meta"]["session_token"]

    bad = client.post(
        LOGIN,
        {"username": user.username, "password": "nope-nope-nope"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"]


def test_a_bogus_session_token_is_refused(client):
    response = client.get("/api/v1/me/", headers={"X-Session-Token": "not-a-token"})
    assert response.status_code in (401, 403)
    assert "detail" in response.json()
