"""GET /health reports each part of the stack and names the one that is down."""

import time

import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.test import Client

from config import heartbeat
from tests.community.factories import UserFactory
from tests.worker import wait_for


@pytest.fixture
def worker_heartbeat():
    """Record heartbeats as a worker would; every one is forgotten afterwards."""
    hostnames = set()

    def beat(hostname: str = "celery@alive", now: float | None = None) -> None:
        hostnames.add(hostname)
        heartbeat.beat(hostname, now=now)

    yield beat
    for hostname in hostnames:
        heartbeat.forget(hostname)


def get_health(client):
    response = client.get("/health")
    return response.status_code, response.json()


@pytest.mark.worker
def test_it_is_green_with_a_live_worker_and_names_the_worker_once_it_is_gone(
    client, start_worker, transactional_db
):
    worker = start_worker()
    assert wait_for(lambda: worker.hostname in heartbeat.live_workers())

    status, body = get_health(client)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["database"]["pgvector"]
    assert worker.hostname in body["checks"]["worker"]["workers"]

    assert worker.stop(), "the worker did not finish a warm shutdown in 60 s"
    status, body = get_health(client)
    assert status == 503
    assert body["failing"] == ["worker"]
    assert body["checks"]["worker"]["error"] == "no live Celery worker"


def test_a_worker_that_stopped_beating_counts_as_gone(client, db, worker_heartbeat):
    """A killed worker cannot say goodbye; its last heartbeat ages out."""
    worker_heartbeat("celery@killed")
    status, _ = get_health(client)
    assert status == 200

    worker_heartbeat(
        "celery@killed", now=time.time() - heartbeat.stale_after_seconds() - 1
    )
    status, body = get_health(client)
    assert status == 503
    assert body["failing"] == ["worker"]


def test_it_names_the_channel_layer_when_that_is_down(client, db, worker_heartbeat):
    worker_heartbeat()
    original = settings.CHANNEL_LAYERS
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Nothing listens on port 1.
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        status, body = get_health(client)
    finally:
        settings.CHANNEL_LAYERS = original
        channel_layers.backends.clear()
    assert status == 503
    assert body["failing"] == ["channel_layer"]
    assert "error" in body["checks"]["channel_layer"]


def test_it_names_the_broker_when_that_is_down(
    client, db, monkeypatch, worker_heartbeat
):
    from config.celery import app

    worker_heartbeat()
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    status, body = get_health(client)
    assert status == 503
    assert body["failing"] == ["broker"]


PARTS = ("database", "channel_layer", "broker", "worker")


def test_anyone_else_learns_only_which_parts_are_up(db, worker_heartbeat):
    """From another machine, signed out and without the metrics token,
    /health says ok or not for each part: no versions, host names or errors."""
    stranger = Client(REMOTE_ADDR="203.0.113.50")
    worker_heartbeat("celery@worker-host-7")

    response = stranger.get("/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "failing": [],
        "checks": {part: {"ok": True} for part in PARTS},
    }

    worker_heartbeat(
        "celery@worker-host-7", now=time.time() - heartbeat.stale_after_seconds() - 1
    )
    response = stranger.get("/health")

    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert response.json()["checks"]["worker"] == {"ok": False}


@pytest.mark.parametrize(
    "caller", ["staff", "metrics token", "metrics network", "this machine"]
)
def test_only_staff_scrapers_and_this_machine_get_the_details(
    db, worker_heartbeat, settings, caller
):
    """Staff, a caller with the metrics token or from METRICS_ALLOWED_NETWORKS,
    and this machine itself see versions and the workers' host names; the
    same request without that standing sees none."""
    settings.METRICS_TOKEN = "scrape-me"
    settings.METRICS_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    worker_heartbeat("celery@worker-host-7")
    address = {"metrics network": "192.0.2.8", "this machine": "127.0.0.1"}
    client = Client(REMOTE_ADDR=address.get(caller, "203.0.113.50"))
    headers = {}
    if caller == "staff":
        client.force_login(UserFactory(is_staff=True))
    if caller == "metrics token":
        headers["Authorization"] = "Bearer scrape-me"

    body = client.get("/health", headers=headers).json()

    assert body["checks"]["database"]["postgres"]
    assert "celery@worker-host-7" in body["checks"]["worker"]["workers"]
    headers["Authorization"] = "Bearer not-it"
    outsider = Client(REMOTE_ADDR="203.0.113.50").get("/health", headers=headers)
    assert outsider.json()["checks"]["worker"] == {"ok": True}
