"""A workflow paused for approval survives its worker: a real Celery worker
runs it to the approval and is stopped; another one, started later, carries
it on from the saved state once it is approved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from agents.models import Run, RunStatus
from agents.services import runs as run_services
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from tests.worker import wait_for
from workflows import runs as workflow_runs
from workflows import tasks as workflow_tasks
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


def test_agents_sends_and_recovers_workflow_runs_through_what_workflows_registered(
    monkeypatch,
):
    """agents never imports workflows: a run without an agent is sent and
    recovered by what workflows registered in its AppConfig.ready()."""
    sent, recovered = [], []
    task = workflow_tasks.workflow_run_execute_task
    monkeypatch.setattr(task, "delay", lambda run_id: sent.append(run_id))
    monkeypatch.setattr(
        workflow_runs, "workflow_run_recover", lambda run: recovered.append(run) or True
    )

    run_services.agentless_runs().enqueue(7)
    assert run_services.agentless_runs().recover("a run") is True
    assert (sent, recovered) == ([7], ["a run"])

    monkeypatch.setattr(run_services, "_agentless_runs", [])
    with pytest.raises(ImproperlyConfigured):
        run_services.agentless_runs()
