"""What visitors hit: Discover (plain and searched), an agent's public page,
the community API and an author's profile, against a bare Django view under
the same server.

    .venv/bin/python -m benchmarks.community [--seconds 10] [--concurrency 8]
        [--rounds 1] [--redis redis://127.0.0.1:6379/N]

Migrates the development database if it needs it and seeds it (once,
idempotent) with 1,000 public agents by one author and, on one of them, 500
comments (with replies and reactions) and 50 ratings. Then starts Daphne as
the Procfile does (one process, psycopg's connection pool) with
benchmarks.urls, which is the site's URLconf plus `/bench/bare/` (a view that
returns "ok" without touching the database), and drives each URL from
``--concurrency`` client threads for ``--seconds``, signed out (as visitors
are), ``--rounds`` times in turn. Reports requests per second, p50 and p95,
and each page's requests per second as a ratio of the bare view's in the same
round. With ``--redis`` the server's cache (and fragment cache) is that Redis
database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

BASE_DIR = Path(__file__).resolve().parents[1]
PORT = 8765  # --port to change
AGENTS = 1000
COMMENTS = 500
RATINGS = 50


def seed() -> str:
    """The path of the agent with the comments."""
    from django.core.management import call_command

    from agents.models import Agent, Visibility
    from agents.services.search import agents_search_reindex, trending_refresh
    from community.models import Comment, Rating, Reaction, User
    from config.markdown import render_markdown

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    owner, _ = User.objects.get_or_create(
        username="bench-author", defaults={"email": "bench-author@agentry.localhost"}
    )
    have = Agent.objects.filter(owner=owner).count()
    if have < AGENTS:
        Agent.objects.bulk_create(
            Agent(
                owner=owner,
                name=f"Bench agent {i}",
                slug=f"bench-agent-{i}",
                description=f"Benchmark agent number {i}, for writing and sums.",
                tags=["bench", f"t{i % 20}"],
                category=["writing", "coding", "data", "fun"][i % 4],
                visibility=Visibility.PUBLIC,
                version_number=1,
                run_count=i,
            )
            for i in range(have, AGENTS)
        )
        agents_search_reindex()
    target = Agent.objects.get(owner=owner, slug="bench-agent-0")
    people = []
    for i in range(RATINGS):
        person, _ = User.objects.get_or_create(
            username=f"bench-fan-{i}", defaults={"email": f"fan{i}@agentry.localhost"}
        )
        people.append(person)
    if not Comment.objects.filter(agent=target).exists():
        tops = Comment.objects.bulk_create(
            Comment(
                agent=target,
                author=people[i % RATINGS],
                body=f"Comment **{i}**",
                body_html=render_markdown(f"Comment **{i}**"),
            )
            for i in range(COMMENTS // 2)
        )
        Comment.objects.bulk_create(
            Comment(agent=target, author=people[(i + 1) % RATINGS], body="A reply",
                    body_html=render_markdown("A reply"), parent=top)
            for i, top in enumerate(tops)
        )  # fmt: skip
        Reaction.objects.bulk_create(
            Reaction(user=people[i % RATINGS], comment=top, emoji="👍")
            for i, top in enumerate(tops)
        )
        Rating.objects.bulk_create(
            Rating(
                agent=target,
                user=person,
                stars=1 + i % 5,
                review="ok",
                review_html=render_markdown("ok"),
            )
            for i, person in enumerate(people)
        )
        Agent.objects.filter(pk=target.pk).update(
            rating_count=RATINGS, rating_sum=sum(1 + i % 5 for i in range(RATINGS))
        )
    trending_refresh()
    return f"/u/{owner.username}/{target.slug}/"


def start_server(*, redis: str = "", port: int = PORT) -> subprocess.Popen:
    env = dict(
        os.environ, PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="benchmarks.settings"
    )
    # As the Procfile runs the web process: connections from psycopg's pool.
    # (Persistent connections without a pool ran the database out of
    # connections under Daphne at 8 clients.)
    env.setdefault("DATABASE_POOL", "true")
    if redis:
        env["REDIS_URL"] = redis
    log = Path(tempfile.mkdtemp(prefix="agentry-bench-")) / "web.log"
    web = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "config.asgi:application"],
        cwd=BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/bench/bare/", timeout=2
            ):
                return web
        except OSError:
            time.sleep(0.3)
    web.terminate()
    raise SystemExit(f"the server did not start; see {log}")


def drive(url: str, *, seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client():
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
                    response.read()
                    ok = response.status == 200
            except OSError:
                ok = False
            if ok:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) if latencies else 0,
        "p95": latencies[int(len(latencies) * 0.95) - 1] if latencies else 0,
        "errors": errors[0],
    }


def cpu_in_process(targets, *, rounds: int) -> None:
    """Each page's CPU time a request in this process with Django's test
    client (its own database connection kept, so queries are counted but
    not the database server's work): the best of ``rounds`` rounds of five
    requests, the pages interleaved. Steadier than requests per second on a
    busy machine, because time spent waiting for a core is not counted."""
    from django.core import signals
    from django.db import close_old_connections
    from django.test import Client

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    client = Client(HTTP_HOST="127.0.0.1")
    for _label, path in targets:
        for _ in range(3):
            client.get(path)
    best = dict.fromkeys(path for _label, path in targets)
    for _ in range(rounds):
        for _label, path in targets:
            started = time.thread_time()
            for _ in range(5):
                assert client.get(path).status_code == 200, path
            spent = (time.thread_time() - started) / 5 * 1000
            best[path] = min(best[path] or spent, spent)
    print(f"CPU ms a request, in process, best of {rounds} rounds of 5")
    print(f"{'page':<42} {'CPU ms':>7} {'x bare':>7}")
    bare = best[targets[0][1]]
    for label, path in targets:
        print(f"{label:<42} {best[path]:>7.2f} {bare / best[path]:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--redis", default="", help="e.g. redis://127.0.0.1:6379/12")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure CPU time a request with the test client instead",
    )
    args = parser.parse_args()

    if args.in_process:
        os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
        if args.redis:
            os.environ["REDIS_URL"] = args.redis
    import django

    django.setup()
    listing = seed()
    targets = [
        ("bare Django view", "/bench/bare/"),
        ("Discover (1,000 agents, trending)", "/discover/"),
        ("Discover, searched (`q=writing sums`)", "/discover/?q=writing+sums"),
        ("agent page (500 comments, 50 ratings)", listing),
        ("community API (`sort=top`)", "/api/v1/community/agents/?sort=top"),
        ("profile page (1,000 agents, 30 shown)", "/u/bench-author/"),
    ]
    if args.in_process:
        cpu_in_process(targets, rounds=max(args.rounds, 5))
        return
    web = start_server(redis=args.redis, port=args.port)
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _label, path in targets:  # warm up
            drive(base + path, seconds=1, concurrency=2)
        print(
            f"{args.concurrency} clients, {args.seconds:g} s each, signed out, "
            f"cache: {args.redis or 'default (no Redis)'}"
        )
        for number in range(1, args.rounds + 1):
            print(f"round {number}")
            print(
                f"{'page':<42} {'req/s':>7} {'x bare':>7} {'p50 ms':>8} "
                f"{'p95 ms':>8} {'errors':>6}"
            )
            bare = None
            for label, path in targets:
                result = drive(
                    base + path, seconds=args.seconds, concurrency=args.concurrency
                )
                bare = bare or result["rps"]
                print(
                    f"{label:<42} {result['rps']:>7.1f} "
                    f"{result['rps'] / bare:>7.2f} {result['p50']:>8.1f} "
                    f"{result['p95']:>8.1f} {result['errors']:>6}"
                )
    finally:
        web.terminate()
        web.wait(timeout=20)


if __name__ == "__main__":
    main()
