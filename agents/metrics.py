"""What the agents app reports to /metrics at scrape time (registered with
config.metrics in AgentsConfig.ready())."""

from __future__ import annotations

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from agents.models import Run, RunStatus


def run_metrics():
    family = GaugeMetricFamily(
        "agentry_runs",
        "Runs (of agents and workflows) by status; queued ones wait for a worker.",
        labels=["status"],
    )
    counts = dict(Run.objects.order_by().values_list("status").annotate(n=Count("id")))
    for status in RunStatus.values:
        family.add_metric([status], counts.get(status, 0))
    yield family
