"""Prometheus metrics at /metrics: only for a scraper with the token or from an
allowed network, and true to what happened, across processes."""

from __future__ import annotations

import json
import os

import httpx
import pytest
from djstripe.models import WebhookEventTrigger
from prometheus_client.parser import text_string_to_metric_families

from agents.models import Run, RunStatus
from billing import services as billing_services
from billing.models import EntryKind
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory
from tests.worker import WebProcess, free_port, wait_for

TOKEN = "scrape-me-0123456789"


def samples(body: str) -> dict[tuple, float]:
    """{(sample name, sorted label items): value} of a /metrics page."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return TOKEN


def test_it_hides_the_metrics_from_everyone_else(client, token, admin_user):
    """Without the token (or with a wrong one), even staff get a 404."""
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    client.force_login(admin_user)
    assert client.get("/metrics").status_code == 404


def test_it_is_off_when_neither_a_token_nor_a_network_is_set(client, settings, db):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_an_allowed_network_reads_the_metrics_without_a_token(client, settings, db):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.5").status_code == 404
    # A forwarded header is not the connection's address.
    spoofed = client.get(
        "/metrics", REMOTE_ADDR="192.168.1.5", HTTP_X_FORWARDED_FOR="10.1.2.3"
    )
    assert spoofed.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_it_reports_runs_credits_webhooks_and_requests(client, token, monkeypatch):
    """The database metrics count what is there; the request metrics count
    the requests this process served."""
    from agents import tasks

    monkeypatch.setattr(tasks.run_execute_task, "delay", lambda run_id: None)
    user = UserFactory(credits=0)
    agent = make_agent(user)
    billing_services.credit_add(
        user=user, amount=1_000_000, kind=EntryKind.GRANT, key="metrics:grant"
    )
    runs = [make_run(agent, input=f"Question {n}") for n in range(3)]
    Run.objects.filter(pk=runs[0].pk).update(status=RunStatus.COMPLETED)
    Run.objects.filter(pk=runs[1].pk).update(status=RunStatus.FAILED)
    billing_services.credit_add(
        user=user, amount=5_500, kind=EntryKind.PURCHASE, key="metrics:purchase"
    )
    billing_services.run_charge(run=runs[0], amount=1_250, key="metrics:charge")
    for valid, processed in ((True, True), (True, False), (False, False)):
        WebhookEventTrigger.objects.create(
            remote_ip="127.0.0.1",
            headers={},
            body="{}",
            valid=valid,
            processed=processed,
        )
    client.get("/health")

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    assert found[("agentry_runs", (("status", "completed"),))] == 1
    assert found[("agentry_runs", (("status", "failed"),))] == 1
    assert found[("agentry_runs", (("status", "queued"),))] == 1
    assert found[("agentry_runs", (("status", "running"),))] == 0
    assert found[("agentry_credits_sold_total", ())] == 5.5
    assert found[("agentry_credits_spent_total", ())] == 1.25
    for outcome, count in (("processed", 1), ("failed", 1), ("invalid", 1)):
        assert found[("agentry_stripe_webhooks_total", (("outcome", outcome),))] == (
            count
        )
    assert found[("agentry_queue_messages", (("queue", "celery"),))] >= 0
    health = (
        "django_http_requests_total_by_view_transport_method_total",
        (("method", "GET"), ("transport", "http"), ("view", "health")),
    )
    assert found[health] >= 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_is_followed_from_web_to_worker_to_websocket_under_one_request_id(
    start_worker, test_database_url, tmp_path
):
    """One web process and one worker sharing a metrics directory, as on one
    node: a run started with X-Request-ID is logged by both under that id, its
    live steps carry it to the websocket, and /metrics on the web process
    counts the request, the run and the worker's timed steps."""
    import asyncio

    from websockets.asyncio.client import connect

    from community.services import api_key_create

    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": TOKEN,
    }
    redis_url = os.environ.get("REDIS_URL", "")
    web = WebProcess(
        port=free_port(),
        database_url=test_database_url,
        redis_url=redis_url,
        log_path=tmp_path / "web.log",
        env=env,
    ).start()
    try:
        user = UserFactory()
        agent = make_agent(user)
        _, secret = api_key_create(user=user, name="trace")
        headers = {"Authorization": f"Bearer {secret}", "X-Request-ID": "trace-me-42"}
        response = httpx.post(
            f"{web.url}/api/v1/agents/{agent.pk}/run/",
            json={"input": "What is 2 + 3?"},
            headers=headers,
            timeout=30,
        )
        assert response.status_code == 202, response.text
        run_id = response.json()["id"]

        async def watch() -> list[dict]:
            url = web.url.replace("http://", "ws://") + f"/ws/runs/{run_id}/"
            events = []
            async with connect(url, additional_headers=headers) as socket:
                while not (
                    events
                    and events[-1]["event"] == "status"
                    and events[-1]["status"] in ("completed", "failed")
                ):
                    events.append(json.loads(await asyncio.wait_for(socket.recv(), 60)))
            return events

        async def watch_while_the_worker_runs() -> list[dict]:
            watching = asyncio.create_task(watch())
            await asyncio.sleep(1)  # connected before the worker starts
            await asyncio.to_thread(start_worker, redis_url, env=env)
            return await watching

        events = asyncio.run(watch_while_the_worker_runs())
        assert events[-1]["status"] == "completed"
        live = [event for event in events[1:] if event["event"] == "step"]
        assert live, events
        assert {event.get("request_id") for event in [*live, events[-1]]} == {
            "trace-me-42"
        }, events

        def lines(path) -> list[dict]:
            return [
                json.loads(line)
                for line in path.read_text().splitlines()
                if line.startswith("{")
            ]

        worker_log = tmp_path / "worker-0.log"
        ended = [
            line
            for line in lines(worker_log)
            if line.get("message", "").startswith(f"Run {run_id} ")
        ]
        assert ended
        assert ended[0]["request_id"] == "trace-me-42"

        def scrape() -> dict:
            page = httpx.get(
                f"{web.url}/metrics",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=30,
            )
            assert page.status_code == 200
            return samples(page.text)

        timed = ("agentry_step_latency_seconds_count", (("type", "agent-response"),))
        found = wait_for(lambda: (page := scrape()).get(timed) and page, timeout=10)
        assert found, scrape()
        assert found[("agentry_runs", (("status", "completed"),))] == 1
        posts = [
            value
            for (name, labels), value in found.items()
            if name == "django_http_requests_total_by_view_transport_method_total"
            and ("method", "POST") in labels
        ]
        assert sum(posts) >= 1
    finally:
        web.discard()
