"""Saving run steps and telling watchers: the database first, then the push."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from agents.models import Run, RunStep
from agents.payloads import run_to_dict, step_to_dict
from config import metrics, requestid


def run_events_group(run_id: int) -> str:
    return f"run.{run_id}"


def run_step_save(
    *,
    run: Run,
    order: int,
    type: str,
    payload: dict,
    input_tokens: int = 0,
    output_tokens: int = 0,
    latency_ms: int | None = None,
) -> RunStep:
    """One INSERT in its own transaction, so the step is visible before its push.

    ``order`` comes from the run's only writer (the worker that claimed it),
    and the database's unique (run, order) constraint backs that up.
    """
    step = RunStep(
        run=run,
        order=order,
        type=type,
        payload=payload,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
    )
    step.full_clean(exclude=["run"], validate_unique=False, validate_constraints=False)
    step.save(force_insert=True)
    metrics.observe_step(type, latency_ms)
    return step


def _traced(message: dict) -> dict:
    """The message with the id of the request whose work it reports (the one
    that started the run, carried into the worker's task), so one id ties the
    request, its task's log lines and what the watchers receive."""
    request_id = requestid.current()
    return {**message, "request_id": request_id} if request_id else message


def step_message(step: RunStep) -> dict:
    return _traced({"type": "run.step", "step": step_to_dict(step)})


def delta_message(text: str) -> dict:
    return {"type": "run.delta", "text": text}


def status_message(run: Run) -> dict:
    return _traced(
        {"type": "run.status", "status": run.status, "run": run_to_dict(run)}
    )


def run_push(*, run_id: int, message: dict) -> None:
    """Send to the run's watchers; call only after the data is committed."""
    async_to_sync(get_channel_layer().group_send)(run_events_group(run_id), message)
