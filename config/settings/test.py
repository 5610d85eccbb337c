"""Fast settings for the test suite (the real PostgreSQL, fast hashing)."""

import os
from pathlib import Path

# The suite gets its own embedded server, so `make test` can run beside `make run`.
os.environ.setdefault(
    "EMBEDDED_DB_DIR",
    str(Path(__file__).resolve().parents[2] / ".data" / "postgres-test"),
)


def _redis_per_worker() -> None:
    """Under pytest-xdist each worker process gets its own Redis database (the
    one REDIS_URL names for gw0, then the ones below it), as it has its own
    test database: queues, channel groups and cache keys name runs and users
    by ids that are the same in every worker's database. A process a test
    starts inherits the moved URL (or is given its own) and keeps it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("REDIS_URL", "")
    if not (worker.startswith("gw") and url):
        return
    if os.environ.setdefault("TEST_REDIS_BASE_URL", url) != url:
        return
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    database = (int(parts.path.strip("/") or 0) - int(worker[2:])) % 16
    os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{database}"))


_redis_per_worker()

from config.settings.base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ACCOUNT_RATE_LIMITS = False
# Tests that start many runs are not about rate limits; those that are set
# their own (tests/config/test_rate_limits.py).
RATE_LIMITS = dict.fromkeys(RATE_LIMITS, "")  # noqa: F405
# The suite never probes an Ollama that happens to run on the machine; tests
# of discovery point this at their fake server.
OLLAMA_BASE_URL = ""
# Rendered fragments are never kept, so each test sees its own writes and
# query counts do not depend on what an earlier test rendered; the tests of
# the fragment cache itself switch a real one on (tests/community/test_page_cache.py).
CACHES = {
    **CACHES,  # noqa: F405
    "fragments": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
