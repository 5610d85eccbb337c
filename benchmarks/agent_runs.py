"""What the platform adds to an agent run, against the floors it cannot beat.

    .venv/bin/python -m benchmarks.agent_runs [--runs 20] [--concurrent 50]
    REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python -m benchmarks.agent_runs

With the offline `local/demo` model and an 11-step run (three calculator calls),
in one invocation:

- the bare SDK: `Runner.run` on the same agent, in this process;
- the POST that starts a run, in this process (Django's test client: the
  middleware, DRF, the API-key check, run_start and the broker publish, no
  HTTP server) with its statement count, and over HTTP to Daphne;
- the platform end to end: HTTP POST to Daphne → queued → a Celery worker
  process → steps saved → the last websocket message, timed from the POST's
  answer on the run's websocket opened at once (its handshake overlaps the
  worker's pickup, as a page's or a program's would), by part: POST answered,
  POST answer → first worker event, per-step overhead;
- POST answer → `running` on the person's /ws/events/ socket, opened before
  the POST (a page or program that keeps it open needs no new handshake);
- the floors: one step-row commit + one channel-layer publish (exactly what the
  worker does per step), and a bare Celery round trip (enqueue → worker → channel
  layer → websocket client), measured through the same processes;
- 50 concurrent runs, each watched by 4 websocket clients (200), counting every
  step a client should have received and did not.

Uses the development database (embedded unless DATABASE_URL is set) and the
stack the environment selects (PostgreSQL, or Redis with REDIS_URL). Starts its
own Daphne and Celery worker (concurrency 2) on port 8765.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# 50 runs at once by one person is the measurement, not abuse: no rate limit
# (this process's settings and the Daphne and worker it starts).
os.environ.setdefault("RATE_LIMIT_RUN_STARTS", "")

BASE_DIR = Path(__file__).resolve().parent.parent
PORT = 8765
QUESTION = "What is 5 + 10, then multiply by 3, then subtract 4?"
FINAL = ("completed", "failed", "cancelled")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--watchers", type=int, default=4)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.utils import database_url

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    url = database_url(connection.settings_dict)
    stack = "redis" if os.environ.get("REDIS_URL") else "postgres"
    from community.models import PersonalApiKey
    from community.services import api_key_revoke

    user, key, agent = setup_data()
    try:
        # Before the worker starts: the runs it queues are cancelled at once.
        in_process = post_in_process(agent, key, arguments.runs * 5)
        processes = start_processes(url)
        try:
            results = asyncio.run(measure(arguments, user, key, agent))
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
    finally:
        # A person may hold 50 active keys: each invocation gives its own back.
        api_key_revoke(api_key=PersonalApiKey.objects.get(prefix=key.partition(".")[0]))
    results["post_in_process"], results["post_statements"] = in_process
    report(stack, results)


def post_in_process(agent, key: str, count: int) -> tuple[list[float], int]:
    """The run-start POST through Django in this process, without an HTTP
    server: milliseconds per request, and the statements one sends."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from agents.models import Run
    from agents.services.runs import run_cancel

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/agents/{agent.pk}/run/"
    body = json.dumps({"input": QUESTION})
    run_ids, timings = [], []
    for _ in range(count + 5):  # the first few warm up
        started = time.perf_counter()
        response = client.post(url, body, content_type="application/json")
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 202:
            raise SystemExit(
                f"POST answered {response.status_code}: {response.content}"
            )
        run_ids.append(response.json()["id"])
    with CaptureQueriesContext(connection) as queries:
        run_ids.append(
            client.post(url, body, content_type="application/json").json()["id"]
        )
    # No worker runs yet: cancel them, so their holds go back and the worker
    # drops their messages.
    for run in Run.objects.filter(pk__in=run_ids):
        run_cancel(run=run)
    return timings[5:], len(queries.captured_queries)


def setup_data():
    from agents import services
    from agents.catalog import catalog_ensure
    from agents.models import Agent
    from billing.models import MILLI, EntryKind
    from billing.services import credit_add
    from community.models import User
    from community.services import api_key_create

    catalog_ensure()
    user, _ = User.objects.get_or_create(
        username="benchmark", defaults={"email": "benchmark@agentry.localhost"}
    )
    _, key = api_key_create(user=user, name=f"benchmark {time.time():.0f}")
    # Runs cost credits: enough for any number of measurements.
    credit_add(
        user=user,
        amount=1_000_000 * MILLI,
        kind=EntryKind.GRANT,
        key=f"benchmark:{time.time_ns()}",
    )
    agent = Agent.objects.filter(owner=user, name="Benchmark calculator").first()
    if agent is None:
        agent = services.agent_create(
            owner=user,
            data={
                "name": "Benchmark calculator",
                "instructions": "Use the calculator for every operation.",
                "tools": ["calculator"],
            },
        )
    return user, key, agent


def start_processes(url: str) -> list[subprocess.Popen]:
    # Production's connection reuse (config/settings/production.py); with 0, the
    # development default, every websocket connect opens new connections.
    env = dict(os.environ, DATABASE_URL=url, PYTHONUNBUFFERED="1")
    env.setdefault("DATABASE_CONN_MAX_AGE", "60")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    logs = Path(tempfile.mkdtemp(prefix="agentry-bench-"))
    web = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(PORT),
         "--websocket_connect_timeout", "30", "config.asgi:application"],
        cwd=BASE_DIR, env=env,
        stdout=(logs / "web.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker_log = logs / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
         "--concurrency=2", "--pool=prefork", f"--hostname=bench-{os.getpid()}@%h"],
        cwd=BASE_DIR, env=env,
        stdout=worker_log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", PORT), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    from config import heartbeat

    while time.monotonic() < deadline:
        if any(name.startswith("bench-") for name in heartbeat.live_workers()):
            break
        time.sleep(0.2)
    else:
        raise SystemExit(f"worker or web did not start; logs in {logs}")
    return [web, worker]


async def bare_sdk(agent, count: int, *, streamed: bool = False) -> list[float]:
    from agents.runtime.executor import RunSpec, build_agent
    from agents.runtime.providers import AgentryModelProvider
    from agents.runtime.sdk import RunConfig, Runner

    definition = agent.versions.get(number=agent.version_number).definition
    provider = AgentryModelProvider()
    timings = []
    for _ in range(count + 1):
        started = time.perf_counter()
        sdk_agent = build_agent(definition, spec=RunSpec(definition, QUESTION),
                                provider=provider)  # fmt: skip
        config = RunConfig(model_provider=provider)
        if streamed:
            result = Runner.run_streamed(sdk_agent, QUESTION, run_config=config)
            async for _event in result.stream_events():
                pass
        else:
            result = await Runner.run(sdk_agent, QUESTION, run_config=config)
        timings.append((time.perf_counter() - started) * 1000)
        assert result.final_output
    return timings[1:]


async def step_floor(agent, user, count: int) -> list[float]:
    """One RunStep INSERT (own transaction, as the worker does) + one publish."""
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer

    from agents.models import Run, RunStatus
    from agents.services.steps import run_events_group, run_step_save, step_message

    version = agent.versions.get(number=agent.version_number)
    run = await sync_to_async(Run.objects.create)(
        agent=agent, version=version, owner=user, input="floor",
        status=RunStatus.COMPLETED,
    )  # fmt: skip
    layer = get_channel_layer()
    group = run_events_group(run.pk)
    save = sync_to_async(run_step_save)
    timings = []
    for order in range(1, count + 2):
        started = time.perf_counter()
        step = await save(run=run, order=order, type="agent-thought",
                          payload={"text": "floor"})  # fmt: skip
        await layer.group_send(group, step_message(step))
        timings.append((time.perf_counter() - started) * 1000)
    await sync_to_async(run.delete)()
    return timings[1:]


async def celery_round_trip(user, key: str, count: int) -> list[float]:
    """delay() → worker → channel layer → Daphne → websocket client."""
    import websockets

    from community.tasks import user_event_push_task

    timings = []
    async with websockets.connect(
        f"ws://127.0.0.1:{PORT}/ws/events/",
        additional_headers={"Authorization": f"Bearer {key}"},
    ) as client:
        for number in range(count + 1):
            started = time.perf_counter()
            await asyncio.to_thread(
                user_event_push_task.delay, user.pk, {"number": number}
            )
            while json.loads(await client.recv()).get("number") != number:
                pass
            timings.append((time.perf_counter() - started) * 1000)
    return timings[1:]


async def start_run(http, agent_id: int) -> dict:
    response = await asyncio.to_thread(
        http.post,
        f"http://127.0.0.1:{PORT}/api/v1/agents/{agent_id}/run/",
        json={"input": QUESTION},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


async def watch(run_id: int, key: str, started: float) -> dict:
    """Follow one run to its final status; note when things arrived, in
    milliseconds after ``started``."""
    import websockets

    orders, first_worker_step, running, finished = [], None, None, None
    async with websockets.connect(
        f"ws://127.0.0.1:{PORT}/ws/runs/{run_id}/",
        additional_headers={"Authorization": f"Bearer {key}"},
        max_queue=None,
    ) as client:
        opened = time.perf_counter()
        async for raw in client:
            message = json.loads(raw)
            now = time.perf_counter()
            if message["event"] == "step":
                orders.append(message["step"]["order"])
                if message["step"]["order"] >= 2 and first_worker_step is None:
                    first_worker_step = now
            elif message["event"] == "status" and message["status"] == "running":
                running = running or now
            elif message["event"] == "status" and message["status"] in FINAL:
                finished = now
                status = message["status"]
                break
    return {
        "run_id": run_id,
        "orders": orders,
        "status": status,
        "first_ms": (first_worker_step - started) * 1000,
        # A client that connects after the worker claimed the run never
        # hears "running"; its first worker event is then the first step.
        "running_ms": ((running or first_worker_step) - started) * 1000,
        "total_ms": (finished - started) * 1000,
        "open_ms": (opened - started) * 1000,
    }


async def end_to_end(http, agent, key: str, count: int) -> list[dict]:
    from asgiref.sync import sync_to_async

    from agents.models import RunStep

    results = []
    for _ in range(count + 1):
        started = time.perf_counter()
        run = await start_run(http, agent.pk)
        accepted = time.perf_counter()
        # From the answer: the socket is opened at once, as a client would.
        result = await watch(run["id"], key, accepted)
        result["post_ms"] = (accepted - started) * 1000
        results.append(result)
    results = results[1:]

    def step_spacing(run_id: int) -> float:
        """Milliseconds per step inside the worker, from the saved timestamps
        of its first and last step."""
        times = list(
            RunStep.objects.filter(run_id=run_id, order__gte=2)
            .order_by("order")
            .values_list("created_at", flat=True)
        )
        return (times[-1] - times[0]).total_seconds() * 1000 / (len(times) - 1)

    for result in results:
        result["spacing_ms"] = await sync_to_async(step_spacing)(result["run_id"])
    return results


async def events_socket(http, agent, key: str, count: int) -> list[float]:
    """POST answer → the run's `running` on the person's /ws/events/ socket,
    opened once before the POSTs, in milliseconds. Each run is followed to
    its end there before the next starts, as on the run's own socket."""
    import websockets

    timings = []
    async with websockets.connect(
        f"ws://127.0.0.1:{PORT}/ws/events/",
        additional_headers={"Authorization": f"Bearer {key}"},
        max_queue=None,
    ) as client:
        for _ in range(count + 1):
            run = await start_run(http, agent.pk)
            accepted = time.perf_counter()
            running = None
            while True:
                event = json.loads(await client.recv())
                if event.get("type") != "run" or event["run"]["id"] != run["id"]:
                    continue
                if event["run"]["status"] == "running" and running is None:
                    running = time.perf_counter()
                if event["run"]["status"] in FINAL:
                    break
            timings.append((running - accepted) * 1000)
    return timings[1:]


async def concurrent(http, agent, key: str, runs: int, watchers: int) -> dict:
    from asgiref.sync import sync_to_async

    from agents.models import RunStep

    started = time.perf_counter()
    created = await asyncio.gather(*(start_run(http, agent.pk) for _ in range(runs)))
    tasks = [watch(run["id"], key, started) for run in created for _ in range(watchers)]
    observed = await asyncio.gather(*tasks, return_exceptions=True)
    wall = (time.perf_counter() - started) * 1000
    ids = [run["id"] for run in created]

    def saved_orders():
        counts = {}
        for run_id, order in RunStep.objects.filter(run_id__in=ids).values_list(
            "run_id", "order"
        ):
            counts.setdefault(run_id, set()).add(order)
        return counts

    saved = await sync_to_async(saved_orders)()
    lost = failed_clients = 0
    statuses = []
    for index, result in enumerate(observed):
        run_id = ids[index // watchers]
        if isinstance(result, BaseException):
            print(f"client failed: {type(result).__name__}: {result}"[:300])
            failed_clients += 1
            lost += len(saved[run_id])
            continue
        lost += len(saved[run_id] - set(result["orders"]))
        statuses.append(result["status"])
    completed = [r["total_ms"] for r in observed if isinstance(r, dict)]
    return {
        "runs": runs,
        "clients": runs * watchers,
        "events": sum(len(v) for v in saved.values()) * watchers,
        "lost": lost,
        "failed_clients": failed_clients,
        "all_completed": bool(statuses) and all(s == "completed" for s in statuses),
        "wall_ms": wall,
        # Every client may have failed (a machine too busy for 200 handshakes
        # in the client's 10 s): the rest of the report still prints.
        "p50_ms": statistics.median(completed) if completed else float("nan"),
        "p95_ms": percentile(completed, 0.95) if completed else float("nan"),
    }


async def measure(arguments, user, key: str, agent) -> dict:
    import requests

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {key}"
    sdk = await bare_sdk(agent, arguments.runs)
    sdk_streamed = await bare_sdk(agent, arguments.runs, streamed=True)
    floor_step = await step_floor(agent, user, 200)
    floor_celery = await celery_round_trip(user, key, arguments.runs)
    platform = await end_to_end(http, agent, key, arguments.runs)
    on_events = await events_socket(http, agent, key, arguments.runs)
    load = await concurrent(http, agent, key, arguments.concurrent, arguments.watchers)
    return {
        "sdk": sdk,
        "sdk_streamed": sdk_streamed,
        "floor_step": floor_step,
        "floor_celery": floor_celery,
        "platform": platform,
        "events_running": on_events,
        "steps": len(platform[0]["orders"]),
        "load": load,
    }


def report(stack: str, results: dict) -> None:
    median = statistics.median
    sdk = median(results["sdk"])
    sdk_streamed = median(results["sdk_streamed"])
    step_floor_ms = median(results["floor_step"])
    celery = median(results["floor_celery"])
    platform = results["platform"]
    post = median(r["post_ms"] for r in platform)
    running = median(r["running_ms"] for r in platform)
    first = median(r["first_ms"] for r in platform)
    total = median(r["total_ms"] for r in platform)
    opened = median(r["open_ms"] for r in platform)
    events_running = median(results["events_running"])
    in_process = median(results["post_in_process"])
    steps = results["steps"]
    # What the platform adds per step: the worker's time between consecutive
    # saved steps, less the SDK's own time per step. The worker streams (for
    # live text), so the streamed bare run is the like-for-like baseline.
    spacing = median(r["spacing_ms"] for r in platform)
    per_step = spacing - sdk_streamed / steps
    load = results["load"]
    rows = [
        ("bare SDK `Runner.run` (local/demo)", sdk),
        ("bare SDK `Runner.run_streamed`, events consumed", sdk_streamed),
        ("floor: step commit + channel publish", step_floor_ms),
        ("floor: Celery round trip to a websocket", celery),
        (
            f"POST answered in-process ({results['post_statements']} statements)",
            in_process,
        ),
        ("POST answered over HTTP (202, run queued)", post),
        ("POST answer to the run's socket open (handshake)", opened),
        ("POST answer to `running` on that socket", running),
        ("POST answer to the first worker step on that socket", first),
        ("POST answer to the final status on that socket", total),
        ("POST answer to `running` on /ws/events/ opened before", events_running),
        ("worker time per step (saved timestamps)", spacing),
        ("overhead per step (less streamed SDK per step)", per_step),
    ]
    print(f"\nstack: {stack}; {steps}-step run; medians of {len(platform)}\n")
    print("| measure | ms |")
    print("| --- | --- |")
    for label, value in rows:
        print(f"| {label} | {value:.2f} |")
    print()
    print(f"per-step overhead / step floor: {per_step / step_floor_ms:.2f} (target 3)")
    print(f"POST answer to running / round trip: {running / celery:.2f} (target 2)")
    print(f"POST answer to first step / round trip: {first / celery:.2f}")
    print(
        "POST answer to running on /ws/events/ / round trip: "
        f"{events_running / celery:.2f} (target 2)"
    )
    print(f"POST answered in-process: {in_process:.1f} ms (target 15)")
    print()
    columns = [
        ("concurrent runs", load["runs"]),
        ("websocket clients", load["clients"]),
        ("events expected", load["events"]),
        ("lost", load["lost"]),
        ("clients failed", load["failed_clients"]),
        ("all completed", load["all_completed"]),
        ("wall s", f"{load['wall_ms'] / 1000:.1f}"),
        ("run p50 s", f"{load['p50_ms'] / 1000:.1f}"),
        ("run p95 s", f"{load['p95_ms'] / 1000:.1f}"),
    ]
    print("| " + " | ".join(name for name, _ in columns) + " |")
    print("|" + " --- |" * len(columns))
    print("| " + " | ".join(str(value) for _, value in columns) + " |")


if __name__ == "__main__":
    main()
