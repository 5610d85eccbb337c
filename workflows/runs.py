"""Running workflows: starting, carrying out on a worker, pausing for an
approval or for credits, deciding approvals and resuming.

A workflow's run is an ``agents.Run`` without an agent, with a
``WorkflowRun`` beside it; its steps are ordinary run steps, each agent step
tagged with its node (``node``, ``key``), its agent and the model it is priced
at, so the run page, the websocket and ``/api/v1/runs/`` show it like any run.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent, AgentVersion, Run, RunStatus, StepType
from agents.runtime.executor import Outcome, execute
from agents.services.runs import (
    DatabaseRecorder,
    agent_spec,
    model_provider,
    run_claim,
    run_finish,
    run_settle,
    worker_event_loop,
)
from agents.services.steps import (
    run_push,
    run_queued_push,
    run_status_push,
    run_step_save,
    step_message,
)
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import MILLI
from workflows.engine import (
    Engine,
    NodeFailedError,
    WorkflowPausedError,
    WorkflowStoppedError,
)
from workflows.models import PauseReason, Workflow, WorkflowRun, WorkflowVersion

logger = logging.getLogger(__name__)

MAX_COMMENT = 1000
DECISIONS = ("approve", "reject")


def graph_agent_ids(graph: dict) -> set[int]:
    return {
        node[key]
        for node in graph["nodes"]
        for key in ("agent", "fallback_agent")
        if isinstance(node.get(key), int)
    }


def _check_input(input) -> dict:
    limit = settings.AGENT_RUN_INPUT_LIMIT
    if not isinstance(input, str) or not input.strip():
        return {"input": [_("Write something for the workflow to work on.")]}
    if len(input) > limit:
        return {
            "input": [
                _("The input is %(length)d characters long; the limit is %(limit)d.")
                % {"length": len(input), "limit": limit}
            ]
        }
    return {}


def _budget(max_credits) -> tuple[int | None, dict]:
    if max_credits in (None, ""):
        return None, {}
    try:
        cap = billing_services.to_millicredits(max_credits)
    except ValidationError as error:
        return None, {"max_credits": error.messages}
    if cap <= 0:
        return None, {"max_credits": [_("Give a budget above zero, or none.")]}
    return cap, {}


@transaction.atomic
def workflow_run_start(*, workflow: Workflow, user, input, max_credits=None) -> Run:
    """Queue a run of the workflow's latest version on ``input``.

    The agents it uses must still be usable by the workflow's owner; each is
    pinned at its latest version for the whole run. The run holds one budget
    for all its nodes: ``max_credits``, else the site's default per run.
    """
    from config import throttles
    from workflows.graph import clean_graph
    from workflows.services import usable_agents

    throttles.check(user=user, action="run_start")
    errors = _check_input(input)
    cap, budget_errors = _budget(max_credits)
    errors.update(budget_errors)
    if errors:
        raise ValidationError(errors)
    version = WorkflowVersion.objects.get(
        workflow=workflow, number=workflow.version_number
    )
    try:
        graph = clean_graph(version.graph, agent_usable=usable_agents(workflow.owner))
    except ValidationError as error:
        raise ValidationError(
            {
                "graph": [
                    _("The workflow cannot run as it is: %(problems)s")
                    % {"problems": " ".join(error.message_dict.get("graph", []))}
                ]
            }
        ) from None
    agents = Agent.objects.filter(pk__in=graph_agent_ids(graph))
    pins = {str(agent.pk): agent.version_number for agent in agents}
    run = Run.objects.create(agent=None, version=None, owner=user, input=input)
    WorkflowRun.objects.create(
        run=run,
        workflow=workflow,
        version=version,
        state={"agents": pins},
        budget=cap,
    )
    if billing_selectors.credits_enabled():
        _reserve(run, agents, pins, user=user, cap=cap)
    # Runs ever started, for sorting shared workflows (deleting runs keeps it).
    Workflow.objects.filter(pk=workflow.pk).update(run_count=F("run_count") + 1)
    run_step_save(run=run, order=1, type=StepType.USER_REQUEST, payload={"text": input})
    # As agents.services.run_start: `queued` reaches the owner before the
    # worker's `running` can, and a failed push does not stop the enqueue.
    transaction.on_commit(lambda: run_queued_push(run=run), robust=True)
    _enqueue(run)
    return run


def _reserve(run: Run, agents, pins: dict, *, user, cap: int | None) -> None:
    """Give the run its budget, or refuse it (ValidationError on
    ``credits``). It must afford at least its costliest agent's one run."""
    definitions = AgentVersion.objects.filter(
        agent__in=agents, number__in=set(pins.values())
    ).values_list("agent_id", "number", "definition")
    estimate = max(
        (
            billing_selectors.run_estimate(definition=d, input=run.input, owner=user)[
                "milli"
            ]
            for agent_id, number, d in definitions
            if pins.get(str(agent_id)) == number
        ),
        default=1,
    )
    try:
        billing_services.run_reserve(run=run, user=user, cap=cap, minimum=estimate)
    except billing_services.InsufficientCreditsError as error:
        raise ValidationError({"credits": [str(error)]}) from None


def _enqueue(run: Run) -> None:
    from workflows.tasks import workflow_run_execute_task

    transaction.on_commit(lambda: workflow_run_execute_task.delay(run.pk))


class _NodeRecorder:
    """An agent's steps inside a workflow: tagged with the node, the agent and
    the model they are priced at (a handoff target's steps keep their own).
    The agent stops when it has spent its own limit per run (``cap``)."""

    def __init__(self, recorder: DatabaseRecorder, marks: dict, cap=None) -> None:
        self.recorder = recorder
        self.marks = marks
        self.cap = cap
        self.spent = 0
        self.over_cap = False

    async def step(self, type: str, payload: dict, **costs) -> int:
        if type == StepType.FALLBACK:
            # The fallback model prices the rest of this agent's steps.
            self.marks = {**self.marks, "model": payload.get("to") or ""}
        limit = None if self.cap is None else self.cap - self.spent
        order = await self.recorder.step(
            type, {**self.marks, **payload}, cost_limit=limit, **costs
        )
        self.spent += self.recorder.charged.get(order, 0)
        # Like a run's budget: charged less than it cost means spent.
        self.over_cap = self.over_cap or order in self.recorder.capped
        return order

    async def delta(self, text: str) -> None:
        await self.recorder.delta(text)

    async def cancelled(self) -> bool:
        return self.over_cap or await self.recorder.cancelled()


class _Host:
    """What the engine needs of Django: agents run on the executor, steps
    saved and charged by the run's recorder, the state saved."""

    def __init__(self, run: Run, recorder: DatabaseRecorder, provider) -> None:
        self.run = run
        self.recorder = recorder
        self.provider = provider
        pins = run.workflow_run.state.get("agents", {})
        self.agents: dict[int, dict] = {}
        rows = AgentVersion.objects.filter(
            agent_id__in=[int(i) for i in pins]
        ).select_related("agent")
        for row in rows:
            if pins.get(str(row.agent_id)) == row.number:
                self.agents[row.agent_id] = {
                    "name": row.agent.name,
                    "owner_id": row.agent.owner_id,
                    "definition": row.definition,
                }
        self.usage = dict(run.workflow_run.state.get("usage") or {})
        self.metered = billing_selectors.credits_enabled()
        # Model calls of stopped agents that no saved step carries.
        self.unbilled: list[dict] = []

    @property
    def out_of_credits(self) -> bool:
        return self.recorder.out_of_credits

    def agent_name(self, agent_id: int) -> str:
        return (self.agents.get(agent_id) or {}).get("name", f"agent {agent_id}")

    async def run_agent(
        self, agent_id, input, *, marks, output_type=None, instructions=""
    ):
        agent = self.agents.get(agent_id)
        if agent is None:
            message = _(
                "The agent %(id)s was deleted, or its version is gone. Edit the "
                "workflow."
            ) % {"id": agent_id}
            await self.recorder.step(
                "error", {**marks, "kind": "agent_missing", "message": message}
            )
            return Outcome("failed", error=message)
        definition = dict(agent["definition"])
        if output_type is not None:
            definition["output_type"] = output_type
        if instructions:
            own = definition.get("instructions") or ""
            definition["instructions"] = f"{own}\n\n{instructions}".strip()
        spec = await sync_to_async(agent_spec)(
            agent_id=agent_id,
            owner_id=agent["owner_id"],
            definition=definition,
            input=input,
        )
        node_marks = {
            **marks,
            "agent": agent["name"],
            "agent_id": agent_id,
            "model": definition.get("model") or "local/demo",
        }
        # An agent's limit per run is in credits: none when credits are off.
        cap = definition.get("max_credits_per_run") if self.metered else None
        recorder = _NodeRecorder(self.recorder, node_marks, cap=cap)
        outcome = await execute(spec, recorder, self.provider)
        self.unbilled.extend(outcome.unbilled)
        if recorder.over_cap and not self.recorder.out_of_credits:
            # As for a run of the agent: its owner's limit ends it, failed.
            message = _(
                "%(agent)s spent its limit of %(cap)s credits a run and was stopped."
            ) % {"agent": agent["name"], "cap": f"{recorder.cap / MILLI:g}"}
            await self.recorder.step(
                "error", {**node_marks, "kind": "agent_cap", "message": message}
            )
            outcome = Outcome("failed", error=message, usage=outcome.usage)
        for key, value in (outcome.usage or {}).items():
            if isinstance(value, int | float):
                self.usage[key] = self.usage.get(key, 0) + value
        return outcome

    async def step(self, type: str, payload: dict) -> int:
        return await self.recorder.step(type, payload)

    async def save_state(self, state: dict) -> None:
        state["usage"] = self.usage
        await sync_to_async(WorkflowRun.objects.filter(pk=self.run.pk).update)(
            state=state
        )

    async def cancelled(self) -> bool:
        return await self.recorder.cancelled()


def workflow_run_execute(*, run_id: int, worker: str = "", provider=None):
    """Claim the run and carry the workflow on from where it is: the start, or
    where it paused. Called by the Celery task."""
    run = run_claim(run_id=run_id, worker=worker)
    if run is None:
        return None
    workflow_run = run.workflow_run
    last = run.steps.aggregate(last=Max("order"))["last"] or 0
    recorder = DatabaseRecorder(run, next_order=last + 1)
    host = _Host(run, recorder, provider or model_provider(user=run.owner))
    engine = Engine(
        graph=workflow_run.version.graph,
        input=run.input,
        state=dict(workflow_run.state),
        host=host,
        retry_delay=settings.WORKFLOW_RETRY_DELAY,
    )

    async def main() -> None:
        await recorder.status(run)
        await sync_to_async(close_old_connections)()
        paused = None
        try:
            try:
                result = await engine.run()
                outcome = Outcome("completed", final_output=result.text)
            except WorkflowPausedError as pause:
                paused = pause.reason
            except WorkflowStoppedError:
                outcome = Outcome("cancelled")
            except NodeFailedError as failure:
                message = _("The node %(node)s failed: %(reason)s") % {
                    "node": failure.node,
                    "reason": failure.message,
                }
                await recorder.step(
                    "error",
                    {"kind": "node_failed", "node": failure.node, "message": message},
                )
                outcome = Outcome("failed", error=message)
            except Exception as error:
                logger.exception("Workflow run %s failed unexpectedly", run.pk)
                message = f"Unexpected error ({type(error).__name__}): {error}"
                await recorder.step("error", {"kind": "internal", "message": message})
                outcome = Outcome("failed", error=message)
            if paused == PauseReason.CREDITS:
                message = await sync_to_async(billing_selectors.out_of_credits_message)(
                    run=run, paused=True
                )
                await recorder.step(
                    "error", {"kind": "out_of_credits", "message": message}
                )
            await host.save_state(engine.state)
        finally:
            await host.provider.aclose()
            await sync_to_async(close_old_connections)()
        logger.info(
            "Run %s of workflow %s %s on %s",
            run.pk,
            workflow_run.workflow_id,
            f"paused ({paused})" if paused else f"ended {outcome.status}",
            worker,
        )
        if paused is not None:
            changed = await sync_to_async(_pause)(run=run, reason=paused)
        else:
            outcome.usage = host.usage
            changed = await sync_to_async(run_finish)(
                run=run, outcome=outcome, unpaid=recorder.unpaid_for(host.unbilled)
            )
        if changed is not None:
            await recorder.status(changed)
        else:
            await recorder.flush_text()

    worker_event_loop().run_until_complete(main())
    return run


# How many times a workflow run whose worker died is queued again before the
# sweep fails it (a run that kills its workers must not loop forever).
MAX_RECOVERIES = 2


@transaction.atomic
def workflow_run_recover(*, run: Run) -> bool:
    """Queue again a running workflow whose worker died: another worker goes
    on from its state (finished nodes are kept; the node that was running
    starts over). False when it was recovered MAX_RECOVERIES times already:
    the caller fails it."""
    workflow_run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    state = dict(workflow_run.state)
    recoveries = state.get("recoveries", 0)
    if recoveries >= MAX_RECOVERIES:
        return False
    requeued = Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.QUEUED, worker="", queued_at=timezone.now()
    )
    if not requeued:
        return True  # it ended meanwhile: nothing to recover
    state["recoveries"] = recoveries + 1
    WorkflowRun.objects.filter(pk=run.pk).update(state=state)
    step = run_step_save(
        run=run,
        order=_next_order(run),
        type=StepType.NODE,
        payload={
            "event": "recovered",
            "message": _(
                "The worker running this workflow stopped. Another one goes on "
                "from the last finished node."
            ),
        },
    )
    _enqueue(run)
    _told(run, step)
    return True


@transaction.atomic
def _pause(*, run: Run, reason: str) -> Run | None:
    """Pause a running workflow: its hold released, what it spent recorded."""
    paused = Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.PAUSED,
        usage=WorkflowRun.objects.get(pk=run.pk).state.get("usage") or {},
    )
    if not paused:
        return None
    WorkflowRun.objects.filter(pk=run.pk).update(paused_reason=reason)
    run_settle(run)
    return _reloaded(run)


def _reloaded(run: Run) -> Run:
    return Run.objects.select_related(
        "owner", "workflow_run__workflow", "workflow_run__version"
    ).get(pk=run.pk)


def _locked(run: Run, user) -> tuple[Run, WorkflowRun]:
    if run.agent_id is not None:
        raise ValidationError({"run": [_("This is not a workflow's run.")]})
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.owner_id != user.pk:
        raise ValidationError(
            {"run": [_("Only the person who started the run can do that.")]}
        )
    return run, WorkflowRun.objects.select_for_update().get(pk=run.pk)


def _told(run: Run, step) -> Run:
    """The run, reloaded; its watchers get ``step`` and its status on commit."""
    run = _reloaded(run)
    transaction.on_commit(
        lambda: (
            run_push(run_id=run.pk, message=step_message(step)),
            run_status_push(run=run),
        )
    )
    return run


def _next_order(run: Run) -> int:
    return (run.steps.aggregate(last=Max("order"))["last"] or 0) + 1


def _resume(run: Run, workflow_run: WorkflowRun, user, amount: int) -> None:
    """Hold ``amount`` again and queue the run for a worker."""
    try:
        billing_services.run_reserve_again(run=run, user=user, amount=amount)
    except billing_services.InsufficientCreditsError as error:
        raise ValidationError({"credits": [str(error)]}) from None
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.QUEUED, finished_at=None, queued_at=timezone.now()
    )
    WorkflowRun.objects.filter(pk=run.pk).update(paused_reason="")
    _enqueue(run)


def _remaining(run: Run, workflow_run: WorkflowRun) -> int:
    total = workflow_run.budget
    if total is None:
        total = billing_services.to_millicredits(settings.CREDITS_RUN_BUDGET)
    charged = billing_selectors.run_charged(run=run) or 0
    return max(total - charged, 0)


@transaction.atomic
def workflow_run_decide(*, run: Run, user, decision, comment="", key=None) -> Run:
    """Approve or reject what a paused workflow waits for. Once nothing else
    waits, the run goes on (a rejection fails the node, and with it the
    workflow or its branch)."""
    run, workflow_run = _locked(run, user)
    errors = {}
    if decision not in DECISIONS:
        errors["decision"] = [_("approve or reject.")]
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        errors["comment"] = [
            _("Text, at most %(count)d characters.") % {"count": MAX_COMMENT}
        ]
    waiting = workflow_run.waiting
    if run.status != RunStatus.PAUSED or not waiting:
        errors["run"] = [_("This run is not waiting for an approval.")]
    elif key in (None, ""):
        if len(waiting) > 1:
            errors["key"] = [
                _("It waits for several approvals; say which: %(keys)s.")
                % {"keys": ", ".join(w["key"] for w in waiting)}
            ]
        else:
            key = waiting[0]["key"]
    elif not any(w["key"] == key for w in waiting):
        errors["key"] = [_("It does not wait for %(key)s.") % {"key": key}]
    if errors:
        raise ValidationError(errors)
    state = dict(workflow_run.state)
    state["decisions"] = {
        **state.get("decisions", {}),
        key: {
            "decision": decision,
            "by": user.username,
            "comment": comment.strip(),
            "at": timezone.now().isoformat(),
        },
    }
    state["waiting"] = [w for w in waiting if w["key"] != key]
    WorkflowRun.objects.filter(pk=run.pk).update(state=state)
    node = next(w["node"] for w in waiting if w["key"] == key)
    step = run_step_save(
        run=run,
        order=_next_order(run),
        type=StepType.APPROVAL,
        payload={
            "node": node,
            "key": key,
            "event": "approved" if decision == "approve" else "rejected",
            "by": user.username,
            "comment": comment.strip(),
        },
    )
    if not state["waiting"]:
        workflow_run.refresh_from_db()
        _resume(run, workflow_run, user, max(_remaining(run, workflow_run), 1))
    return _told(run, step)


@transaction.atomic
def workflow_run_resume(*, run: Run, user, max_credits=None) -> Run:
    """Go on with a workflow paused when it ran out of credits, with
    ``max_credits`` more to spend (the site's default budget if none)."""
    run, workflow_run = _locked(run, user)
    cap, errors = _budget(max_credits)
    if run.status != RunStatus.PAUSED or workflow_run.paused_reason != (
        PauseReason.CREDITS
    ):
        errors["run"] = [_("Only a run paused for credits can be resumed.")]
    if errors:
        raise ValidationError(errors)
    amount = cap or billing_services.to_millicredits(settings.CREDITS_RUN_BUDGET)
    charged = billing_selectors.run_charged(run=run) or 0
    WorkflowRun.objects.filter(pk=run.pk).update(budget=charged + amount)
    _resume(run, workflow_run, user, amount)
    step = run_step_save(
        run=run,
        order=_next_order(run),
        type=StepType.NODE,
        payload={"event": "resumed", "budget": f"{amount / MILLI:g}"},
    )
    return _told(run, step)
