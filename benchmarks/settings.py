"""The development settings with benchmarks.urls (the site plus a bare view
to compare against) and without DEBUG. Used only by benchmarks."""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
WHITENOISE_AUTOREFRESH = False
# Benchmarks start runs and uploads far faster than a person: no rate limits.
RATE_LIMITS = dict.fromkeys(RATE_LIMITS, "")  # noqa: F405
