"""Local development: `make run`."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DEBUG, env

# DEBUG stays as base.py reads it, off unless DJANGO_DEBUG=1 (or DEBUG=1):
# Django's debug pages show tracebacks, settings and every URL pattern to
# whoever reaches the server, and `make run` may be reachable from other
# machines. Errors get the site's own pages instead.
# Serve static files straight from the source folders, no collectstatic needed
# (WhiteNoise does, with DEBUG off too).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# /metrics answers this machine's own scraper (curl, a local Prometheus).
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"]
)
