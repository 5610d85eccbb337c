"""A workflow paused for approval survives its worker: a real Celery worker
runs it to the approval and is stopped; another one, started later, carries
it on from the saved state once it is approved."""

from __future__ import annotations

import pytest

from agents.models import Run, RunStatus
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from tests.worker import wait_for
from workflows.runs import workflow_run_decide, workflow_run_start
from workflows.services import workflow_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def status(run) -> str:
    return Run.objects.get(pk=run.pk).status


def test_a_paused_workflow_resumes_on_a_new_worker_after_a_restart(start_worker):
    owner = UserFactory(credits=50)
    drafter = make_agent(owner, name="Drafter", instructions="You are Drafter.")
    sender = make_agent(owner, name="Sender", instructions="You are Sender.")
    flow = workflow_create(
        owner=owner,
        data={
            "name": "Draft and send",
            "graph": {
                "entry": "draft",
                "nodes": [
                    {"id": "draft", "kind": "agent", "agent": drafter.pk},
                    {"id": "ok", "kind": "approval", "message": "Send it?"},
                    {"id": "send", "kind": "agent", "agent": sender.pk},
                ],
                "edges": [
                    {"from": "draft", "to": "ok"},
                    {"from": "ok", "to": "send"},
                ],
            },
        },
    )
    first = start_worker()
    run = workflow_run_start(workflow=flow, user=owner, input="A note to the team")
    assert wait_for(lambda: status(run) == RunStatus.PAUSED, 60), first.output()
    assert Run.objects.get(pk=run.pk).worker == first.hostname
    first.stop()
    assert first.process.poll() is not None

    second = start_worker()
    workflow_run_decide(run=run, user=owner, decision="approve")
    assert wait_for(lambda: status(run) == RunStatus.COMPLETED, 60), second.output()
    run.refresh_from_db()
    assert run.worker == second.hostname
    assert (
        run.final_output
        == run.steps.get(type="agent-response", payload__node="send").payload["text"]
    )
    # The drafter's node ran once, on the first worker; its result was kept.
    assert run.steps.filter(type="agent-response", payload__node="draft").count() == 1
    assert run.steps.filter(type="agent-response", payload__node="send").count() == 1
