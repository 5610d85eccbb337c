"""The API never answers a server error, whatever it is sent.

schemathesis reads the OpenAPI schema the site serves at /api/schema/ and
sends every operation generated requests, valid and invalid (its examples,
coverage and fuzzing phases), in-process to Django's WSGI application, signed
in with a personal API key, or for one case in four with a session cookie and
its CSRF token. Each operation gets its own pytest test, run against the real
test database where the signed-in user already owns an agent, runs, a file, a
collection, a workflow, a webhook tool, a provider key, a conversation, a
comment, a message thread and a notification. Ids in paths, query strings and
bodies are as often as not those objects' (the hooks below), so the code
behind a found object is reached, not only the 404s.

Checks: no 5xx, the declared content type, and for a documented status the
declared response shape.

No generator sends what a hostile client might, so every operation also gets
four bodies by hand: arrays and objects 10,000 deep (a RecursionError for any
recursive parser), each body field a 100,000-element array, each a string of
2 MB in all, and a 5 MB body. The first and last must be refused as JSON
before any view, the others answered below 500.

Seeded and derandomized: the same requests every run. Nothing leaves the
machine: Stripe is answered by tests/billing/fake_stripe.py, model providers
by tests/agents/fake_llm.py, and any other host name fails to resolve, as it
would offline. Runs the fuzzer starts are queued on commit, and the test's
transaction never commits, so no task reaches a broker.

The case count and request time are printed at the end of the session
(tests/config/conftest.py).
"""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from agents.models import Run, RunStatus
from community import services as community_services
from tests.agents.factories import make_agent, make_run
from tests.agents.fake_llm import FakeLLM
from tests.community.factories import UserFactory
from tests.files.factories import add_file

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# Cases of the fuzzing phase per operation, at most (Hypothesis stops sooner
# when an operation has few distinct inputs). The coverage phase adds its
# boundary and malformed cases on top: a handful for an operation without
# parameters, a few hundred for one with a large body. With 250 the run sent
# 35,614 cases over 132 operations in about 9.5 minutes on two cores, half of
# it spent generating; 100 sent 17,676, and what 250 found beyond it (NUL
# characters in two text fields) config.api now refuses for every field, with
# its own test (tests/config/test_api_parsers.py). 25 keeps every operation
# and every coverage case (the boundary and malformed values, most of the
# requests): on the agent operations 50 sent 3,065 cases in 92 s of CPU, 25
# sent 2,340 in 63 s. A deeper run is one variable away:
# API_FUZZ_EXAMPLES=250 make test.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
SEED = 20261122

# What this process sent; under pytest-xdist each worker reports its own to
# the controller, which adds them up (tests/config/conftest.py).
STATS = {"cases": 0, "seconds": 0.0, "operations": set()}
_cases_by_operation: dict[str, int] = {}

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
schema.config.seed = SEED
schema.config.generation.update(
    modes=list(GenerationMode),
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    # No example database: a failure found once must not change later runs.
    database="none",
    # Authentication is the fixture's, not generated.
    with_security_parameters=False,
)


class Known:
    """Ids of the signed-in user's objects, for the operation running now,
    by the name of the path parameter that holds them."""

    ids: dict[str, list] = {}

    # Query and body fields that hold such ids, and the kind they hold.
    FIELDS = {
        "agent": "agent_id",
        "target": "agent_id",
        "workflow": "workflow_id",
        "file": "file_id",
        "collection": "collection_id",
        "conversation_id": "conversation_id",
        "parent": "comment_id",
        "target_id": "target_id",
        "version": "number",
    }

    @classmethod
    def swap(cls, values, names: dict[str, str]):
        """A strategy for ``values`` with each known field kept or replaced
        by one of the user's ids."""
        if not isinstance(values, dict):
            return st.just(values)
        choices = {
            field: st.sampled_from([value, *cls.ids[names[field]]])
            for field, value in values.items()
            if field in names and cls.ids.get(names[field])
        }
        if not choices:
            return st.just(values)
        return st.fixed_dictionaries(choices).map(lambda drawn: {**values, **drawn})


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return Known.swap(path_parameters, {name: name for name in Known.ids})


@schema.hook
def flatmap_query(context, query):
    return Known.swap(query, Known.FIELDS)


@schema.hook
def flatmap_body(context, body):
    return Known.swap(body, Known.FIELDS)


def _offline_getaddrinfo(real):
    """getaddrinfo as on a machine without a network: loopback resolves,
    every other name fails, after the checks the real function makes first."""

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii")
        if host in (None, "localhost", "127.0.0.1", "::1"):
            return real(host, *args, **kwargs)
        if isinstance(host, str):
            if "\x00" in host:
                raise ValueError("embedded null character")
            host.encode("idna")  # UnicodeError for a label too long
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return getaddrinfo


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _offline_getaddrinfo(socket.getaddrinfo))


@pytest.fixture
def in_test_transaction():
    """Requests share the test's connection and transaction, as with Django's
    test client: closing the connection after a request would end both."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fake_models(settings):
    with FakeLLM() as fake:
        settings.OPENAI_BASE_URL = fake.openai_base_url
        yield fake


def _made(response) -> dict:
    assert response.status_code in (200, 201), response.content
    return response.json()


@pytest.fixture
def world(request, db, settings, tmp_path, offline, fake_stripe, api_client):
    """The signed-in user's objects, made through the services and the API
    itself, and the credentials to sign in with."""
    settings.MEDIA_ROOT = tmp_path / "media"
    operation = request.node.name
    if "/payments/" in operation or "/credits/" in operation:
        # Stripe's catalog for the operations that sell; for the others
        # Stripe is faked but empty.
        request.getfixturevalue("stripe_catalog")
    if "/api-keys/" in operation:
        # Testing a provider key lists a provider's models, here a local one.
        request.getfixturevalue("fake_models")

    owner = UserFactory()
    stranger = UserFactory()
    agent = make_agent(owner, name="Fuzz target", visibility="public")
    shared = make_agent(stranger, name="Shared", visibility="public")
    queued = make_run(agent)
    finished = make_run(agent, input="Say hello.")
    Run.objects.filter(pk=finished.pk).update(
        status=RunStatus.COMPLETED, final_output="Hello."
    )
    file = add_file(owner, "notes.md", "# Notes\n\nSome text about fuzzing.")
    community_services.follow_create(follower=stranger, followee=owner)
    notification_ids = list(owner.notifications.values_list("pk", flat=True))

    client = api_client
    client.force_authenticate(owner)
    collection = _made(
        client.post("/api/v1/files/collections/", {"name": "Papers"}, format="json")
    )
    tool = _made(
        client.post(
            "/api/v1/tools/",
            {
                "name": "lookup",
                "description": "Looks things up.",
                "parameters": {"type": "object", "properties": {}},
                "webhook_url": "https://hooks.example.com/lookup",
            },
            format="json",
        )
    )
    graph = {
        "entry": "one",
        "nodes": [{"id": "one", "kind": "agent", "agent": agent.pk}],
        "edges": [],
    }
    workflow = _made(
        client.post(
            "/api/v1/workflows/", {"name": "Pipeline", "graph": graph}, format="json"
        )
    )
    handoff = _made(
        client.post(
            f"/api/v1/agents/{agent.pk}/handoffs/", {"target": shared.pk}, format="json"
        )
    )
    comment = _made(
        client.post(
            f"/api/v1/agents/{agent.pk}/comments/", {"body": "Nice."}, format="json"
        )
    )
    thread = _made(
        client.post(
            "/api/v1/messages/threads/",
            {"to": stranger.username, "body": "Hello"},
            format="json",
        )
    )
    provider_key = _made(
        client.post(
            "/api/v1/users/api-keys/",
            {"provider": "openai", "key": "sk-test"},
            format="json",
        )
    )
    client.force_authenticate(None)
    api_key, secret = community_services.api_key_create(user=owner, name="fuzz")

    browser = Client()
    browser.force_login(owner)
    csrf_token = get_token(RequestFactory().get("/"))

    Known.ids = {
        "agent_id": [agent.pk, shared.pk],
        "run_id": [queued.pk, finished.pk],
        "file_id": [file.pk],
        "collection_id": [collection["id"]],
        "tool_id": [tool["id"]],
        "workflow_id": [workflow["id"]],
        "handoff_id": [handoff["id"]],
        "comment_id": [comment["id"]],
        "thread_id": [thread["id"]],
        "key_id": [provider_key["id"]],
        "conversation_id": [queued.conversation_id, finished.conversation_id],
        "notification_id": notification_ids,
        "prefix": [api_key.prefix],
        "username": [stranger.username, owner.username, "me"],
        "provider_id": ["openai", "local", "compatible"],
        "number": [1],
        "target_id": [agent.pk, shared.pk, comment["id"], stranger.pk],
    }
    yield {
        "api_key": {"headers": {"Authorization": f"Bearer {secret}"}},
        "session": {
            "headers": {"X-CSRFToken": csrf_token},
            "cookies": {
                "sessionid": browser.cookies["sessionid"].value,
                "csrftoken": csrf_token,
            },
        },
    }
    Known.ids = {}


@schema.parametrize()
# The user's objects are made once per operation and shared by its cases:
# what one case changed (a deleted agent) the next sees, as a client would.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_never_answers_a_server_error(case, world, in_test_transaction):
    """Every generated request gets an answer below 500, in the declared
    content type and, for a documented status, in the declared shape."""
    started = time.perf_counter()
    # Every fourth case of an operation with a session: the same cases in
    # every run, whichever worker runs the operation.
    label = case.operation.label
    sent = _cases_by_operation[label] = _cases_by_operation.get(label, 0) + 1
    credentials = world["session"] if sent % 4 == 0 else world["api_key"]
    response = case.call(**credentials)
    STATS["seconds"] += time.perf_counter() - started
    STATS["cases"] += 1
    STATS["operations"].add(label)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


# --- bodies no generator sends ---------------------------------------------------

DEEP = '{"a":[' * 5_000 + "]}" * 5_000
HUGE = json.dumps({"data": "x" * 5 * 1024 * 1024})
WIDE = 100_000  # elements in each field's array
# Repeated multipart fields past Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000)
# are refused whatever their number; more would only cost time to encode.
WIDE_MULTIPART = 2_000
LONG = 2_000_000  # characters of text in all, under the 2.5 MB bodies may have
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


def _fields(operation) -> tuple[str, list[str]]:
    """Multipart or JSON, as the operation's first body is, and that body's
    fields; JSON and one made-up field when it takes none."""
    for body in operation.body:
        schemas = schema.raw_schema["components"]["schemas"]
        fields = list(schemas.get(body.resource_name, {}).get("properties", {}))
        if body.media_type == "multipart/form-data":
            return MULTIPART_CONTENT, fields or ["data"]
        return "application/json", fields or ["data"]
    return "application/json", ["data"]


def _encoded(body, content_type: str) -> str | bytes:
    if isinstance(body, str):
        return body
    if content_type == MULTIPART_CONTENT:
        return encode_multipart(BOUNDARY, body)
    return json.dumps(body)


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS]
)
def test_bodies_too_deep_wide_long_or_large_get_no_server_error(operation, world):
    """Nested too deeply: a 400 saying so. Over 2.5 MB: a 413 saying so.
    Arrays and strings as large as a body may hold: any answer below 500."""
    known = {name: values[0] for name, values in Known.ids.items()}
    path = operation.path.format_map(
        {
            parameter.name: known.get(parameter.name, 1)
            for parameter in operation.path_parameters
        }
    )
    client = Client(headers=world["api_key"]["headers"])
    content_type, fields = _fields(operation)
    wide = WIDE_MULTIPART if content_type == MULTIPART_CONTENT else WIDE
    cases = [
        (DEEP, "application/json", 400, "nested too deeply"),
        (HUGE, "application/json", 413, "too large"),
        ({field: [0] * wide for field in fields}, content_type, None, ""),
        (
            {field: "x" * (LONG // len(fields)) for field in fields},
            content_type,
            None,
            "",
        ),
    ]
    for body, sent_as, status, words in cases:
        started = time.perf_counter()
        response = client.generic(
            operation.method.upper(),
            path,
            _encoded(body, sent_as),
            content_type=sent_as,
        )
        STATS["seconds"] += time.perf_counter() - started
        STATS["cases"] += 1
        assert response.status_code < 500, response.content[:500]
        if status is not None:
            assert response.status_code == status, response.content[:500]
            assert words in response.json()["detail"]
    STATS["operations"].add(operation.label)
