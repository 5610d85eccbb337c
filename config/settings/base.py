"""Settings every environment shares. local.py, test.py and production.py override.

Environment variables are read only through config/env.py.
"""

from config.env import BASE_DIR, database_url, env, redis_url

SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="django-insecure-agentry-local-development-key"
)
# DJANGO_DEBUG, or DEBUG for short (`DEBUG=1 make run`); off unless set.
DEBUG = env.bool("DJANGO_DEBUG", default=env.bool("DEBUG", default=False))
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Fernet keys for secrets stored in the database (config/crypto.py); empty:
# one derived from SECRET_KEY.
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS", default=[])
# Outbound HTTP made for users (tools, webhooks, model endpoints;
# config/outbound.py): networks exempt from the public-address rule (e.g.
# 10.0.0.0/8 for an internal service), and for outbound.request() the time
# limit in seconds and the largest response in bytes.
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])
OUTBOUND_TIMEOUT = env.float("OUTBOUND_TIMEOUT", default=10.0)
OUTBOUND_MAX_BYTES = env.int("OUTBOUND_MAX_BYTES", default=1_000_000)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.postgres",
    # Third party
    "allauth",
    "allauth.account",
    "allauth.headless",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "channels",
    "channels_postgres",
    "djstripe",
    # Agentry
    "community",
    "agents",
    "workflows",
    "billing",
    "files",
]

MIDDLEWARE = [
    # First and last: request latency and counts for /metrics (config.metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files need no policy; every other response,
    # errors and 429s included, gets one.
    "config.csp.ContentSecurityPolicyMiddleware",
    # Before anything reads a body: one nested too deeply for Python's
    # recursive JSON parser, or too large, is refused here for every view,
    # the libraries' (allauth's headless API, dj-stripe's webhook) included.
    "config.jsoninput.JsonBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.throttles.RateLimitMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "billing.context_processors.credits",
                "community.context_processors.notifications",
            ],
            "libraries": {"fragments": "config.fragment_tags"},
        },
    },
]

# Database: PostgreSQL with pgvector, always. Without DATABASE_URL an embedded
# server is started (or reused) in .data/postgres.
DATABASES = {"default": env.db_url_config(database_url())}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# psycopg's connection pool, for the web process (DATABASE_POOL=true in the
# Procfile): every request and websocket handshake takes an open connection
# instead of opening one (~10 ms each, serialized in Channels' database thread).
# Off by default: a Celery prefork child must not inherit its parent's pool.
if env.bool("DATABASE_POOL", default=False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses both at once
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": 10,
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url()

# Without Redis the cache is a database table shared by every process (web,
# worker, beat): the worker heartbeat lives there. `createcachetable` makes it.
DATABASE_CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "agentry_cache",
    }
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = dict(DATABASE_CACHES)
# Rendered fragments of the community pages (agent cards, comment threads, the
# tag cloud). Their keys carry a fingerprint of everything they show, so a
# stale entry is never read, only left to expire; that lets each process keep
# its own copy without Redis: a local hit costs microseconds where a database
# cache hit costs a query, which would eat most of what the fragment saves.
CACHES["fragments"] = (
    {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "fragments",
        "TIMEOUT": 60 * 60,
    }
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "agentry-fragments",
        "TIMEOUT": 60 * 60,
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    }
)

AUTH_USER_MODEL = "community.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Agentry <noreply@localhost>"
)

X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

from config.settings.components.agents import *  # noqa: E402, F403
from config.settings.components.allauth import *  # noqa: E402, F403
from config.settings.components.billing import *  # noqa: E402, F403
from config.settings.components.celery import *  # noqa: E402, F403
from config.settings.components.channels import *  # noqa: E402, F403
from config.settings.components.csp import *  # noqa: E402, F403
from config.settings.components.files import *  # noqa: E402, F403
from config.settings.components.logging import *  # noqa: E402, F403
from config.settings.components.metrics import *  # noqa: E402, F403
from config.settings.components.rest import *  # noqa: E402, F403
from config.settings.components.security import *  # noqa: E402, F403
from config.settings.components.stripe import *  # noqa: E402, F403
