"""A load test: signed-in people browsing and running agents, at increasing
concurrency, against one web process and one worker.

    .venv/bin/python -m benchmarks.load
    REDIS_URL=redis://127.0.0.1:6379/11 .venv/bin/python -m benchmarks.load
    .venv/bin/python -m benchmarks.load --stages 1 4 16 --stage-seconds 10 \\
        --mix home=1,discover=1,agent=1,runs=1,run=2 --think 0.5 --keep

What it does, in order:

1. A fresh database `agentry_load`, cloned from a migrated template database
   (`agentry_load_template`, migrated on every start, so only the first start
   on a clone pays for the migrations), on the embedded PostgreSQL, or on the
   server of DATABASE_URL when that is set.
2. Seeds through the site's services: one person per virtual user, each
   signed in (a session cookie for the pages, an API key for the API), with
   credits from `billing.services.credits_grant` and a public agent on the
   offline model `local/demo` that uses the calculator.
3. Starts the site as `make run` does (the Procfile): ONE Daphne process with
   the database pool, ONE Celery worker (concurrency 2, queue `celery`, with
   production's `DATABASE_CONN_MAX_AGE=60`), with `benchmarks.settings`, which
   is the development settings without DEBUG and without the rate limits (a
   person may start 30 runs a minute; the knee must be the site's, not the
   limit's).
4. For each stage, N virtual people loop for --stage-seconds, each picking an
   action from --mix, then thinking (--think seconds on average, uniform
   between half and one and a half times it): the home page, Discover, their
   agent's public page, their runs list (pages, with the session cookie); or
   starting a run through the API and watching it on the run's websocket to
   its final status.
5. Prints a markdown table per stage (requests/s, runs/s, p50/p95/p99 per
   kind, errors) and the knee: the stage with the highest request throughput
   whose p95 stays under 1 s for pages and for API POSTs (with at most 1% of
   actions failing), and the first stage that does not; then the same for
   runs from start to finish, by runs per second.

Never reaches the network: everything is on 127.0.0.1 or a unix socket, and
the model is the offline one. Every process it starts (and the embedded
database, if it started it) is stopped at the end, on Ctrl-C too; the fresh
database is dropped unless --keep is given (then it and the logs stay).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect

from benchmarks import load_stats

os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = "agentry_load"
TEMPLATE = "agentry_load_template"
QUESTION = "What is 5 + 10, then multiply by 3, then subtract 4?"
FINAL = ("completed", "failed", "cancelled")
ACTIONS = ("home", "discover", "agent", "runs", "run")
DEFAULT_MIX = "home=1,discover=1,agent=1,runs=1,run=1"


def parse_mix(text: str) -> dict[str, float]:
    """'home=1,run=2' → weights by action; unknown actions are refused."""
    weights = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in ACTIONS:
            raise argparse.ArgumentTypeError(
                f"unknown action {name!r}; choose from {', '.join(ACTIONS)}"
            )
        try:
            weights[name] = float(weight or 1)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad weight for {name}") from None
        if weights[name] < 0:
            raise argparse.ArgumentTypeError(f"negative weight for {name}")
    if not any(weights.values()):
        raise argparse.ArgumentTypeError("give at least one action a weight")
    return weights


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--stages", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64],
        help="virtual people at each stage (default: 1 2 4 8 16 32 64)",
    )  # fmt: skip
    parser.add_argument(
        "--stage-seconds", type=float, default=25,
        help="how long each stage starts new actions (default: 25)",
    )  # fmt: skip
    parser.add_argument(
        "--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX),
        help=f"weights of the actions (default: {DEFAULT_MIX})",
    )  # fmt: skip
    parser.add_argument(
        "--think", type=float, default=1.0,
        help="mean seconds a person waits between actions (default: 1.0)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=60,
        help="seconds before an action counts as failed (default: 60)",
    )  # fmt: skip
    parser.add_argument(
        "--limit", type=float, default=1.0,
        help="the p95, in seconds, that marks the knee (default: 1.0)",
    )  # fmt: skip
    parser.add_argument(
        "--worker-concurrency", type=int, default=2,
        help="processes of the one Celery worker (default: 2, as make run)",
    )  # fmt: skip
    parser.add_argument(
        "--keep", action="store_true",
        help="keep the database and the process logs afterwards",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=21, help="random seed")
    options = parser.parse_args()
    if min(options.stages) < 1 or options.stage_seconds <= 0:
        parser.error("stages need at least one person and a positive duration")
    return options


# --- the database -----------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def fresh_database() -> tuple[str, str]:
    """(the URL of a fresh, migrated database, an admin URL on its server).

    The template is migrated in a child process (the same `migrate` as
    `make run`); the fresh database is a copy of it, which takes a second
    where migrating from nothing takes about a minute.
    """
    import psycopg
    from psycopg import sql

    given = os.environ.get("DATABASE_URL", "")
    if given:
        admin_url = given
        template_url = _with_database(given, TEMPLATE)
        with psycopg.connect(admin_url, autocommit=True) as connection:
            if not connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE]
            ).fetchone():
                connection.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE))
                )
    else:
        from config import embedded_db

        template_url = embedded_db.ensure_running(database=TEMPLATE)
        admin_url = _with_database(template_url, "postgres")
    print("Migrating the template database …", flush=True)
    env = dict(os.environ, DATABASE_URL=template_url)
    for command in (
        ["migrate", "--verbosity=0"],
        ["createcachetable", "--verbosity=0"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True
        )
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(DATABASE)
            )
        )
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(DATABASE), sql.Identifier(TEMPLATE)
            )
        )
    return _with_database(template_url, DATABASE), admin_url


def drop_database(admin_url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(DATABASE)
            )
        )


# --- the people -------------------------------------------------------------


def seed(count: int) -> list[dict]:
    """``count`` signed-in people, each with credits and a public agent."""
    from django.conf import settings
    from django.test import Client

    from agents.services import agent_create
    from billing.models import MILLI
    from billing.services import credits_grant
    from community.models import User
    from community.services import api_key_create

    people = []
    users = []
    for number in range(count):
        user = User.objects.create_user(
            username=f"load{number:03d}", email=f"load{number:03d}@agentry.localhost"
        )
        users.append(user)
        _, secret = api_key_create(user=user, name="load test")
        agent = agent_create(
            owner=user,
            data={
                "name": f"Calculator {number}",
                "description": "Works out sums step by step with the calculator.",
                "instructions": "Use the calculator for every operation.",
                "tools": ["calculator"],
                "model": "local/demo",
                "category": "data",
                "visibility": "public",
            },
        )
        # A session as signing in makes it, stored where the site keeps them.
        browser = Client()
        browser.force_login(user)
        people.append(
            {
                "username": user.username,
                "key": secret,
                "session": browser.cookies[settings.SESSION_COOKIE_NAME].value,
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "agent_id": agent.pk,
                "agent_page": agent.get_listing_url(),
            }
        )
    # Plenty for every run of every stage.
    credits_grant(users=users, amount=100_000 * MILLI, reason="Load test")
    return people


# --- the processes ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Site:
    """Daphne and one Celery worker, each in a process group of its own so
    that stopping one stops its children too."""

    def __init__(self, database_url: str, worker_concurrency: int, logs: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs = logs
        self.hostname = f"load-{os.getpid()}-{time.monotonic_ns()}@%h"
        self.env = dict(os.environ, DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
        self.worker_concurrency = worker_concurrency
        self.processes: list[subprocess.Popen] = []

    def _start(self, name: str, command: list[str], **env) -> None:
        self.processes.append(
            subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=dict(self.env, **env),
                stdout=(self.logs / f"{name}.log").open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def start(self, timeout: float = 120) -> None:
        # As the Procfile's web and worker lines.
        self._start(
            "web",
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
             "--websocket_connect_timeout", "30", "config.asgi:application"],
            DATABASE_POOL="true",
        )  # fmt: skip
        # Production's connection reuse (config/settings/production.py) for
        # the worker; the web process has the pool instead.
        self._start(
            "worker",
            [sys.executable, "-m", "celery", "-A", "config", "worker",
             "--loglevel=WARNING", f"--concurrency={self.worker_concurrency}",
             "--queues=celery", f"--hostname={self.hostname}"],
            DATABASE_CONN_MAX_AGE=os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
        )  # fmt: skip
        from config import heartbeat

        deadline = time.monotonic() + timeout
        web_up = worker_up = False
        while not (web_up and worker_up):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the site did not start; logs in {self.logs}")
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[2]} exited; logs in {self.logs}")
            if not web_up:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), 0.5):
                        web_up = True
                except OSError:
                    pass
            if not worker_up:
                prefix = self.hostname.split("@")[0] + "@"
                worker_up = any(
                    name.startswith(prefix) for name in heartbeat.live_workers()
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM to Daphne, SIGQUIT to the worker (Celery's cold shutdown:
        a warm one waits for runs in flight, whose database goes next), then
        SIGKILL to whatever of either group is left after 10 s."""
        for process, signum in zip(
            self.processes, (signal.SIGTERM, signal.SIGQUIT), strict=False
        ):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signum)
        deadline = time.monotonic() + 10
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{' '.join(process.args[1:3])} did not stop: killed")
            # The worker's pool children, if the parent left them.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- the virtual people -----------------------------------------------------


class Person:
    def __init__(self, site: Site, data: dict, options, rng: random.Random):
        self.site = site
        self.data = data
        self.options = options
        self.rng = rng
        self.actions = list(options.mix)
        self.weights = [options.mix[name] for name in self.actions]
        limits = httpx.Limits(max_connections=4)
        self.browser = httpx.AsyncClient(
            base_url=site.url,
            cookies={data["session_cookie"]: data["session"]},
            timeout=options.timeout,
            limits=limits,
        )
        self.api = httpx.AsyncClient(
            base_url=site.url,
            headers={"Authorization": f"Bearer {data['key']}"},
            timeout=options.timeout,
            limits=limits,
        )

    async def close(self) -> None:
        await self.browser.aclose()
        await self.api.aclose()

    def path(self, action: str) -> str:
        return {
            "home": "/",
            "discover": "/discover/",
            "agent": self.data["agent_page"],
            "runs": "/runs/",
        }[action]

    async def page(self, action: str, clock, samples: list) -> None:
        started = clock()
        try:
            response = await self.browser.get(self.path(action))
            ok = response.status_code == 200
        except Exception as error:  # noqa: BLE001 (any failure is an error sample)
            note_error(f"{action}: {type(error).__name__}: {error}")
            ok = False
        else:
            if not ok:
                note_error(f"{action}: HTTP {response.status_code}")
        samples.append(load_stats.Sample("page", started, clock(), ok))

    async def run(self, clock, samples: list) -> None:
        started = clock()
        try:
            response = await self.api.post(
                f"/api/v1/agents/{self.data['agent_id']}/run/",
                json={"input": QUESTION},
            )
        except Exception as error:  # noqa: BLE001
            note_error(f"run POST: {type(error).__name__}: {error}")
            samples.append(load_stats.Sample("post", started, clock(), False))
            return
        ok = response.status_code == 202
        samples.append(load_stats.Sample("post", started, clock(), ok))
        if not ok:
            note_error(f"run POST: HTTP {response.status_code} {response.text[:200]}")
            return
        run_id = response.json()["id"]
        address = self.site.url.replace("http://", "ws://") + f"/ws/runs/{run_id}/"
        status = None
        try:
            async with asyncio.timeout(self.options.timeout):
                async with connect(
                    address,
                    additional_headers={"Authorization": f"Bearer {self.data['key']}"},
                    open_timeout=self.options.timeout,
                    max_queue=None,
                ) as client:
                    async for raw in client:
                        message = json.loads(raw)
                        if message.get("event") == "status" and (
                            message.get("status") in FINAL
                        ):
                            status = message["status"]
                            break
        except Exception as error:  # noqa: BLE001
            note_error(f"run watch: {type(error).__name__}: {error}")
        if status is None:
            note_error("run watch: the socket closed before a final status")
        elif status != "completed":
            note_error(f"run ended {status}")
        samples.append(
            load_stats.Sample("run", started, clock(), status == "completed")
        )

    async def loop(self, until: float, clock, samples: list) -> None:
        # People arrive spread over the first think time, not all at once.
        await asyncio.sleep(self.rng.uniform(0, self.options.think))
        while clock() < until:
            action = self.rng.choices(self.actions, self.weights)[0]
            if action == "run":
                await self.run(clock, samples)
            else:
                await self.page(action, clock, samples)
            think = self.options.think * self.rng.uniform(0.5, 1.5)
            await asyncio.sleep(max(0.0, min(think, until - clock())))


ERRORS: dict[str, int] = {}


def note_error(text: str) -> None:
    """Distinct errors are counted and the first few printed."""
    key = text[:160]
    ERRORS[key] = ERRORS.get(key, 0) + 1
    if len(ERRORS) <= 5 and ERRORS[key] == 1:
        print(f"  error: {key}", flush=True)


async def stage(site: Site, people: list[dict], users: int, options) -> list:
    rng = random.Random(f"{options.seed}:{users}")
    persons = [Person(site, people[i], options, rng) for i in range(users)]
    samples: list[load_stats.Sample] = []
    begin = time.monotonic()

    def clock() -> float:
        return time.monotonic() - begin

    try:
        await asyncio.gather(
            *(p.loop(options.stage_seconds, clock, samples) for p in persons)
        )
    finally:
        await asyncio.gather(*(p.close() for p in persons))
    return samples


async def warm_up(site: Site, people: list[dict], options) -> None:
    """Every page once and a run in each of the worker's processes, untimed:
    imports, caches, connections, the first run's set-up in a process."""
    persons = [
        Person(site, data, options, random.Random(0))
        for data in people[: options.worker_concurrency]
    ]
    try:
        for action in ("home", "discover", "agent", "runs"):
            await persons[0].page(action, time.monotonic, [])
        for _ in range(2):
            await asyncio.gather(*(p.run(time.monotonic, []) for p in persons))
    finally:
        await asyncio.gather(*(p.close() for p in persons))


async def drive(site: Site, people: list[dict], options) -> list:
    await warm_up(site, people, options)
    stages = []
    for users in options.stages:
        # This client shares the machine with the site: its own CPU use says
        # whether it, rather than the site, could be the limit.
        cpu, wall = time.process_time(), time.monotonic()
        samples = await stage(site, people, users, options)
        cpu_share = (time.process_time() - cpu) / (time.monotonic() - wall)
        summary = load_stats.summarize(users, options.stage_seconds, samples)
        stages.append(summary)
        print(
            f"{users:>3} users: {summary.requests_per_second:6.1f} requests/s, "
            f"{summary.runs_per_second:5.2f} runs/s, p95 of pages and POSTs "
            f"{summary.worst_p95() * 1000:5.0f} ms, of runs "
            f"{summary.worst_p95(('run',)) * 1000:5.0f} ms, "
            f"{summary.errors} errors; this client used {cpu_share:.0%} of a core",
            flush=True,
        )
    return stages


def main() -> int:
    options = arguments()
    stack = "Redis" if os.environ.get("REDIS_URL") else "PostgreSQL"
    logs = Path(tempfile.mkdtemp(prefix="agentry-load-"))
    site = None
    admin_url = ""
    django_ready = False
    embedded = not os.environ.get("DATABASE_URL")

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    # Ctrl-C stops everything even when started from a shell that set SIGINT
    # to be ignored (a background job of a script); asyncio.run cancels the
    # virtual people on it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    began = time.monotonic()
    try:
        database_url, admin_url = fresh_database()
        print(f"Fresh database {DATABASE} in {time.monotonic() - began:.0f} s.")
        os.environ["DATABASE_URL"] = database_url
        import django

        django.setup()
        django_ready = True
        seeding = time.monotonic()
        people = seed(max(options.stages))
        print(f"Seeded {len(people)} people in {time.monotonic() - seeding:.0f} s.")
        from django.db import connections

        connections.close_all()
        site = Site(database_url, options.worker_concurrency, logs)
        print(f"Starting Daphne and a Celery worker at {site.url} …", flush=True)
        starting = time.monotonic()
        site.start()
        print(f"Started in {time.monotonic() - starting:.0f} s.", flush=True)
        stages = asyncio.run(drive(site, people, options))
    except KeyboardInterrupt:
        print("\nInterrupted: stopping everything.", flush=True)
        return 130
    finally:
        if site is not None:
            stopping = time.monotonic()
            site.stop()
            print(
                f"Stopped Daphne and the worker in {time.monotonic() - stopping:.0f} s."
            )
        if admin_url and not options.keep:
            try:
                if django_ready:
                    from django.db import connections

                    connections.close_all()
                drop_database(admin_url)
            except Exception as error:  # noqa: BLE001 (cleaning up: say, go on)
                print(f"Could not drop {DATABASE}: {error}")
        if embedded:
            from config import embedded_db

            if embedded_db.stop_if_started_here():
                print("Stopped the embedded database.")
        if options.keep:
            print(f"Kept the database {DATABASE} and the logs in {logs}")
    print(
        f"\nStack: {stack}; one Daphne, one Celery worker "
        f"(concurrency {options.worker_concurrency}); "
        f"{options.stage_seconds:g} s a stage, think {options.think:g} s, "
        f"mix {','.join(f'{k}={v:g}' for k, v in options.mix.items())}; "
        f"{time.monotonic() - began:.0f} s in all.\n"
    )
    print(load_stats.table(stages))
    print()
    print(load_stats.knee_sentence(stages, limit=options.limit))
    if load_stats.knee(stages, limit=options.limit)[1] is None:
        print(
            "The site kept up with every stage: add bigger ones "
            f"(--stages {' '.join(str(n) for n in options.stages)} "
            f"{2 * max(options.stages)}) or shorten --think."
        )
    print()
    print(
        load_stats.knee_sentence(
            stages, limit=options.limit, kinds=("run",), what="Runs"
        )
    )
    if ERRORS:
        print("\nErrors:")
        for text, count in sorted(ERRORS.items(), key=lambda item: -item[1]):
            print(f"  {count} x {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
