"""Checks behind GET /health: each returns (ok, detail) and never raises."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from config import heartbeat


def check_database() -> tuple[bool, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
            )
            row = cursor.fetchone()
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    except Exception as error:  # noqa: BLE001 (health reports any failure)
        return False, {"error": _describe(error)}
    if row is None:
        return False, {
            "postgres": version,
            "error": "the pgvector extension is missing",
        }
    return True, {"postgres": version, "pgvector": row[0]}


def check_channel_layer(timeout: float = 3.0) -> tuple[bool, dict]:
    """Sends a message to a fresh channel (it expires unread).

    Only a send: a receive() would tie the layer to this call's event loop, and
    a layer instance receives in one loop at a time.
    """
    layer = get_channel_layer()
    if layer is None:
        return False, {"error": "no channel layer configured"}
    backend = f"{type(layer).__module__}.{type(layer).__name__}"

    async def send() -> None:
        channel = f"health.{uuid.uuid4().hex}"
        await asyncio.wait_for(layer.send(channel, {"type": "health.ping"}), timeout)

    try:
        async_to_sync(send)()
    except Exception as error:  # noqa: BLE001
        return False, {"backend": backend, "error": _describe(error)}
    return True, {"backend": backend}


def check_broker(timeout: float = 3.0) -> tuple[bool, dict]:
    from config.celery import app

    connection_ = app.connection_for_write()
    transport = connection_.transport_cls
    try:
        connection_.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as error:  # noqa: BLE001
        return False, {"transport": transport, "error": _describe(error)}
    finally:
        connection_.release()
    return True, {"transport": transport}


def check_workers() -> tuple[bool, dict]:
    try:
        workers = heartbeat.live_workers()
    except Exception as error:  # noqa: BLE001
        return False, {"error": _describe(error)}
    if not workers:
        return False, {"error": "no live Celery worker", "workers": []}
    return True, {"workers": workers}


CHECKS = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
    "worker": check_workers,
}


def run_checks() -> tuple[bool, dict]:
    results = {}
    for name, check in CHECKS.items():
        ok, detail = check()
        results[name] = {"ok": ok, **detail}
    return all(result["ok"] for result in results.values()), results


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".strip()[:300]
