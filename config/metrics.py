"""Prometheus metrics at /metrics: what each process measured, and the site's
state read from the database at scrape time.

Two kinds, because the site runs as several processes on several nodes:

* Process metrics (HTTP request latency from django-prometheus' middleware,
  step latency and file ingestion in the workers) live in each process. With
  PROMETHEUS_MULTIPROC_DIR set (the same directory for every process of a
  node), /metrics on any web process of that node adds them all up.
* Database metrics (runs by status, credits sold and spent, Stripe webhook
  outcomes, files by status, queue depth, live workers) are the same from any
  web process, as they are read from PostgreSQL, the broker and the cache.

/metrics answers only a scraper that sends ``Authorization: Bearer
<METRICS_TOKEN>`` or connects from METRICS_ALLOWED_NETWORKS; anyone else gets
a 404, as if there were nothing there.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from kombu.exceptions import ChannelError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

STEP_LATENCY = Histogram(
    "agentry_step_latency_seconds",
    "How long each timed step of a run took (a model turn, a tool call).",
    ["type"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
FILES_INGESTED = Counter(
    "agentry_files_ingested",
    "Files whose ingestion ended, by outcome (ready or failed).",
    ["outcome"],
)
CHUNKS_EMBEDDED = Counter(
    "agentry_file_chunks_embedded",
    "Chunks extracted, embedded and stored by file ingestion.",
)


def observe_step(step_type: str, latency_ms: int | None) -> None:
    if latency_ms is not None:
        STEP_LATENCY.labels(type=step_type).observe(latency_ms / 1000)


def observe_ingestion(*, ready: bool, chunks: int) -> None:
    FILES_INGESTED.labels(outcome="ready" if ready else "failed").inc()
    if ready:
        CHUNKS_EMBEDDED.inc(chunks)


# What each app reports of its own state when Prometheus scrapes (runs by
# status, credits, Stripe webhooks, files): config sits below the apps, so
# they register these in their AppConfig.ready() (state_metrics_register).
_STATE_METRICS: list[Callable[[], Iterable[Metric]]] = []


def state_metrics_register(provider: Callable[[], Iterable[Metric]]) -> None:
    """Add ``provider`` (yielding metric families read at scrape time)."""
    if provider not in _STATE_METRICS:
        _STATE_METRICS.append(provider)


class DatabaseCollector:
    """The site's state, read when Prometheus scrapes."""

    def collect(self):
        for provider in list(_STATE_METRICS):
            yield from provider()
        yield from self._queues()
        yield from self._workers()

    def _queues(self):
        from config.celery import app

        family = GaugeMetricFamily(
            "agentry_queue_messages",
            "Messages waiting in each Celery queue.",
            labels=["queue"],
        )
        try:
            with app.connection_for_read() as connection:
                channel = connection.default_channel
                for queue in ("celery", settings.FILES_QUEUE):
                    try:
                        declared = channel.queue_declare(queue=queue, passive=True)
                    except ChannelError:
                        # Not declared yet (no worker or task has used it):
                        # it holds nothing.
                        family.add_metric([queue], 0)
                        continue
                    family.add_metric([queue], declared.message_count)
        except Exception:
            # A broker outage must not take /metrics down with it: the
            # queue gauge is missing, which is what an alert can look for.
            logger.exception("Could not read the queue depth for /metrics")
            return
        yield family

    def _workers(self):
        from config import heartbeat

        family = GaugeMetricFamily(
            "agentry_workers_alive", "Celery workers with a recent heartbeat."
        )
        family.add_metric([], len(heartbeat.live_workers()))
        yield family


def _connection_address(request):
    """The address the connection came from, never a forwarded header."""
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return None


def scraper_allowed(request) -> bool:
    """The caller sent METRICS_TOKEN, or connects from METRICS_ALLOWED_NETWORKS:
    it may read /metrics and /health's details."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    address = _connection_address(request)
    return address is not None and any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_NETWORKS
    )


def from_this_machine(request) -> bool:
    address = _connection_address(request)
    return address is not None and address.is_loopback


@require_GET
def metrics(request):
    if not scraper_allowed(request):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    site = CollectorRegistry(auto_describe=False)
    site.register(DatabaseCollector())
    body = generate_latest(processes) + generate_latest(site)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
