"""A request body nested too deeply for Python's JSON parser, or too large to
hold in memory, is a JSON 400 or 413 before any view sees it: the API's,
allauth's headless sign-in and sign-up, dj-stripe's webhook. It was a
RecursionError (500) wherever the body was parsed, whatever its content
type, and a large body an HTML page."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from config.jsoninput import MAX_DEPTH, too_deep
from files.models import File
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

DEEP_ARRAY = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
TOO_DEEP = (
    f"The request body is nested too deeply: at most {MAX_DEPTH} levels of arrays"
    " and objects."
)
FIVE_MB = json.dumps({"name": "x" * 5 * 1024 * 1024})


def nested(levels: int) -> str:
    """A JSON array ``levels`` deep, with brackets and quotes in strings on
    the way, which do not nest."""
    return '["[{\\"]", ' * (levels - 1) + "[]" + "]" * (levels - 1)


def deep_body_refused(response) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": TOO_DEEP}


# --- the scanner ------------------------------------------------------------


def test_it_counts_nesting_exactly_and_ignores_brackets_in_strings():
    assert json.loads(nested(MAX_DEPTH))
    assert not too_deep(nested(MAX_DEPTH))
    assert too_deep(nested(MAX_DEPTH + 1))
    assert not too_deep(nested(MAX_DEPTH).encode())
    assert too_deep(nested(MAX_DEPTH + 1).encode())
    # Wide is not deep.
    assert not too_deep(json.dumps([[[]]] * 10_000))
    assert not too_deep(json.dumps({"text": "[{" * 10_000}))
    assert too_deep(DEEP_OBJECT)


# --- allauth's headless API: before anyone signs in ---------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/_allauth/browser/v1/auth/login",
        "/_allauth/app/v1/auth/login",
        "/_allauth/browser/v1/auth/signup",
        "/_allauth/app/v1/auth/signup",
    ],
)
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_a_deeply_nested_body_to_headless_sign_in_or_up_is_a_400(path, body):
    deep_body_refused(Client().post(path, body, content_type="application/json"))


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data"],
)
def test_it_is_refused_whatever_content_type_it_claims(content_type):
    """allauth parses any body as JSON, whatever its content type says."""
    response = Client().post(
        "/_allauth/app/v1/auth/login", DEEP_ARRAY, content_type=content_type
    )
    deep_body_refused(response)


def test_a_headless_sign_in_with_an_ordinary_body_still_works(user):
    response = Client().post(
        "/_allauth/app/v1/auth/login",
        {"username": user.username, "password": "wrong-password-1"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]


# --- the API --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/agents/"),
        ("patch", "/api/v1/agents/{agent}/"),
        ("post", "/api/v1/agents/{agent}/run/"),
        ("post", "/api/v1/workflows/"),
        ("post", "/api/v1/workflows/validate/"),
        ("post", "/api/v1/files/collections/"),
    ],
)
def test_a_deeply_nested_body_to_the_api_is_a_400(as_user, method, path):
    user = UserFactory()
    agent = make_agent(user)
    client = as_user(user)
    response = getattr(client, method)(
        path.format(agent=agent.pk), DEEP_OBJECT, content_type="application/json"
    )
    deep_body_refused(response)


def test_a_body_as_deep_as_allowed_reaches_the_view(as_user):
    """A tool's parameter schema nested to the limit is saved: nothing the
    site takes comes near it."""
    schema: dict = {"type": "string"}
    # The body holds the schema two levels down; each level here is two deep.
    for _ in range((MAX_DEPTH - 2) // 2 - 1):
        schema = {"type": "object", "properties": {"a": schema}}
    body = {
        "name": "lookup",
        "description": "Looks things up.",
        "parameters": {"type": "object", "properties": {"a": schema}},
        "webhook_url": "https://hooks.example.com/lookup",
    }
    assert not too_deep(json.dumps(body))
    assert too_deep(json.dumps(body), MAX_DEPTH - 1)
    response = as_user(UserFactory()).post("/api/v1/tools/", body, format="json")
    assert response.status_code == 201, response.content


# --- Stripe's webhook -----------------------------------------------------------


def test_a_deeply_nested_body_to_the_stripe_webhook_is_a_400(webhook_endpoint):
    url = reverse(
        "djstripe:djstripe_webhook_by_uuid",
        kwargs={"uuid": webhook_endpoint.djstripe_uuid},
    )
    response = Client().post(
        url,
        DEEP_OBJECT,
        content_type="application/json",
        headers={"Stripe-Signature": "t=1,v1=0"},
    )
    deep_body_refused(response)


# --- bodies too large -------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/agents/", "/_allauth/app/v1/auth/signup", "stripe"],
)
def test_a_5_mb_json_body_is_a_json_413(settings, webhook_endpoint, path, debug):
    settings.DEBUG = debug
    if path == "stripe":
        path = reverse(
            "djstripe:djstripe_webhook_by_uuid",
            kwargs={"uuid": webhook_endpoint.djstripe_uuid},
        )
    client = Client()
    client.force_login(UserFactory())
    response = client.post(
        path,
        FIVE_MB,
        content_type="application/json",
        headers={"Stripe-Signature": "t=1,v1=0"},
    )
    assert response.status_code == 413, response.content[:200]
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is too large: at most 2.5 MB. "
        "Files go in a multipart upload."
    }


def test_uploads_larger_than_a_json_body_may_be_are_still_taken(as_user):
    """Not a regression test: multipart uploads keep their own limit
    (FILES_MAX_UPLOAD_MB), above the one for bodies read whole."""
    text = ("A line of notes about the upload limit.\n" * 80_000).encode()
    assert len(text) > 3 * 1024 * 1024
    response = as_user(UserFactory()).post(
        "/api/v1/files/upload/",
        {"file": SimpleUploadedFile("notes.txt", text)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert File.objects.get().size == len(text)
