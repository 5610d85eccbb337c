"""Celery: Redis as broker when REDIS_URL is set, else the embedded PostgreSQL."""

from urllib.parse import urlsplit, urlunsplit

from config.env import database_url, env, redis_url


def broker_url_for(redis: str, database: str) -> str:
    """The broker URL for a Redis URL ("" for none) and a database URL."""
    if redis:
        return redis
    # kombu's SQLAlchemy transport (config/broker.py), on the psycopg 3 driver
    # Django already uses.
    parts = urlsplit(database)
    return urlunsplit(parts._replace(scheme="pgsql+postgresql+psycopg"))


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or broker_url_for(
    redis_url(), database_url()
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The SQLAlchemy transport polls; a short interval keeps task latency low.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.05)
}
CELERY_TASK_IGNORE_RESULT = True
# Run tasks are acknowledged when they end (acks_late), and a worker reserves no
# more messages than it has processes: a worker that is killed strands no run
# in its prefetch buffer, and one stopped with SIGTERM finishes what it runs
# and gives its unstarted messages back. A redelivered message is harmless, as
# a run is claimed with a conditional UPDATE (agents.services.runs.run_claim).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Reading a big file takes minutes of a worker; it has its own queue (and, in
# the Procfile, its own worker) so agent runs never wait behind it. A worker
# started without -Q takes only the default queue, "celery".
FILES_QUEUE = "files"
CELERY_TASK_ROUTES = {"files.ingest": {"queue": FILES_QUEUE}}
CELERY_BEAT_SCHEDULE: dict = {
    # Fails runs whose worker died mid-run (agents.services.runs.run_sweep_dead).
    "sweep-dead-runs": {
        "task": "agents.tasks.run_sweep_task",
        "schedule": env.float("AGENT_RUN_SWEEP_INTERVAL", default=30.0),
    },
    # Discover's trending order (agents.services.search.trending_refresh).
    "refresh-trending": {
        "task": "agents.tasks.trending_refresh_task",
        "schedule": env.float("AGENT_TRENDING_INTERVAL", default=600.0),
    },
    # Expires unused free credits past their date (billing.services).
    "expire-credits": {
        "task": "billing.credits_expire",
        "schedule": env.float("CREDITS_EXPIRY_INTERVAL", default=3600.0),
    },
    # Yearly subscribers' monthly credits, as each month comes (billing.payments).
    "yearly-allocations": {
        "task": "billing.yearly_allocations",
        "schedule": env.float("CREDITS_EXPIRY_INTERVAL", default=3600.0),
    },
    # Re-ingests files embedded by another model (files.services).
    "reembed-stale-files": {
        "task": "files.reembed_stale",
        "schedule": env.float("FILES_REEMBED_INTERVAL", default=600.0),
    },
}
CELERY_HEARTBEAT_INTERVAL = env.float("CELERY_HEARTBEAT_INTERVAL", default=5.0)
