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
