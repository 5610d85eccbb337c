"""Rate limits on run starts and uploads: per person, per API key apart,
429 with Retry-After on the API and on the pages, nothing started past it."""

from __future__ import annotations

import re
import time

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from agents.models import Run
from community.services import api_key_create
from config.throttles import wait_in_words
from files.models import File
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    cache.clear()
    settings.RATE_LIMITS = {"run_start": "2/min", "upload": "1/min"}
    yield settings.RATE_LIMITS
    cache.clear()


def assert_says_how_long(page) -> int:
    """A 429 page says, in words, the wait its Retry-After gives in seconds."""
    seconds = int(page["Retry-After"])
    assert seconds >= 1
    text = re.sub(r"\s+", " ", page.content.decode())
    assert f"Try again in {wait_in_words(seconds)}." in text, text
    assert "Expected available" not in text  # the wait said once
    return seconds


def start(client, agent):
    return client.post(
        f"/api/v1/agents/{agent.pk}/run/", {"input": "Hello"}, format="json"
    )


def test_run_starts_past_the_limit_get_429_with_retry_after(as_user, limits):
    user = UserFactory(credits=50)
    agent = make_agent(user)
    client = as_user(user)
    assert [start(client, agent).status_code for _ in range(2)] == [202, 202]
    refused = start(client, agent)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many runs started: at most 2/min" in refused.json()["detail"]
    assert Run.objects.count() == 2
    # Someone else has their own allowance.
    other = UserFactory(credits=50)
    assert start(as_user(other), make_agent(other)).status_code == 202


def test_each_api_key_has_its_own_allowance(client, limits):
    user = UserFactory(credits=200)
    agent = make_agent(user)
    keys = [api_key_create(user=user, name=f"k{n}")[1] for n in range(2)]

    def start_with(secret):
        return client.post(
            f"/api/v1/agents/{agent.pk}/run/",
            {"input": "Hello"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )

    assert [start_with(keys[0]).status_code for _ in range(3)] == [202, 202, 429]
    assert start_with(keys[1]).status_code == 202


def test_workflow_runs_and_pages_share_the_limit(client, limits):
    from workflows.services import workflow_create

    user = UserFactory(credits=50)
    agent = make_agent(user)
    flow = workflow_create(
        owner=user,
        data={
            "name": "One",
            "graph": {
                "entry": "a",
                "nodes": [{"id": "a", "kind": "agent", "agent": agent.pk}],
            },
        },
    )
    client.force_login(user)
    assert client.post(f"/agents/{agent.pk}/run/", {"input": "One"}).status_code in (
        200,
        302,
    )
    assert client.post(f"/workflows/{flow.pk}/run/", {"input": "Two"}).status_code == (
        302
    )
    page = client.post(f"/workflows/{flow.pk}/run/", {"input": "Three"})
    assert page.status_code == 429
    assert b"Too many runs started" in page.content
    assert_says_how_long(page)
    assert Run.objects.count() == 2


def test_uploads_are_limited_too(as_user, limits):
    user = UserFactory()
    client = as_user(user)

    def upload(name):
        return client.post(
            "/api/v1/files/upload/",
            {"file": SimpleUploadedFile(name, b"Tides follow the moon.\n")},
            format="multipart",
        )

    assert upload("a.txt").status_code == 201
    refused = upload("b.txt")
    assert refused.status_code == 429
    assert "Too many files uploaded" in refused.json()["detail"]
    assert File.objects.count() == 1


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (40, "40 seconds"),
        (99, "99 seconds"),
        (100, "2 minutes"),
        (3000, "50 minutes"),
        (5941, "100 minutes"),
        (7200, "2 hours"),
    ],
)
def test_a_wait_is_told_in_words_never_shorter_than_it_is(seconds, words):
    assert wait_in_words(seconds) == words


# --- allauth's own limits: sign-up, sign-in -----------------------------------


@pytest.fixture
def account_limits(settings):
    cache.clear()
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/m/ip", "login": "2/m/ip"}
    yield
    cache.clear()


@pytest.mark.parametrize("page", ["/accounts/signup/", "/accounts/login/"])
def test_sign_up_and_sign_in_past_their_limit_say_how_long_to_wait(
    account_limits, page
):
    """allauth's 429 is the site's page: how long to wait, in words and in
    Retry-After, no longer than allauth's window."""
    client = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(2):
        assert client.post(page, {}).status_code == 200
    refused = client.post(page, {})
    assert refused.status_code == 429
    assert assert_says_how_long(refused) <= 60
    # Another address has its own allowance.
    assert Client(REMOTE_ADDR="198.51.100.21").post(page, {}).status_code == 200


@pytest.mark.parametrize(
    "path", ["/_allauth/app/v1/auth/signup", "/_allauth/browser/v1/auth/login"]
)
def test_the_headless_api_past_its_limit_says_how_long_in_retry_after(
    account_limits, path
):
    """allauth's headless API answers its own JSON 429; programs still learn
    the wait from Retry-After."""
    client = Client(REMOTE_ADDR="198.51.100.25")
    for _ in range(2):
        assert client.post(path, {}, content_type="application/json").status_code != 429
    refused = client.post(path, {}, content_type="application/json")
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json")
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_the_wait_is_until_the_oldest_counted_attempt_leaves_the_window(
    account_limits,
):
    """With two sign-ups counted 50 and 10 seconds ago against 2 a minute,
    the next is allowed in 10 seconds, not a whole minute."""
    client = Client(REMOTE_ADDR="198.51.100.30")
    request = client.get("/accounts/signup/").wsgi_request
    rate = allauth_ratelimit.parse_rate("2/m/ip")
    key = allauth_ratelimit.get_cache_key(
        request, app="allauth.account", action="signup", rate=rate
    )
    now = time.time()
    cache.set(key, [now - 10, now - 50], 60)

    refused = client.post("/accounts/signup/", {})

    assert refused.status_code == 429
    assert 9 <= assert_says_how_long(refused) <= 10
