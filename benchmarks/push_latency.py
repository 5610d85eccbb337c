"""Latency from enqueueing a task to a websocket client receiving what the
worker pushed, on the embedded stack (PostgreSQL broker + LISTEN/NOTIFY channel
layer) and, when REDIS_URL is set, on Redis.

    .venv/bin/python -m benchmarks.push_latency [--messages 100]

Uses the development database (the embedded one unless DATABASE_URL is set),
migrating it first; starts one real Celery worker process per stack.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.utils import database_url

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    url = database_url(connection.settings_dict)
    stacks = [("postgres", "")]
    if os.environ.get("REDIS_URL"):
        stacks.append(("redis", os.environ["REDIS_URL"]))
    print("| stack | messages | p50 ms | p95 ms | max ms | worker start s |")
    print("|---|---|---|---|---|---|")
    for name, redis_url in stacks:
        row = measure(url, redis_url, arguments.messages)
        print(f"| {name} | {arguments.messages} | " + " | ".join(row) + " |")


def measure(url: str, redis_url: str, count: int) -> list[str]:
    from channels.layers import channel_layers
    from django.conf import settings
    from kombu import Connection

    from community import services
    from community.models import User
    from config.settings.components.celery import broker_url_for
    from config.settings.components.channels import channel_layers_for
    from tests.worker import WorkerProcess

    settings.CHANNEL_LAYERS = channel_layers_for(redis_url, url)
    channel_layers.backends.clear()
    user, _ = User.objects.get_or_create(username="benchmark-user")
    api_key, secret = services.api_key_create(user=user, name="benchmark")

    log = Path(tempfile.mkdtemp()) / "worker.log"
    started = time.perf_counter()
    worker = WorkerProcess(database_url=url, redis_url=redis_url, log_path=log).start()
    startup = time.perf_counter() - started
    try:
        latencies = asyncio.run(
            _round_trips(
                secret,
                user.pk,
                broker_url_for(redis_url, url),
                count,
                Connection,
            )
        )
    finally:
        worker.stop()
        services.api_key_revoke(api_key=api_key)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    return [
        f"{statistics.median(latencies):.1f}",
        f"{p95:.1f}",
        f"{latencies[-1]:.1f}",
        f"{startup:.1f}",
    ]


async def _round_trips(secret, user_id, broker_url, count, connection_class):
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator

    from community.tasks import user_event_push_task
    from config.asgi import application

    communicator = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[(b"authorization", f"Bearer {secret}".encode())],
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected, "websocket refused"
    latencies = []

    def send(number):
        with connection_class(broker_url) as broker:
            user_event_push_task.apply_async(
                args=[user_id, {"number": number, "sent": time.time()}],
                connection=broker,
            )

    # Warm-up: the first message pays for connections and the worker's imports.
    await sync_to_async(send)(-1)
    await communicator.receive_json_from(timeout=30)
    for number in range(count):
        await sync_to_async(send)(number)
        event = await communicator.receive_json_from(timeout=30)
        latencies.append((time.time() - event["sent"]) * 1000)
    await communicator.disconnect()
    return latencies


if __name__ == "__main__":
    sys.exit(main())
