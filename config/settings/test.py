"""Fast settings for the test suite (the real PostgreSQL, fast hashing)."""

import os
from pathlib import Path

# The suite gets its own embedded server, so `make test` can run beside `make run`.
os.environ.setdefault(
    "EMBEDDED_DB_DIR",
    str(Path(__file__).resolve().parents[2] / ".data" / "postgres-test"),
)

from config.settings.base import *  # noqa: F403

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
