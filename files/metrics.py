"""What the files app reports to /metrics at scrape time (registered with
config.metrics in FilesConfig.ready())."""

from __future__ import annotations

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from files.models import File, FileStatus


def file_metrics():
    family = GaugeMetricFamily(
        "agentry_files", "Uploaded files by ingestion status.", labels=["status"]
    )
    counts = dict(File.objects.order_by().values_list("status").annotate(n=Count("id")))
    for status in FileStatus.values:
        family.add_metric([status], counts.get(status, 0))
    yield family
