"""The REST API's authentication and personal API keys (/api/v1/tokens/)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from community import services
from community.models import PersonalApiKey
from tests.agents.factories import make_agent
from tests.api_schema import assert_documented
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_the_api_refuses_requests_without_credentials(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_member_creates_a_key_sees_it_once_and_uses_it(api_client, user):
    api_client.force_authenticate(user)
    created = api_client.post("/api/v1/tokens/", {"name": "ci"}, format="json")
    assert created.status_code == 201
    secret = created.json()["key"]
    assert secret.startswith(created.json()["id"] + ".")

    listed = api_client.get("/api/v1/tokens/").json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0]
    stored = PersonalApiKey.objects.get()
    assert secret not in (stored.hashed_key, stored.id)

    api_client.force_authenticate(None)
    me = api_client.get("/api/v1/me/", **bearer(secret))
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_a_revoked_key_stops_working(api_client, user):
    api_key, secret = services.api_key_create(user=user, name="old laptop")
    api_client.force_authenticate(user)
    assert api_client.delete(f"/api/v1/tokens/{api_key.prefix}/").status_code == 204
    api_client.force_authenticate(None)

    response = api_client.get("/api/v1/me/", **bearer(secret))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_an_expired_key_stops_working(api_client, user):
    api_key, secret = services.api_key_create(
        user=user, name="short-lived", expires_at=timezone.now() + timedelta(hours=1)
    )
    PersonalApiKey.objects.filter(pk=api_key.pk).update(
        expiry_date=timezone.now() - timedelta(seconds=1)
    )
    assert api_client.get("/api/v1/me/", **bearer(secret)).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer nothing-like-a-key", "Bearer abc.def"],
)
def test_malformed_or_unknown_keys_get_a_401_not_a_500(api_client, header):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_key_with_a_right_prefix_but_wrong_secret_is_refused(api_client, user):
    api_key, _secret = services.api_key_create(user=user, name="ci")
    forged = f"{api_key.prefix}.{'x' * 32}"
    assert api_client.get("/api/v1/me/", **bearer(forged)).status_code == 401


def test_nobody_can_see_or_revoke_another_members_key(api_client, user):
    api_key, _ = services.api_key_create(user=user, name="mine")
    api_client.force_authenticate(UserFactory())
    assert api_client.get(f"/api/v1/tokens/{api_key.prefix}/").status_code == 404
    assert api_client.delete(f"/api/v1/tokens/{api_key.prefix}/").status_code == 404
    assert api_client.get("/api/v1/tokens/").json()["count"] == 0
    api_key.refresh_from_db()
    assert not api_key.revoked


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "ci", "expires_at": "yesterday"}, "expires_at"),
        ({"name": "ci", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_bad_key_input_is_a_400_with_the_field_and_writes_nothing(
    api_client, user, payload, field
):
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/tokens/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not PersonalApiKey.objects.exists()


def test_a_malformed_json_body_is_a_400_with_a_message(api_client, user):
    api_client.force_authenticate(user)
    response = api_client.post(
        "/api/v1/tokens/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_session_authenticated_writes_need_the_csrf_token(user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/tokens/", {"name": "ci"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_key_lists_are_paginated(api_client, user):
    for number in range(3):
        services.api_key_create(user=user, name=f"key {number}")
    api_client.force_authenticate(user)
    page = api_client.get("/api/v1/tokens/?page_size=2").json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]


def test_unknown_api_paths_answer_json_404(api_client):
    response = api_client.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_openapi_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/tokens/" in paths
    assert "apiKey" in schema.json()["components"]["securitySchemes"]

    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # The Swagger UI comes from the vendored sidecar, not a CDN.
    assert "cdn" not in docs.content.decode().lower()


def test_the_api_key_page_creates_and_revokes_keys(signed_in_client, user):
    page = signed_in_client.get("/settings/api-keys/")
    assert page.status_code == 200

    created = signed_in_client.post(
        "/settings/api-keys/new/", {"name": "laptop"}, HTTP_HX_REQUEST="true"
    )
    assert created.status_code == 200
    api_key = PersonalApiKey.objects.get(user=user)
    assert created.context["new_key"].startswith(api_key.prefix + ".")

    revoked = signed_in_client.post(
        f"/settings/api-keys/{api_key.prefix}/revoke/", HTTP_HX_REQUEST="true"
    )
    assert revoked.status_code == 200
    api_key.refresh_from_db()
    assert api_key.revoked


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "ci", "expires_at": "2001-01-01"}, "expires_at"),
        ({"name": "ci", "expires_at": "not a date"}, "expires_at"),
    ],
)
def test_the_api_key_page_shows_errors_for_bad_input(signed_in_client, data, field):
    response = signed_in_client.post("/settings/api-keys/new/", data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not PersonalApiKey.objects.exists()


def test_the_api_key_page_needs_a_signed_in_member(client):
    response = client.get("/settings/api-keys/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_an_agents_comments_are_answered_as_a_documented_page(as_user, user):
    """Comments come as a page of threads, as documented (the schema said
    one thread; found by tests/config/test_api_fuzz.py)."""
    agent = make_agent(UserFactory(), visibility="public")
    client = as_user(user)
    url = f"/api/v1/agents/{agent.pk}/comments/"
    assert client.post(url, {"body": "Useful."}, format="json").status_code == 201
    response = client.get(url)
    assert response.json()["results"][0]["body"] == "Useful."
    assert_documented(
        response, method="get", path="/api/v1/agents/{agent_id}/comments/"
    )


def test_an_agents_ratings_are_answered_as_a_documented_page(as_user, user):
    """Ratings come as a page with the average and the distribution, as
    documented (the schema said one rating)."""
    agent = make_agent(UserFactory(), visibility="public")
    client = as_user(user)
    url = f"/api/v1/agents/{agent.pk}/ratings/"
    assert client.post(url, {"stars": 4}, format="json").status_code == 201
    response = client.get(url)
    assert response.json()["average"] == 4
    assert_documented(response, method="get", path="/api/v1/agents/{agent_id}/ratings/")


def test_my_reports_are_answered_as_a_documented_page(as_user, user):
    """Reports come as a page, and a report not yet acted on has a blank
    action, as documented (the schema said one report, with an action)."""
    agent = make_agent(UserFactory(), visibility="public")
    client = as_user(user)
    made = client.post(
        "/api/v1/reports/",
        {"target_type": "agent", "target_id": agent.pk, "reason": "spam"},
        format="json",
    )
    assert made.status_code == 201
    assert_documented(made, method="post", path="/api/v1/reports/")
    response = client.get("/api/v1/reports/")
    assert response.json()["results"][0]["action"] == ""
    assert_documented(response, method="get", path="/api/v1/reports/")
