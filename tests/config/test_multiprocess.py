"""The site scaled out: two web processes and two Celery workers on one database
and one broker, with live watchers on both web processes and a worker killed
mid-way. Nothing is lost, nothing is left running, and the credits add up.

Everything is real except the model provider, which is a local fake OpenAI
server that takes a second per answer (tests/agents/fake_llm.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from websockets.asyncio.client import connect

from agents.models import Run, RunStatus, StepType
from billing import pricing
from billing import services as billing_services
from billing.models import CreditAccount, EntryKind, LedgerEntry, RunBudget
from community.services import api_key_create
from tests.agents.factories import make_agent
from tests.agents.fake_llm import FakeLLM
from tests.community.factories import UserFactory
from tests.worker import BeatProcess, WebProcess, free_port, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.multiprocess,
    pytest.mark.django_db(transaction=True),
]

# The figures; benchmarks/README.md runs it bigger through these.
RUNS = int(os.environ.get("SCALE_TEST_RUNS", "50"))
WATCHERS_PER_RUN = int(os.environ.get("SCALE_TEST_WATCHERS_PER_RUN", "4"))  # even
OWNERS = 5
GRANT = 1_000 * 1000  # milli-credits each owner starts with
MODEL = "openai/gpt-4o-mini"  # priced at 1 credit per 1K tokens in and out
FINAL = {"completed", "failed", "cancelled"}


def _kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool children: no chance to clean up."""
    subprocess.run(["pkill", "-KILL", "-P", str(process.pid)], check=False)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


class Watchers:
    """Websocket clients on their own event loop, in a thread, so the test can
    start and kill processes while they listen."""

    def __init__(self, targets: list[tuple[str, str, int]], timeout: float):
        self.targets = targets
        self.timeout = timeout
        self.connected = threading.Event()
        self.results: list[dict] = []
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._main, daemon=True)

    def start(self) -> Watchers:
        self.thread.start()
        return self

    def _main(self) -> None:
        asyncio.run(self._watch_all())

    async def _watch_all(self) -> None:
        deadline = time.monotonic() + self.timeout
        opened = 0
        lock = asyncio.Lock()

        async def one(url: str, secret: str, run_id: int) -> dict:
            nonlocal opened
            orders: list[int] = []
            status = None
            async with connect(
                url,
                additional_headers={"Authorization": f"Bearer {secret}"},
                open_timeout=60,
                max_queue=None,
            ) as socket:
                async with lock:
                    opened += 1
                    if opened == len(self.targets):
                        self.connected.set()
                while status is None and time.monotonic() < deadline:
                    try:
                        raw = await asyncio.wait_for(
                            socket.recv(), deadline - time.monotonic()
                        )
                    except TimeoutError:
                        break
                    message = json.loads(raw)
                    if message.get("event") == "step":
                        orders.append(message["step"]["order"])
                    elif (
                        message.get("event") == "status" and message["status"] in FINAL
                    ):
                        status = message["status"]
            return {"run": run_id, "url": url, "orders": orders, "status": status}

        outcomes = await asyncio.gather(
            *(one(*target) for target in self.targets), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                self.errors.append(outcome)
            else:
                self.results.append(outcome)
        self.connected.set()  # even on failure, so the test does not hang


@pytest.fixture
def fake_openai():
    with FakeLLM(keys=None, delay=1.0) as fake:
        yield fake


@pytest.fixture
def stack(test_database_url, tmp_path, fake_openai, start_worker):
    """Two Daphne processes, two workers started on demand, and beat, all on
    the test database and the broker this run of the suite uses."""
    redis_url = os.environ.get("REDIS_URL", "")
    env = {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_openai.openai_base_url,
        "AGENT_PROVIDER_RETRIES": "0",
        # A killed worker is noticed within about 2 s x 3 + 1 s, and a run
        # whose message it took is sent again after 20 s.
        "CELERY_HEARTBEAT_INTERVAL": "2",
        "AGENT_RUN_DEAD_WORKER_GRACE": "4",
        "AGENT_RUN_SWEEP_INTERVAL": "1",
        "AGENT_RUN_REQUEUE_AFTER": "20",
    }
    processes = []

    def process(kind, **kwargs):
        started = kind(
            database_url=test_database_url, redis_url=redis_url, env=env, **kwargs
        )
        processes.append(started)
        return started.start()

    class Stack:
        def web(self, name):
            return process(
                WebProcess, port=free_port(), log_path=tmp_path / f"web-{name}.log"
            )

        def worker(self):
            return start_worker(redis_url, concurrency=2, env=env)

        def beat(self):
            return process(
                BeatProcess,
                schedule_path=tmp_path / "beat-schedule",
                log_path=tmp_path / "beat.log",
            )

    yield Stack()
    for started in processes:
        started.discard()


def _owners() -> list[tuple]:
    owners = []
    for number in range(OWNERS):
        user = UserFactory()
        billing_services.credit_add(
            user=user, amount=GRANT, kind=EntryKind.GRANT, key=f"scale-test:{number}"
        )
        _, secret = api_key_create(user=user, name="scale test")
        agent = make_agent(user, name=f"Echo {number}", model=MODEL)
        owners.append((user, secret, agent))
    return owners


def _ws_url(web: WebProcess, run_id: int) -> str:
    return web.url.replace("http://", "ws://") + f"/ws/runs/{run_id}/"


def test_fifty_runs_on_two_webs_and_two_workers_reach_two_hundred_watchers(
    stack, fake_openai, capsys
):
    """50 runs started through both web processes, 200 websocket clients
    watching through both, one worker SIGKILLed mid-way: its runs end failed
    with their holds released, the others complete, every client receives
    every saved step of its run, and each account's ledger adds up."""
    began = time.monotonic()
    webs = [stack.web("a"), stack.web("b")]
    owners = _owners()

    runs: list[tuple[int, str]] = []  # (run id, the owner's API key)
    for number in range(RUNS):
        user, secret, agent = owners[number % OWNERS]
        web = webs[number % 2]
        response = httpx.post(
            f"{web.url}/api/v1/agents/{agent.pk}/run/",
            json={"input": f"Question {number}: say something back."},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        runs.append((response.json()["id"], secret))

    targets = [
        (_ws_url(webs[index % 2], run_id), secret, run_id)
        for run_id, secret in runs
        for index in range(WATCHERS_PER_RUN)
    ]
    connecting = time.monotonic()
    watchers = Watchers(targets, timeout=240).start()
    assert watchers.connected.wait(120), "the websocket clients did not connect"
    assert not watchers.errors, watchers.errors[:3]
    connected_in = time.monotonic() - connecting

    # The workers start only now, so every client hears each run from its start.
    doomed = stack.worker()
    working = time.monotonic()

    def doomed_is_mid_run():
        completed = Run.objects.filter(status=RunStatus.COMPLETED).count()
        running = Run.objects.filter(
            status=RunStatus.RUNNING, worker=doomed.hostname
        ).exists()
        return completed >= RUNS // 5 and running

    # Watched from a thread while the survivor and beat start: on a busy
    # machine their start can outlast every run the doomed worker has.
    killed: dict[str, set] = {}

    def kill_mid_run():
        try:
            if wait_for(doomed_is_mid_run, timeout=120, interval=0.05):
                _kill_hard(doomed.process)
                killed["victims"] = set(
                    Run.objects.filter(
                        status=RunStatus.RUNNING, worker=doomed.hostname
                    ).values_list("pk", flat=True)
                )
        finally:
            connection.close()

    killer = threading.Thread(target=kill_mid_run, daemon=True)
    killer.start()
    survivor = stack.worker()
    stack.beat()
    killer.join(130)
    assert "victims" in killed, Counter(Run.objects.values_list("status", "worker"))
    victims = killed["victims"]
    assert victims

    run_ids = [run_id for run_id, _ in runs]
    unfinished = Run.objects.filter(pk__in=run_ids).exclude(status__in=FINAL)
    assert wait_for(lambda: not unfinished.exists(), timeout=180, interval=0.5), list(
        unfinished.values_list("pk", "status", "worker")
    )
    drained_in = time.monotonic() - working
    watchers.thread.join(timeout=60)
    elapsed = time.monotonic() - began

    # Every run ended: the killed worker's failed with a reason, the rest
    # completed (some on the survivor after the kill).
    ended = {run.pk: run for run in Run.objects.filter(pk__in=run_ids)}
    for run_id, run in ended.items():
        if run_id in victims:
            assert run.status == RunStatus.FAILED, (run_id, run.status)
            assert "worker running this run stopped" in run.error
            last = run.steps.order_by("order").last()
            assert last.type == StepType.ERROR
            assert last.payload["kind"] == "worker_lost"
        else:
            assert run.status == RunStatus.COMPLETED, (run_id, run.status, run.error)
    assert Counter(run.worker for run in ended.values())[survivor.hostname] > 0

    # Every client got every saved step of its run, in order, and the end.
    assert not watchers.errors, watchers.errors[:3]
    assert len(watchers.results) == RUNS * WATCHERS_PER_RUN
    saved = {
        run_id: list(
            ended[run_id].steps.order_by("order").values_list("order", flat=True)
        )
        for run_id in run_ids
    }
    delivered = lost = 0
    for result in watchers.results:
        expected = saved[result["run"]]
        assert result["orders"] == expected, result
        assert result["status"] == ended[result["run"]].status
        delivered += len(result["orders"])
        lost += len(set(expected) - set(result["orders"]))
    assert lost == 0

    # Credits exact: every step charged at the model's price, each run's cost
    # the sum of its charges, nothing held, and each balance what came in
    # minus what was spent.
    price = Decimal("1")
    for user, _secret, _agent in owners:
        account = CreditAccount.objects.get(user=user)
        assert account.held == 0
        their_runs = [run for run in ended.values() if run.owner_id == user.pk]
        for run in their_runs:
            steps_cost = sum(
                pricing.model_turn_cost(
                    input_tokens=step.input_tokens,
                    output_tokens=step.output_tokens,
                    input_per_1k=price,
                    output_per_1k=price,
                )
                for step in run.steps.all()
            )
            charged = -sum(
                LedgerEntry.objects.filter(
                    run=run, kind=EntryKind.RUN_CHARGE
                ).values_list("amount", flat=True)
            )
            assert run.cost == charged == steps_cost, run.pk
            if run.status == RunStatus.COMPLETED:
                assert run.cost > 0
        assert not RunBudget.objects.filter(
            run__in=their_runs, released_at__isnull=True
        ).exists()
        # Credits in: the sign-up grant and this test's.
        entries = LedgerEntry.objects.filter(account=account)
        granted = sum(
            entries.exclude(kind=EntryKind.RUN_CHARGE).values_list("amount", flat=True)
        )
        assert granted >= GRANT
        spent = sum(run.cost for run in their_runs)
        assert account.balance == granted - spent
        assert sum(entries.values_list("amount", flat=True)) == account.balance

    model_requests = len(fake_openai.model_requests)
    with capsys.disabled():
        print(
            f"\nscale-out: {RUNS} runs ({len(victims)} on the killed worker), "
            f"{len(watchers.results)} websocket clients on 2 web processes "
            f"(connected in {connected_in:.1f} s), {delivered} steps delivered, "
            f"{lost} lost, {model_requests} model requests, runs drained in "
            f"{drained_in:.1f} s from the first worker's start, {elapsed:.1f} s "
            "in all"
        )
