"""Runs carried out by a real Celery worker process, and the dead-worker sweep."""

import os
import signal
import subprocess
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from agents import services, tasks
from agents.models import Run, RunStatus
from community.services import api_key_create
from config import heartbeat
from config.asgi import application
from tests.agents.factories import make_calculator_agent, make_run
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


async def test_a_worker_runs_the_queued_run_and_the_websocket_hears_every_step(
    start_worker,
):
    """POST → queued → worker → steps saved → pushed: the client sees the whole
    timeline and the completed status with the answer."""
    await sync_to_async(start_worker)()
    agent = await sync_to_async(make_calculator_agent)()
    _, secret = await sync_to_async(api_key_create)(user=agent.owner, name="ws")
    run = await sync_to_async(make_run)(agent)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/runs/{run.pk}/",
        headers=[(b"authorization", f"Bearer {secret}".encode())],
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    messages = []
    while not (
        messages
        and messages[-1]["event"] == "status"
        and messages[-1]["status"] in ("completed", "failed")
    ):
        messages.append(await communicator.receive_json_from(timeout=60))
    await communicator.disconnect()
    steps = [m["step"] for m in messages if m["event"] == "step"]
    assert [s["order"] for s in steps] == list(range(1, 9))
    assert messages[-1]["status"] == "completed"
    assert messages[-1]["run"]["final_output"]["answer"] == 45
    saved = await sync_to_async(Run.objects.get)(pk=run.pk)
    assert saved.worker.startswith("test-")


def _kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool children: no chance to clean up."""
    subprocess.run(["pkill", "-KILL", "-P", str(process.pid)], check=False)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_the_sweep_fails_a_run_whose_worker_was_killed(start_worker, monkeypatch):
    """A worker dies mid-run; its heartbeat stops; the periodic sweep (run here
    by a second worker, as beat would) marks the run failed with a reason."""
    doomed = start_worker()
    assert wait_for(lambda: doomed.hostname in heartbeat.live_workers())
    # Queue without enqueueing, then claim the run as the doomed worker would.
    monkeypatch.setattr(tasks.run_execute_task, "delay", lambda run_id: None)
    run = make_run(make_calculator_agent())
    services.run_claim(run_id=run.pk, worker=doomed.hostname)
    _kill_hard(doomed.process)
    assert wait_for(lambda: doomed.hostname not in heartbeat.live_workers(), 30)
    # The grace period covers a worker's start-up; move the start past it.
    Run.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - timedelta(minutes=2)
    )

    start_worker()
    tasks.run_sweep_task.delay()

    def failed():
        run.refresh_from_db()
        return run.status == RunStatus.FAILED

    assert wait_for(failed, timeout=30)
    assert "worker running this run stopped" in run.error
    assert run.steps.order_by("order").last().payload["kind"] == "worker_lost"


def test_a_queued_run_whose_message_was_lost_is_sent_again_and_runs(
    start_worker, monkeypatch, settings
):
    """The embedded broker delivers at most once, and a worker killed between
    taking a message and claiming its run loses it: the sweep sends the task of
    a run queued too long again, and a worker carries the run out."""
    monkeypatch.setattr(tasks.run_execute_task, "delay", lambda run_id: None)
    run = make_run(make_calculator_agent())
    monkeypatch.undo()
    settings.AGENT_RUN_REQUEUE_AFTER = 60
    Run.objects.filter(pk=run.pk).update(
        queued_at=timezone.now() - timedelta(minutes=2)
    )
    start_worker()

    assert services.run_requeue_stale() == 1
    # Sent again once per period, not at every sweep.
    assert services.run_requeue_stale() == 0

    def completed():
        run.refresh_from_db()
        return run.status == RunStatus.COMPLETED

    assert wait_for(completed, timeout=60), run.status
    assert run.final_output["answer"] == 45


def test_a_run_sent_twice_is_carried_out_once(start_worker):
    """A duplicate message (a requeue racing the first delivery) does nothing:
    the run is claimed once, so its steps, cost and end stay as they were."""
    start_worker()
    run = make_run(make_calculator_agent())

    def finished():
        run.refresh_from_db()
        return run.is_finished

    assert wait_for(finished, timeout=60)
    before = (run.step_count, run.steps.count(), run.cost, run.finished_at)
    tasks.run_execute_task.delay(run.pk)
    # One process takes messages in order: the run queued after the duplicate
    # finishing means the duplicate was handled.
    sentinel = make_run(make_calculator_agent())
    assert wait_for(lambda: Run.objects.get(pk=sentinel.pk).is_finished, timeout=60)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert (run.step_count, run.steps.count(), run.cost, run.finished_at) == before


def test_a_worker_stopped_with_sigterm_finishes_its_run_and_leaves_the_next_queued(
    start_worker,
):
    """A deploy stops workers with SIGTERM: the run in progress finishes (warm
    shutdown), the next run is not lost or left half-done, and a new worker
    carries it out."""
    from tests.agents.factories import make_agent
    from tests.agents.fake_llm import FakeLLM

    with FakeLLM(keys=None, delay=2.0) as fake:
        env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.openai_base_url}
        agent = make_agent(name="Echo", model="openai/gpt-4o-mini")
        worker = start_worker(env=env)
        first, second = make_run(agent, input="one"), make_run(agent, input="two")

        def one_is_running():
            return Run.objects.filter(
                pk__in=[first.pk, second.pk], status=RunStatus.RUNNING
            ).first()

        running = wait_for(one_is_running, timeout=60, interval=0.05)
        assert running is not None
        worker.stop(timeout=60)
        assert worker.process.returncode == 0
        waiting = second if running.pk == first.pk else first

        running.refresh_from_db()
        assert running.status == RunStatus.COMPLETED, running.error
        assert running.final_output
        waiting.refresh_from_db()
        if os.environ.get("REDIS_URL"):
            assert waiting.status == RunStatus.QUEUED
        else:
            # Celery's loop for polling transports (the embedded broker) drains
            # once more after the stop is asked for, and may take one message
            # that a slot freed: it then finishes that run too before exiting.
            assert waiting.status in (RunStatus.QUEUED, RunStatus.COMPLETED)

        start_worker(env=env)

        def completed():
            waiting.refresh_from_db()
            return waiting.status == RunStatus.COMPLETED

        assert wait_for(completed, timeout=60), (waiting.status, waiting.error)
