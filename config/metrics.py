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

from django.conf import settings
from django.db.models import Count, Q, Sum
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
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

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


class DatabaseCollector:
    """The site's state, read when Prometheus scrapes."""

    def collect(self):
        yield from self._runs()
        yield from self._credits()
        yield from self._webhooks()
        yield from self._files()
        yield from self._queues()
        yield from self._workers()

    def _runs(self):
        from agents.models import Run, RunStatus

        family = GaugeMetricFamily(
            "agentry_runs",
            "Runs (of agents and workflows) by status; queued ones wait for a worker.",
            labels=["status"],
        )
        counts = dict(
            Run.objects.order_by().values_list("status").annotate(n=Count("id"))
        )
        for status in RunStatus.values:
            family.add_metric([status], counts.get(status, 0))
        yield family

    def _credits(self):
        from billing.models import MILLI, EntryKind, LedgerEntry

        totals = LedgerEntry.objects.aggregate(
            spent=Sum("amount", filter=Q(kind=EntryKind.RUN_CHARGE)),
            sold=Sum(
                "amount", filter=Q(kind__in=[EntryKind.PURCHASE, EntryKind.ALLOCATION])
            ),
            refunded=Sum("amount", filter=Q(kind=EntryKind.REFUND)),
        )
        for name, help_text, value in (
            ("spent", "Credits charged for runs.", -(totals["spent"] or 0)),
            (
                "sold",
                "Credits bought or allocated by subscriptions.",
                totals["sold"] or 0,
            ),
            ("refunded", "Credits taken back by refunds.", -(totals["refunded"] or 0)),
        ):
            family = CounterMetricFamily(f"agentry_credits_{name}", help_text)
            family.add_metric([], value / MILLI)
            yield family

    def _webhooks(self):
        from djstripe.models import WebhookEventTrigger

        outcomes = {
            "processed": Q(valid=True, processed=True),
            "failed": Q(valid=True, processed=False),
            "invalid": Q(valid=False),
        }
        # Aliased: an aggregate may not share a name with a field.
        counts = WebhookEventTrigger.objects.aggregate(
            **{
                f"outcome_{name}": Count("id", filter=condition)
                for name, condition in outcomes.items()
            }
        )
        family = CounterMetricFamily(
            "agentry_stripe_webhooks",
            "Stripe webhook deliveries by outcome: processed, failed while "
            "processing, or refused (bad signature).",
            labels=["outcome"],
        )
        for outcome in outcomes:
            family.add_metric([outcome], counts[f"outcome_{outcome}"])
        yield family

    def _files(self):
        from files.models import File, FileStatus

        family = GaugeMetricFamily(
            "agentry_files", "Uploaded files by ingestion status.", labels=["status"]
        )
        counts = dict(
            File.objects.order_by().values_list("status").annotate(n=Count("id"))
        )
        for status in FileStatus.values:
            family.add_metric([status], counts.get(status, 0))
        yield family

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
