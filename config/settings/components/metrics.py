"""Prometheus metrics at /metrics (config.metrics)."""

from config.env import env

# A scraper sends `Authorization: Bearer <METRICS_TOKEN>`...
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# ...or connects from one of these networks (e.g. "10.0.0.0/8"); the address is
# the connection's own, never a forwarded header. With neither, /metrics is off.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
