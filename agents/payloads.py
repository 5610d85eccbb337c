"""The JSON shapes of runs and steps, shared by the API and the websocket."""

from __future__ import annotations

from agents.models import Run, RunStep
from billing.pricing import as_credits


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def step_to_dict(step: RunStep) -> dict:
    return {
        "id": step.pk,
        "run": step.run_id,
        "order": step.order,
        "type": step.type,
        "payload": step.payload,
        # The model whose output this step is, when the step records one.
        "model": step.payload.get("model") if isinstance(step.payload, dict) else None,
        "input_tokens": step.input_tokens,
        "output_tokens": step.output_tokens,
        "latency_ms": step.latency_ms,
        "cost": as_credits(step.cost),
        "created_at": _iso(step.created_at),
    }


def _workflow(run: Run) -> dict | None:
    """A workflow run's workflow, version, and why and where it is paused."""
    if run.agent_id is not None:
        return None
    workflow_run = run.workflow_run
    return {
        "id": workflow_run.workflow_id,
        "name": workflow_run.workflow.name,
        "paused_reason": workflow_run.paused_reason,
        "waiting": workflow_run.waiting,
    }


def run_model(run: Run, steps: list[RunStep] | None) -> str | None:
    """The model that gave the run's answer: the latest answer's, when the
    steps are at hand, else the agent version's (a workflow's agents each
    have their own, on their steps)."""
    for step in reversed(steps or []):
        payload = step.payload if isinstance(step.payload, dict) else {}
        if step.type == "agent-response" and payload.get("model"):
            return payload["model"]
    if run.agent_id is None:
        return None
    return run.version.definition.get("model") or "local/demo"


def run_event(run: Run) -> dict:
    """The live event telling the run's owner (on /ws/events/) that its
    status changed: small, enough to update a list of runs or to know when to
    fetch the run (GET /api/v1/runs/<id>/) or open its socket for the steps."""
    return {
        "type": "run",
        "run": {
            "id": run.pk,
            "agent": run.agent_id,
            "workflow": (
                run.workflow_run.workflow_id if run.agent_id is None else None
            ),
            "conversation": run.conversation_id,
            "status": run.status,
            "error_code": run.error_code,
            "created_at": _iso(run.created_at),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
        },
    }


def run_to_dict(run: Run, *, steps: list[RunStep] | None = None) -> dict:
    workflow = _workflow(run)
    data = {
        "id": run.pk,
        "agent": run.agent_id,
        "workflow": workflow,
        "conversation": run.conversation_id,
        "version": (
            run.version.number if workflow is None else run.workflow_run.version.number
        ),
        "owner": run.owner.username,
        "status": run.status,
        "input": run.input,
        "model": run_model(run, steps),
        "final_output": run.final_output,
        "error": run.error,
        "error_code": run.error_code,
        "usage": run.usage,
        "cost": as_credits(run.cost),
        "latency_ms": run.latency_ms,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }
    if steps is not None:
        data["steps"] = [step_to_dict(step) for step in steps]
    return data
