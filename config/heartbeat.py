"""Worker liveness kept in the Django cache (Redis, or the database cache table).

Each worker writes its own key; a registry key lists the hostnames so /health can
enumerate them. A worker that stops cleanly removes itself at once; one that is
killed ages out after `stale_after_seconds()`.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

REGISTRY_KEY = "celery:workers"
logger = logging.getLogger(__name__)


def interval_seconds() -> float:
    return settings.CELERY_HEARTBEAT_INTERVAL


def stale_after_seconds() -> float:
    return settings.CELERY_HEARTBEAT_INTERVAL * 3


def _key(hostname: str) -> str:
    return f"celery:worker:{hostname}"


def beat(hostname: str, now: float | None = None) -> None:
    timeout = stale_after_seconds() * 2
    cache.set(_key(hostname), time.time() if now is None else now, timeout=timeout)
    registry = set(cache.get(REGISTRY_KEY) or ())
    if hostname not in registry:
        registry.add(hostname)
        cache.set(REGISTRY_KEY, sorted(registry), timeout=None)


def forget(hostname: str) -> None:
    cache.delete(_key(hostname))
    registry = set(cache.get(REGISTRY_KEY) or ())
    if hostname in registry:
        registry.discard(hostname)
        cache.set(REGISTRY_KEY, sorted(registry), timeout=None)


def beat_safely(hostname: str) -> None:
    """beat() for the worker's timer: a cache outage must not kill the worker
    (/health reports the worker as gone, which is what the outage means)."""
    try:
        beat(hostname)
    except Exception:
        logger.exception("Could not record the heartbeat of %s", hostname)


def forget_safely(hostname: str) -> None:
    try:
        forget(hostname)
    except Exception:
        logger.exception("Could not remove the heartbeat of %s", hostname)


def live_workers(now: float | None = None) -> list[str]:
    """Hostnames whose last heartbeat is recent enough to count as alive."""
    now = time.time() if now is None else now
    hostnames = cache.get(REGISTRY_KEY) or []
    beats = cache.get_many([_key(name) for name in hostnames])
    return [
        name
        for name in hostnames
        if (last := beats.get(_key(name))) is not None
        and now - last <= stale_after_seconds()
    ]
