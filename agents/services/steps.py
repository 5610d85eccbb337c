"""Saving run steps and telling watchers: the database first, then the push."""

from __future__ import annotations

from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from agents.models import Run, RunStatus, RunStep
from agents.payloads import run_event, run_to_dict, step_to_dict
from config import metrics, requestid
from config.live import publish_from_sync, user_event_push, user_event_send


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
    cost: int = 0,
) -> RunStep:
    """One INSERT in its own transaction, so the step is visible before its push.

    ``order`` comes from the run's only writer (the worker that claimed it),
    and the database's unique (run, order) constraint backs that up.
    """
    step = _step_checked(
        run=run,
        order=order,
        type=type,
        payload=payload,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
        cost=cost,
    )
    step.save(force_insert=True)
    metrics.observe_step(type, latency_ms)
    return step


def run_step_save_while_running(
    *,
    run: Run,
    order: int,
    type: str,
    payload: dict,
    input_tokens: int = 0,
    output_tokens: int = 0,
    latency_ms: int | None = None,
) -> RunStep | None:
    """Save a step only if its run is still running; None (nothing saved)
    once it was cancelled, swept or deleted.

    One statement, an INSERT from the run's row taken FOR NO KEY UPDATE, so
    a step lands under the run's lock as in a transaction that locks the run
    first (a cancel committed before it leaves no row to insert from), at the
    cost of a bare INSERT: a worker saves one for every event of a run.
    """
    step = _step_checked(
        run=run,
        order=order,
        type=type,
        payload=payload,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
        created_at=timezone.now(),
    )
    fields = [field for field in RunStep._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    # Typed placeholders: an INSERT ... SELECT does not take its columns'
    # types for the values it selects.
    values = ", ".join(f"%s::{field.db_type(connection)}" for field in fields)
    table, runs = quote(RunStep._meta.db_table), quote(Run._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    # Only names from the models' own metadata are formatted in; the values
    # are parameters.
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM {runs} "  # noqa: S608
        "WHERE id = %s AND status = %s FOR NO KEY UPDATE RETURNING id"
    )
    params = [
        field.get_db_prep_save(getattr(step, field.attname), connection)
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, run.pk, RunStatus.RUNNING])
        row = cursor.fetchone()
    if row is None:
        return None
    step.pk = row[0]
    step._state.adding = False
    step._state.db = connection.alias
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
    publish_from_sync(get_channel_layer().group_send, run_events_group(run_id), message)


async def run_status_send(run: Run, *, layer=None) -> None:
    """Tell the run's owner's open pages (/ws/events/) its new status, then
    the run's watchers. /ws/events/ hears a run's status changes but not its
    steps: a client with that socket open before it starts a run needs no
    second one to learn that the run runs and how it ended. Call only after
    the status is committed. The owner's pages hear first: the run's own
    socket is usually opened after the POST's answer, so its watchers lose
    nothing by one publish, while a page already open learns a whole publish
    sooner. (One after the other, not concurrently: the channel layers'
    asyncio locks bind to one event loop, and the worker has one per
    thread.)"""
    layer = layer or get_channel_layer()
    await user_event_send(user_id=run.owner_id, event=run_event(run), layer=layer)
    await layer.group_send(run_events_group(run.pk), status_message(run))


def run_status_push(*, run: Run) -> None:
    """`run_status_send` from synchronous code (the messages are built here:
    they may read the run's relations from the database)."""
    user_event_push(user_id=run.owner_id, event=run_event(run))
    run_push(run_id=run.pk, message=status_message(run))


def run_queued_push(*, run: Run) -> None:
    """Tell the owner's open pages that the run was queued; call after
    commit. Its own socket has no watchers yet."""
    user_event_push(user_id=run.owner_id, event=run_event(run))


def _step_checked(**fields) -> RunStep:
    """A step not yet saved, its fields checked (the run's uniqueness and
    constraints are the database's to enforce)."""
    step = RunStep(**fields)
    step.full_clean(exclude=["run"], validate_unique=False, validate_constraints=False)
    return step
