"""Sign-in methods the site does not use (social providers without keys, phone
numbers) answer like any other missing page or bad input, never with a 500.

Found by tests/config/test_authorization_matrix.py.
"""

import pytest

from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

PROVIDER_PAGES = [
    "/accounts/github/login/",
    "/accounts/github/login/callback/",
    "/accounts/google/login/",
    "/accounts/google/login/callback/",
    "/accounts/google/login/token/",
]


@pytest.mark.parametrize("url", PROVIDER_PAGES)
def test_it_answers_404_for_a_provider_without_keys(client, settings, url):
    """With no keys set for GitHub or Google, their login and callback pages
    do not exist as far as visitors can tell."""
    settings.SOCIALACCOUNT_PROVIDERS = {}

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


def test_it_still_lets_the_headless_api_refuse_a_provider_without_keys(
    client, settings
):
    """allauth's headless API expects SocialApp.DoesNotExist for a provider
    without keys, and still answers with a 400 naming the field."""
    settings.SOCIALACCOUNT_PROVIDERS = {}

    response = client.post(
        "/_allauth/browser/v1/auth/provider/token",
        {
            "provider": "google",
            "process": "login",
            "token": {"client_id": "unknown", "id_token": "not-a-token"},
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert [error["param"] for error in response.json()["errors"]] == ["token"]


def test_it_lists_no_phone_numbers(client):
    """The headless API's phone page lists none instead of failing."""
    client.force_login(UserFactory())

    response = client.get("/_allauth/browser/v1/account/phone")

    assert response.status_code == 200
    assert response.json()["data"] == []


def test_it_refuses_to_add_a_phone_number_with_a_field_error(client):
    """Adding a phone number is a 400 on the phone field, not a 500."""
    client.force_login(UserFactory())

    response = client.post(
        "/_allauth/browser/v1/account/phone",
        {"phone": "+14155550123"},
        content_type="application/json",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["param"] for error in errors] == ["phone"]
    assert "not used" in errors[0]["message"]
