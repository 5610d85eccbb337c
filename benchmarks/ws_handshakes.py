"""Many websocket clients connecting at once to one Daphne process: how long
until each is accepted and has the run's first step, with and without the
database connection pool (DATABASE_POOL) the Procfile gives the web process.

    .venv/bin/python -m benchmarks.ws_handshakes [--clients 100 200]

Uses the development database (the embedded one unless DATABASE_URL is set),
migrating it first; REDIS_URL picks the Redis channel layer.
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 200])
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.utils import database_url

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    url = database_url(connection.settings_dict)
    run_id, secret = _a_queued_run()
    print("| pool | clients | all in, s | p50 s | p95 s | max s | refused |")
    print("|---|---|---|---|---|---|---|")
    for pool in ("false", "true"):
        for clients in arguments.clients:
            row = measure(url, pool, clients, run_id, secret)
            print(f"| {pool} | {clients} | " + " | ".join(row) + " |")


def _a_queued_run() -> tuple[int, str]:
    """A run nobody carries out (its task is not sent), owned by a throwaway
    user with an API key."""
    import uuid

    from agents import services, tasks
    from billing.models import MILLI, EntryKind
    from billing.services import credit_add
    from community.models import User
    from community.services import api_key_create

    user = User.objects.create(username=f"bench-{uuid.uuid4().hex[:8]}")
    credit_add(
        user=user, amount=100 * MILLI, kind=EntryKind.GRANT, key=f"bench:{user.pk}"
    )
    _, secret = api_key_create(user=user, name="benchmark")
    agent = services.agent_create(owner=user, data={"name": "Bench"})
    tasks.run_execute_task.delay = lambda run_id: None
    run = services.run_start(agent=agent, user=user, input="Hello")
    return run.pk, secret


def measure(url: str, pool: str, clients: int, run_id: int, secret: str) -> list[str]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake, InvalidMessage

    from tests.worker import WebProcess, free_port

    log = Path(tempfile.mkdtemp()) / "web.log"
    web = WebProcess(
        port=free_port(),
        database_url=url,
        redis_url=os.environ.get("REDIS_URL", ""),
        log_path=log,
        env={"DATABASE_POOL": pool},
    ).start()
    address = web.url.replace("http://", "ws://") + f"/ws/runs/{run_id}/"
    headers = {"Authorization": f"Bearer {secret}"}

    async def one() -> float | None:
        began = time.monotonic()
        try:
            async with connect(address, additional_headers=headers) as socket:
                await asyncio.wait_for(socket.recv(), 60)  # the first step
        except (OSError, TimeoutError, InvalidHandshake, InvalidMessage):
            return None  # refused: counted in the table
        return time.monotonic() - began

    async def all_at_once() -> tuple[list, float]:
        began = time.monotonic()
        times = await asyncio.gather(*(one() for _ in range(clients)))
        return times, time.monotonic() - began

    try:
        asyncio.run(all_at_once())  # warm-up: imports, first connections
        times, total = asyncio.run(all_at_once())
    finally:
        web.stop()
    done = sorted(t for t in times if t is not None)
    if not done:
        return [f"{total:.2f}", "-", "-", "-", str(clients)]
    p95 = done[max(0, int(len(done) * 0.95) - 1)]
    return [
        f"{total:.2f}",
        f"{statistics.median(done):.2f}",
        f"{p95:.2f}",
        f"{done[-1]:.2f}",
        str(clients - len(done)),
    ]


if __name__ == "__main__":
    main()
