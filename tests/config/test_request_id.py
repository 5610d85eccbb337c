"""A request id per request: answered in X-Request-ID (the caller's, if
sane), on every log line, and carried into the Celery tasks the request
enqueues, so a worker's lines about a run share the id of the POST that
started it."""

from __future__ import annotations

import logging

import pytest

from config import requestid
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from tests.worker import wait_for


def test_each_response_names_its_request(client, db):
    first = client.get("/health")["X-Request-ID"]
    second = client.get("/health")["X-Request-ID"]
    assert len(first) == 32
    assert first != second
    given = client.get("/health", HTTP_X_REQUEST_ID="trace-42")
    assert given["X-Request-ID"] == "trace-42"
    odd = client.get("/health", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert odd["X-Request-ID"] != "bad id\nwith newline"


def test_log_records_carry_the_request_id():
    record = logging.LogRecord("agents", logging.INFO, __file__, 1, "x", (), None)
    requestid.RequestIdFilter().filter(record)
    assert record.request_id == "-"
    token = requestid._current.set("abc")
    try:
        requestid.RequestIdFilter().filter(record)
    finally:
        requestid._current.reset(token)
    assert record.request_id == "abc"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_started_by_a_request_is_logged_by_the_worker_under_its_id(
    start_worker, client
):
    worker = start_worker()
    user = UserFactory(credits=10)
    agent = make_agent(user)
    client.force_login(user)
    response = client.post(
        f"/api/v1/agents/{agent.pk}/run/",
        {"input": "What is 2 + 3?"},
        content_type="application/json",
        HTTP_X_REQUEST_ID="trace-run-7",
    )
    assert response.status_code == 202
    run_id = response.json()["id"]
    line = f"[trace-run-7] Run {run_id} of agent {agent.pk} ended completed"
    assert wait_for(lambda: line in worker.output(), 60), worker.output()
