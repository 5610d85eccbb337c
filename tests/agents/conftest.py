import pytest


@pytest.fixture
def as_user(api_client):
    """The API client, authenticated as the given user (re-call to switch)."""

    def sign_in(user):
        api_client.force_authenticate(user)
        return api_client

    return sign_in
