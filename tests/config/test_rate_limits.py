"""Rate limits on run starts and uploads: per person, per API key apart,
429 with Retry-After on the API and on the pages, nothing started past it."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.models import Run
from community.services import api_key_create
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
    assert page["Retry-After"]
    assert b"Too many runs started" in page.content
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
