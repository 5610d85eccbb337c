"""Starting, executing, cancelling, deleting and sweeping runs."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import close_old_connections, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from agents import selectors
from agents.models import (
    Agent,
    Conversation,
    CustomTool,
    Run,
    RunStatus,
    RunStep,
    StepType,
)
from agents.runtime.executor import (
    AGENT_TOOL_PREFIX,
    MAX_AGENT_TOOL_DEPTH,
    Outcome,
    RunSpec,
    execute,
)
from agents.runtime.providers import AgentryModelProvider, Credentials
from agents.selectors.handoffs import handoff_graph
from agents.services.steps import (
    delta_message,
    run_events_group,
    run_push,
    run_queued_push,
    run_status_push,
    run_status_send,
    run_step_save,
    run_step_save_while_running,
    step_message,
)
from billing import pricing
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import MILLI
from config import crypto, heartbeat

logger = logging.getLogger(__name__)


@transaction.atomic
def run_start(
    *,
    agent: Agent,
    user,
    input,
    version=None,
    conversation: Conversation | None = None,
    max_credits=None,
) -> Run:
    """Queue a run of ``agent`` (its latest version, or ``version`` by number).

    The run continues ``conversation`` when given (it must be the user's, with
    this agent); otherwise it starts a new one, titled after the input. It
    has a budget of the user's credits: the lowest of ``max_credits``, the
    agent's ``max_credits_per_run`` and what is available (the site's default
    budget when neither cap is given), of which it holds a part that grows as
    it spends. It cannot start without credits, nor when its estimate is above
    the agent's cap; with credits off it holds and costs nothing.
    """
    from config import throttles

    throttles.check(user=user, action="run_start")
    errors = {}
    if conversation is not None and (
        conversation.owner_id != user.pk or conversation.agent_id != agent.pk
    ):
        errors["conversation_id"] = [
            _("That conversation is not yours with this agent.")
        ]
    limit = settings.AGENT_RUN_INPUT_LIMIT
    if not isinstance(input, str) or not input.strip():
        errors["input"] = [_("Write something for the agent to work on.")]
    elif len(input) > limit:
        errors["input"] = [
            _("The input is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(input), "limit": limit}
        ]
    if version in (None, ""):
        agent_version = selectors.version_latest(agent=agent)
    else:
        agent_version = None
        if isinstance(version, bool) or not str(version).isdigit():
            errors["version"] = [_("The version must be a version number, e.g. 1.")]
        else:
            agent_version = selectors.version_get(agent=agent, number=version)
            if agent_version is None:
                errors["version"] = [
                    _("This agent has no version %(number)s; its latest is %(latest)d.")
                    % {"number": version, "latest": agent.version_number}
                ]
    cap = None
    if max_credits not in (None, ""):
        try:
            cap = billing_services.to_millicredits(max_credits)
        except ValidationError as error:
            errors["max_credits"] = error.messages
        else:
            if cap <= 0:
                errors["max_credits"] = [_("Give a budget above zero, or none.")]
    if errors:
        raise ValidationError(errors)
    if conversation is None:
        conversation = Conversation.objects.create(
            owner=user, agent=agent, title=Truncator(input.strip()).chars(80)
        )
    else:
        # Moves it to the top of the user's conversations.
        conversation.save(update_fields=["updated_at"])
    run = Run.objects.create(
        agent=agent,
        version=agent_version,
        owner=user,
        input=input,
        conversation=conversation,
    )
    if billing_selectors.credits_enabled():
        _run_reserve(run, agent_version, user=user, cap=cap)
    # Runs ever started, for "most run" and trending (deleting runs keeps it).
    Agent.objects.filter(pk=agent.pk).update(run_count=F("run_count") + 1)
    run_step_save(run=run, order=1, type=StepType.USER_REQUEST, payload={"text": input})
    from agents.tasks import run_execute_task

    # The owner hears `queued` before the task can be taken, so never after
    # the worker's `running`; a push that fails does not stop the enqueue.
    transaction.on_commit(lambda: run_queued_push(run=run), robust=True)
    transaction.on_commit(lambda: run_execute_task.delay(run.pk))
    return run


def run_cost_estimate(*, agent: Agent, definition: dict, input: str) -> dict:
    """What a run of ``agent`` (as ``definition``, one of its versions) on
    ``input`` will probably cost: billing.selectors.run_estimate, with the
    handoffs the run may make and the agents it may use as tools."""
    agent_tools: dict[str, dict] = {}
    _load_agent_tools(
        definition, owner_id=agent.owner_id, agent_tools=agent_tools, custom_tools={}
    )
    return billing_selectors.run_estimate(
        definition=definition,
        input=input,
        owner=agent.owner,
        agent_id=agent.pk,
        handoffs=handoff_graph(agent_id=agent.pk, scoped=with_file_scope),
        agent_tools=agent_tools,
    )


def _run_reserve(run: Run, agent_version, *, user, cap: int | None) -> None:
    """Give the run its budget, or refuse it (ValidationError on
    ``credits``)."""
    estimate = run_cost_estimate(
        agent=run.agent, definition=agent_version.definition, input=run.input
    )
    # The owner's cap, as the run's version has it: the budget is the lower
    # of it and the starter's, and a run estimated above it cannot start.
    agent_cap = agent_version.definition.get("max_credits_per_run")
    if agent_cap is not None:
        if estimate["milli"] > agent_cap:
            raise ValidationError(
                {
                    "credits": [
                        _(
                            "This run needs about %(needed)s credits, more than "
                            "the %(cap)s this agent allows a run. Shorten the "
                            "input, or ask the agent's owner to raise the limit."
                        )
                        % {
                            "needed": f"{estimate['milli'] / MILLI:g}",
                            "cap": f"{agent_cap / MILLI:g}",
                        }
                    ]
                }
            )
        cap = agent_cap if cap is None else min(cap, agent_cap)
    try:
        billing_services.run_reserve(
            run=run, user=user, cap=cap, minimum=estimate["milli"]
        )
    except billing_services.InsufficientCreditsError as error:
        # Nothing of the run is kept: the transaction rolls back.
        raise ValidationError({"credits": [str(error)]}) from None


def run_claim(*, run_id: int, worker: str) -> Run | None:
    """Take a queued run for this worker; None if it was cancelled or taken."""
    claimed = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), worker=worker
    )
    if not claimed:
        return None
    return Run.objects.select_related(
        "agent", "version", "workflow_run__workflow", "workflow_run__version", "owner"
    ).get(pk=run_id)


def _run_locked(run_id: int) -> str | None:
    """Lock the run's row and return its status (None once it is deleted).

    Whatever ends a run or charges it takes this lock first, and only then
    the credit account's (billing.services): one order everywhere, so the
    worker's charges and a cancel never wait on each other in a circle. A
    step is saved under it too, so none lands after the run stopped.
    """
    return (
        Run.objects.select_for_update(no_key=True)
        .filter(pk=run_id)
        .order_by("pk")
        .values_list("status", flat=True)
        .first()
    )


@transaction.atomic
def run_settle(run: Run) -> None:
    """Give back the run's unused budget and record what it cost."""
    _run_locked(run.pk)
    billing_services.run_release(run=run)
    charged = billing_selectors.run_charged(run=run)
    if charged is not None:
        Run.objects.filter(pk=run.pk).update(cost=charged)


@transaction.atomic
def run_finish(
    *, run: Run, outcome: Outcome, unpaid: Unpaid | None = None
) -> Run | None:
    """Record how the run ended, unless it was cancelled or swept meanwhile.

    A run cancelled while it ran is settled here, by its worker: ``unpaid``
    (what its worker consumed that no saved step was charged: model calls cut
    short, steps it could no longer save) is charged to the cancellation's
    step, and only then is the rest of the hold given back.
    Returns the finished run, whose new status the caller tells the watchers.
    """
    status = _run_locked(run.pk)
    if status is None:
        return None  # deleted: run_delete gave its hold back
    if status != RunStatus.RUNNING:
        if status == RunStatus.CANCELLED and unpaid is not None:
            _charge_to_cancellation(run, unpaid)
        run_settle(run)
        return None
    Run.objects.filter(pk=run.pk).update(
        status=(
            RunStatus.CANCELLED
            if outcome.status == RunStatus.CANCELLED
            else outcome.status
        ),
        final_output=outcome.final_output,
        error=outcome.error,
        error_code=outcome.error_code,
        usage=outcome.usage,
        finished_at=timezone.now(),
    )
    run_settle(run)
    return Run.objects.select_related(
        "agent", "version", "workflow_run__workflow", "workflow_run__version", "owner"
    ).get(pk=run.pk)


def _charge_to_cancellation(run: Run, unpaid: Unpaid) -> None:
    """Charge what the stopped worker consumed to the step that says the run
    was cancelled, with its tokens, and tell the watchers."""
    step = run.steps.filter(type=StepType.CANCELLED).order_by("-order").first()
    if step is None or step.cost or not (unpaid.cost or unpaid.tokens()):
        return  # settled already, or nothing to charge
    charged = 0
    if unpaid.cost > 0:
        charged, _exhausted = billing_services.run_charge(
            run=run,
            amount=unpaid.cost,
            key=f"run:{run.pk}:step:{step.order}",
            description=f"{run_title(run)}: {step.get_type_display()}",
        )
    step.cost = charged
    step.input_tokens, step.output_tokens = unpaid.input_tokens, unpaid.output_tokens
    step.save(update_fields=["cost", "input_tokens", "output_tokens"])
    transaction.on_commit(lambda: run_push(run_id=run.pk, message=step_message(step)))


@dataclass
class Unpaid:
    """What a stopped worker consumed that no saved step was charged."""

    cost: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, cost: int, costs: dict) -> None:
        self.cost += cost
        self.input_tokens += costs.get("input_tokens") or 0
        self.output_tokens += costs.get("output_tokens") or 0


# Text deltas are sent at most this often (seconds); a model streaming word by
# word would otherwise cost one channel-layer publish per word.
DELTA_INTERVAL = 0.05


class _Meter:
    """What each step costs: its tokens at its model's catalog price (the
    fallback's after a ``fallback`` step; a nested agent's own model), and a
    tool call at the tool's price."""

    def __init__(self, run: Run) -> None:
        # Read here, in the worker's sync code: steps are charged from async.
        # A workflow's steps each name their agent's model.
        definition = run.version.definition if run.version_id else {}
        self.model = definition.get("model") or "local/demo"
        self.prices = {
            model.identifier: (model.input_price_per_1k, model.output_price_per_1k)
            for model in selectors.model_list_active()
        }
        self.tools = billing_selectors.tool_prices()

    def _price(self, identifier: str) -> tuple:
        # A model the catalog does not price (a user's own endpoint's):
        # the open-source rate.
        default = (pricing.DEFAULT_PER_1K, pricing.DEFAULT_PER_1K)
        return self.prices.get(identifier, default)

    def cost(self, type: str, payload: dict, costs: dict) -> int:
        if type == StepType.FALLBACK:
            self.model = payload.get("to") or self.model
            return 0
        milli = 0
        tokens_in, tokens_out = (
            costs.get("input_tokens", 0),
            costs.get("output_tokens", 0),
        )
        if tokens_in or tokens_out:
            price_in, price_out = self._price(payload.get("model") or self.model)
            milli += pricing.model_turn_cost(
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                input_per_1k=price_in,
                output_per_1k=price_out,
            )
        if type == StepType.TOOL_CALL:
            price = self.tools.get(payload.get("name", ""))
            if price is not None:
                milli += pricing.tool_call_cost(per_call=price.per_call)
        return milli


def run_step_record(
    *, run: Run, order: int, type: str, payload: dict, cost: int = 0, **costs
) -> tuple[RunStep, bool] | None:
    """Save a step and charge what it cost, together. Returns the step and
    whether the run's budget ran out (the run must stop); None, saving and
    charging nothing, when the run is no longer running (cancelled, swept or
    deleted): its worker must stop."""
    if cost <= 0:
        # Most steps cost nothing: one statement, under the run's lock too.
        step = run_step_save_while_running(
            run=run, order=order, type=type, payload=payload, **costs
        )
        return None if step is None else (step, False)
    return _run_step_record_charged(
        run=run, order=order, type=type, payload=payload, cost=cost, **costs
    )


@transaction.atomic
def _run_step_record_charged(
    *, run: Run, order: int, type: str, payload: dict, cost: int, **costs
) -> tuple[RunStep, bool] | None:
    if _run_locked(run.pk) != RunStatus.RUNNING:
        return None
    # Charged first, in the same transaction, so the step is saved once with
    # what it was charged (no UPDATE after the INSERT).
    what = RunStep(type=type).get_type_display()
    if payload.get("node"):
        # A workflow's step: which node, and which agent.
        what = f"{payload['node']} ({payload.get('agent', '')}): {what}"
    charged, exhausted = billing_services.run_charge(
        run=run,
        amount=cost,
        key=f"run:{run.pk}:step:{order}",
        description=f"{run_title(run)}: {what}",
    )
    step = run_step_save(
        run=run, order=order, type=type, payload=payload, cost=charged, **costs
    )
    return step, exhausted


def run_title(run: Run) -> str:
    """The agent's name, or the workflow's."""
    if run.agent_id is not None:
        return run.agent.name
    return run.workflow_run.workflow.name


class DatabaseRecorder:
    """Saves each step (committed) and charges it before pushing it; pushes
    text deltas. When the run's budget runs out, it reports the run as to be
    stopped (``cancelled()``) and ``out_of_credits``. Once the run is no
    longer running it saves and sends nothing more (``stopped``), and adds
    up what the steps it could not save cost (``unpaid``). ``step`` returns
    the step's order (None when it was not saved)."""

    # Between stream events the run's status is read at most this often.
    STATUS_INTERVAL = 0.2

    def __init__(self, run: Run, next_order: int) -> None:
        self.run = run
        self.meter = _Meter(run)
        self.out_of_credits = False
        self.stopped = False
        self.unpaid = Unpaid()
        self.status_read_at = 0.0
        self.order = next_order
        self.group = run_events_group(run.pk)
        self.layer = get_channel_layer()
        self.pending_text: list[str] = []
        self.last_delta = 0.0
        self.lock = asyncio.Lock()
        # What each step was charged, by order, and the steps charged less
        # than they cost (a workflow's node keeps its agent's limit per run).
        self.charged: dict[int, int] = {}
        self.capped: set[int] = set()

    async def step(self, type, payload, *, cost_limit=None, **costs) -> int | None:
        """Save, charge and push a step; returns its order. ``cost_limit``
        charges at most that much (a workflow node's agent keeps its own limit
        per run); ``capped`` then holds the orders charged less than cost."""
        # Steps can come at once (an agent run as a tool streams its own while
        # the outer run waits): one at a time keeps orders unique and in order.
        async with self.lock:
            # Text streamed so far goes out before the step that completes it.
            await self.flush_text()
            order, self.order = self.order, self.order + 1
            cost = self.meter.cost(type, payload, costs)
            if cost_limit is not None and cost > cost_limit:
                cost = max(cost_limit, 0)
                self.capped.add(order)
            recorded = None
            if not self.stopped:
                recorded = await sync_to_async(run_step_record)(
                    run=self.run,
                    order=order,
                    type=type,
                    payload=payload,
                    cost=cost,
                    **costs,
                )
            if recorded is None:
                # Consumed all the same: charged when the run is settled.
                self.stopped = True
                self.pending_text = []
                self.unpaid.add(cost, costs)
                return None
            step, exhausted = recorded
            self.out_of_credits = self.out_of_credits or exhausted
            if step.cost:
                self.charged[order] = step.cost
            await self.layer.group_send(self.group, step_message(step))
            return order

    async def delta(self, text: str) -> None:
        if self.stopped:
            return
        self.pending_text.append(text)
        if time.monotonic() - self.last_delta >= DELTA_INTERVAL:
            await self.flush_text()

    async def flush_text(self) -> None:
        if self.pending_text:
            text, self.pending_text = "".join(self.pending_text), []
            self.last_delta = time.monotonic()
            await self.layer.group_send(self.group, delta_message(text))

    async def status(self, run: Run) -> None:
        await self.flush_text()
        await run_status_send(run, layer=self.layer)

    async def cancelled(self) -> bool:
        """Whether to stop: out of credits, or the run was cancelled, swept or
        deleted meanwhile. Asked between stream events, so the database is
        read at most every STATUS_INTERVAL."""
        if self.out_of_credits or self.stopped:
            return True
        now = time.monotonic()
        if now - self.status_read_at < self.STATUS_INTERVAL:
            return False
        self.status_read_at = now
        running = await sync_to_async(
            Run.objects.filter(pk=self.run.pk, status=RunStatus.RUNNING).exists
        )()
        self.stopped = not running
        if self.stopped:
            self.pending_text = []
        return self.stopped

    def unpaid_for(self, unbilled: list[dict]) -> Unpaid:
        """What the stopped run consumed and was not charged: the steps it
        could not save, and the model calls no saved step carries
        (``Outcome.unbilled``)."""
        unpaid = Unpaid(**vars(self.unpaid))
        for call in unbilled:
            unpaid.add(self.meter.cost("", {"model": call["model"]}, call), call)
        return unpaid


def _references(definition: dict, prefix: str) -> list[int]:
    return [
        int(name[len(prefix) :])
        for name in definition.get("tools", [])
        if name.startswith(prefix) and name[len(prefix) :].isdigit()
    ]


def _custom_tools_for(definition: dict, *, owner_id: int) -> dict[str, dict]:
    """The agent's custom tools, secrets decrypted. Only the agent owner's
    tools: whoever runs a public agent uses the owner's webhooks, never their
    own."""
    custom_tools = {}
    references = _references(definition, "custom/")
    if not references:
        return custom_tools  # most agents: no query to build and send
    for tool in CustomTool.objects.filter(pk__in=references, owner_id=owner_id):
        custom_tools[tool.reference] = {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
            "url": tool.webhook_url,
            "secret_header": (
                (tool.secret_header_name, crypto.decrypt(tool.secret_header_value))
                if tool.secret_header_name
                else None
            ),
        }
    return custom_tools


def _load_agent_tools(
    definition: dict,
    *,
    owner_id: int,
    agent_tools: dict[str, dict],
    custom_tools: dict[str, dict],
    depth: int = 0,
) -> None:
    """The agents ``definition`` uses as tools (the latest version of each, if
    its owner may still use it), and theirs in turn, down to the depth limit."""
    references = _references(definition, AGENT_TOOL_PREFIX)
    # Most agents use no agent as a tool: no query to build (starting a run
    # estimates its cost through here).
    if depth >= MAX_AGENT_TOOL_DEPTH or not references:
        return
    usable = selectors.agent_tool_candidates(owner_id=owner_id).filter(
        pk__in=references
    )
    for agent in usable:
        reference = f"{AGENT_TOOL_PREFIX}{agent.pk}"
        if reference in agent_tools:
            continue
        nested = with_file_scope(
            agent.versions.get(number=agent.version_number).definition,
            agent_id=agent.pk,
            owner_id=agent.owner_id,
        )
        agent_tools[reference] = {
            "tool_name": agent.tool_name,
            "description": agent.description,
            "definition": nested,
        }
        custom_tools.update(_custom_tools_for(nested, owner_id=agent.owner_id))
        _load_agent_tools(
            nested,
            owner_id=agent.owner_id,
            agent_tools=agent_tools,
            custom_tools=custom_tools,
            depth=depth + 1,
        )


def with_file_scope(definition: dict, *, agent_id: int, owner_id: int) -> dict:
    """``definition`` with what its file_search may search, if it has that
    tool: the agent owner's files attached to the agent, whoever runs it."""
    from agents.runtime.executor import FILE_SCOPE_KEY, FILE_SEARCH

    if FILE_SEARCH not in (definition.get("tools") or []):
        return definition
    from files.selectors import agent_file_scope

    scope = agent_file_scope(agent_id=agent_id, owner_id=owner_id)
    return {**definition, FILE_SCOPE_KEY: scope}


def run_spec_for(run: Run) -> RunSpec:
    return agent_spec(
        agent_id=run.agent_id,
        owner_id=run.agent.owner_id,
        definition=run.version.definition,
        input=conversation_input(run),
    )


def agent_spec(
    *, agent_id: int, owner_id: int, definition: dict, input: str | list[dict]
) -> RunSpec:
    """What the executor needs to run ``definition`` (a version of the agent
    ``agent_id``, owned by ``owner_id``) on ``input``: its files, webhook
    tools, agents used as tools, handoffs and guard agents, each its own
    owner's."""
    definition = with_file_scope(definition, agent_id=agent_id, owner_id=owner_id)
    custom_tools = _custom_tools_for(definition, owner_id=owner_id)
    agent_tools: dict[str, dict] = {}
    _load_agent_tools(
        definition,
        owner_id=owner_id,
        agent_tools=agent_tools,
        custom_tools=custom_tools,
    )
    handoffs, handoff_definitions = handoff_graph(
        agent_id=agent_id, scoped=with_file_scope
    )
    owners = dict(
        Agent.objects.filter(pk__in=handoff_definitions).values_list("pk", "owner_id")
    )
    for target_id, target in handoff_definitions.items():
        # A target's webhook tools and agent tools are its own owner's.
        custom_tools.update(_custom_tools_for(target, owner_id=owners[target_id]))
        _load_agent_tools(
            target,
            owner_id=owners[target_id],
            agent_tools=agent_tools,
            custom_tools=custom_tools,
        )
    # Guard agents of the run's agent and of the agents it may hand off to.
    guard_ids = {
        stage.get("guard_agent")
        for each in [definition, *handoff_definitions.values()]
        for stage in (each.get("guardrails") or {}).values()
        if stage.get("guard_agent")
    }
    guards = {
        agent.pk: agent.versions.get(number=agent.version_number).definition
        for agent in Agent.objects.filter(pk__in=guard_ids)
    }
    return RunSpec(
        definition=definition,
        input=input,
        agent_id=agent_id,
        handoffs=handoffs,
        handoff_definitions=handoff_definitions,
        custom_tools=custom_tools,
        agent_tools=agent_tools,
        disabled_tools=selectors.disabled_tool_names(),
        max_turns=settings.AGENT_RUN_MAX_TURNS,
        timeout=settings.AGENT_RUN_TIMEOUT,
        retries=settings.AGENT_PROVIDER_RETRIES,
        retry_delay=settings.AGENT_PROVIDER_RETRY_DELAY,
        guard_definitions=guards,
    )


def conversation_input(run: Run) -> str | list[dict]:
    """The run's input, after the earlier completed turns of its conversation.

    Each earlier turn is the user's message and the agent's final output; turns
    that failed or were cancelled are left out, and only the latest
    AGENT_CONVERSATION_TURNS count.
    """
    if run.conversation_id is None:
        return run.input
    earlier = list(
        Run.objects.filter(
            conversation_id=run.conversation_id,
            status=RunStatus.COMPLETED,
            pk__lt=run.pk,
        )
        .order_by("-pk")
        .values_list("input", "final_output")[: settings.AGENT_CONVERSATION_TURNS]
    )
    if not earlier:
        return run.input
    items: list[dict] = []
    for text, output in reversed(earlier):
        answer = output if isinstance(output, str) else json.dumps(output)
        items.append({"role": "user", "content": text})
        items.append({"role": "assistant", "content": answer})
    items.append({"role": "user", "content": run.input})
    return items


def _site_credentials() -> dict[str, Credentials]:
    pairs = {
        "openai": (settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL),
        "compatible": (
            settings.OPENAI_COMPATIBLE_API_KEY,
            settings.OPENAI_COMPATIBLE_BASE_URL,
        ),
        "anthropic": (settings.ANTHROPIC_API_KEY, settings.ANTHROPIC_BASE_URL),
        "gemini": (settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL),
    }
    credentials = {
        provider: Credentials(api_key=key, base_url=base_url)
        for provider, (key, base_url) in pairs.items()
        if key or base_url
    }
    if settings.OLLAMA_BASE_URL:
        # Ollama's OpenAI-compatible API is under /v1 of its base URL.
        credentials["ollama"] = Credentials(
            base_url=settings.OLLAMA_BASE_URL.rstrip("/") + "/v1"
        )
    if settings.AZURE_OPENAI_ENDPOINT and settings.AZURE_OPENAI_API_KEY:
        credentials["azure"] = Credentials(
            api_key=settings.AZURE_OPENAI_API_KEY,
            base_url=settings.AZURE_OPENAI_ENDPOINT,
            api_version=settings.AZURE_OPENAI_API_VERSION,
        )
    return credentials


def model_provider(*, user) -> AgentryModelProvider:
    """Models for ``user``'s run: their own provider keys first, then the site's."""
    credentials = _site_credentials()
    for provider, saved in selectors.provider_keys_for_runs(user=user).items():
        site = credentials.get(provider) or Credentials()
        try:
            key = crypto.decrypt(saved.encrypted_key)
        except crypto.DecryptionError as error:
            credentials[provider] = Credentials(problem=str(error), source="yours")
            continue
        if provider in ("compatible", "azure"):
            # A user's endpoint is where they said, checked like outbound HTTP.
            credentials[provider] = Credentials(
                api_key=key,
                base_url=saved.base_url,
                api_version=settings.AZURE_OPENAI_API_VERSION,
                check_address=True,
                source="yours",
            )
        else:
            # The site's base URL (a proxy, say) still applies to the user's key.
            credentials[provider] = Credentials(
                api_key=key, base_url=site.base_url, source="yours"
            )
    return AgentryModelProvider(
        credentials, timeout=settings.AGENT_MODEL_REQUEST_TIMEOUT
    )


_loops = threading.local()


def worker_event_loop() -> asyncio.AbstractEventLoop:
    """One event loop per worker thread, kept between runs.

    The channel layer keeps its connections per event loop; a fresh loop for
    every run (asyncio.run) would open new ones each time.
    """
    loop = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop


async def _out_of_credits(recorder: DatabaseRecorder, outcome: Outcome) -> Outcome:
    """The run could hold no more credits: it fails saying why, its steps
    kept."""
    message = await sync_to_async(billing_selectors.out_of_credits_message)(
        run=recorder.run
    )
    await recorder.step("error", {"kind": "out_of_credits", "message": message})
    return Outcome(
        "failed", error=message, usage=outcome.usage, error_code="out_of_credits"
    )


def run_execute(*, run_id: int, worker: str = "", provider=None) -> Run | None:
    """Claim the run and carry it out to the end. Called by the Celery task."""
    run = run_claim(run_id=run_id, worker=worker)
    if run is None:
        return None
    loop = worker_event_loop()
    # Watchers and the owner's pages hear `running` first, before the prices,
    # the spec and the model's keys are read (several statements).
    loop.run_until_complete(run_status_send(run))
    # A run is claimed once, right after run_start saved its one step.
    recorder = DatabaseRecorder(run, next_order=2)
    spec = run_spec_for(run)
    provider = provider or model_provider(user=run.owner)

    async def main() -> None:
        # Steps are saved on asgiref's shared thread; make sure its connection
        # is usable (and not kept past CONN_MAX_AGE).
        await sync_to_async(close_old_connections)()
        try:
            outcome = await execute(spec, recorder, provider)
            if recorder.out_of_credits and not recorder.stopped:
                outcome = await _out_of_credits(recorder, outcome)
        finally:
            await provider.aclose()
            await sync_to_async(close_old_connections)()
        finished = await sync_to_async(run_finish)(
            run=run, outcome=outcome, unpaid=recorder.unpaid_for(outcome.unbilled)
        )
        logger.info(
            "Run %s of agent %s ended %s on %s",
            run.pk,
            run.agent_id,
            outcome.status,
            worker,
        )
        if finished is not None:
            await recorder.status(finished)
        else:
            await recorder.flush_text()

    loop.run_until_complete(main())
    return run


@transaction.atomic
def run_cancel(*, run: Run) -> Run:
    """Stop a queued, running or paused run, and say so in a last step.

    A running run's worker stops at its next stream event (or within
    CANCEL_POLL_INTERVAL when nothing streams) and saves nothing more; it
    then charges what it consumed before stopping to the cancellation's step
    and gives back the rest of the hold (run_finish). Any other run is
    settled here.
    """
    status = _run_locked(run.pk)
    if status not in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED):
        run.refresh_from_db()
        raise ValidationError(
            {"status": [_("The run has already finished (%(s)s).") % {"s": run.status}]}
        )
    message = _("Cancelled before it finished.")
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.CANCELLED, error=message, finished_at=timezone.now()
    )
    order = (run.steps.aggregate(last=Max("order"))["last"] or 0) + 1
    step = run_step_save(
        run=run,
        order=order,
        type=StepType.CANCELLED,
        payload={"message": message, "was": status},
    )
    if status != RunStatus.RUNNING:
        run_settle(run)
    run.refresh_from_db()
    transaction.on_commit(
        lambda: (
            run_push(run_id=run.pk, message=step_message(step)),
            run_status_push(run=run),
        )
    )
    return run


@transaction.atomic
def run_delete(*, run: Run) -> None:
    """Delete a run and its steps. A worker still running it stops within a
    second (it stops once its run is no longer `running`); a queued one is
    never claimed."""
    run_settle(run)
    run.delete()


@transaction.atomic
def run_delete_many(*, user, run_ids) -> int:
    """Delete those of ``run_ids`` that ``user`` started; return how many."""
    ids = [int(i) for i in run_ids if str(i).isdigit()]
    runs = Run.objects.filter(owner=user, pk__in=ids)
    # Only runs still holding a budget (queued or running) have any to give back.
    for run in runs.filter(budget__released_at__isnull=True):
        run_settle(run)
    _total, deleted = runs.delete()
    return deleted.get(Run._meta.label, 0)


class AgentlessRuns(NamedTuple):
    """How runs without an agent (a workflow's) are carried out: the app
    that starts them is above this one and registers these in its
    AppConfig.ready() (workflows.apps)."""

    enqueue: Callable[[int], None]  # send the run's task again
    recover: Callable[[Run], bool]  # go on after its worker died; False: fail it


_agentless_runs: list[AgentlessRuns] = []


def agentless_runs_register(*, enqueue, recover) -> None:
    """Register how runs without an agent are sent and recovered (once)."""
    _agentless_runs[:] = [AgentlessRuns(enqueue=enqueue, recover=recover)]


def agentless_runs() -> AgentlessRuns:
    if not _agentless_runs:
        message = "no app registered how runs without an agent are carried out"
        raise ImproperlyConfigured(message)
    return _agentless_runs[0]


def _enqueue(run_id: int, *, workflow: bool) -> None:
    if workflow:
        agentless_runs().enqueue(run_id)
    else:
        from agents.tasks import run_execute_task

        run_execute_task.delay(run_id)


def run_requeue_stale(*, now=None) -> int:
    """Send the task again for runs queued longer than AGENT_RUN_REQUEUE_AFTER.

    A queued run's message can be lost: its worker may be killed between taking
    the message and claiming the run, and the embedded broker delivers at most
    once. A second message is harmless, since a run is claimed once
    (run_claim); each run is sent again at most once per period, so a long
    backlog is not flooded with copies.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.AGENT_RUN_REQUEUE_AFTER)
    stale = Run.objects.filter(status=RunStatus.QUEUED, queued_at__lt=cutoff)
    requeued = 0
    for run_id, agent_id in stale.values_list("pk", "agent_id"):
        with transaction.atomic():
            if not stale.filter(pk=run_id).update(queued_at=now):
                continue  # claimed or requeued meanwhile
            transaction.on_commit(
                lambda run_id=run_id, agent_id=agent_id: _enqueue(
                    run_id, workflow=agent_id is None
                )
            )
        logger.warning("Run %s was queued too long; its task was sent again", run_id)
        requeued += 1
    return requeued


def run_sweep_dead(*, now=None) -> int:
    """Fail running runs whose worker died, or that overran their time limit.

    A worker that is killed cannot mark its run failed; its heartbeat stops
    (config.heartbeat), and this sweep, run periodically by Celery beat, ends
    the run with a reason and an error step.
    """
    now = now or timezone.now()
    live = set(heartbeat.live_workers(now.timestamp()))
    grace = timedelta(seconds=settings.AGENT_RUN_DEAD_WORKER_GRACE)
    overrun = timedelta(seconds=settings.AGENT_RUN_TIMEOUT) + grace
    swept = 0
    candidates = Run.objects.filter(
        status=RunStatus.RUNNING, started_at__lt=now - grace
    )
    for run in candidates:
        # A workflow's time limits are its agents' own, each; it may have
        # been paused for days since it started.
        if run.worker in live and (
            run.agent_id is None or run.started_at > now - overrun
        ):
            continue
        # A workflow goes on from its last finished node on another worker
        # (a few times at most).
        if run.agent_id is None and agentless_runs().recover(run):
            swept += 1
            continue
        message = _(
            "The worker running this run stopped before it finished (it may have "
            "crashed or been restarted). Run it again."
        )
        with transaction.atomic():
            ended = Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.FAILED, error=message, finished_at=now
            )
            if not ended:
                continue
            run_settle(run)
            order = (run.steps.aggregate(last=Max("order"))["last"] or 0) + 1
            step = run_step_save(
                run=run,
                order=order,
                type=StepType.ERROR,
                payload={"kind": "worker_lost", "message": message},
            )
            run.refresh_from_db()
            transaction.on_commit(
                lambda run=run, step=step: (
                    run_push(run_id=run.pk, message=step_message(step)),
                    run_status_push(run=run),
                )
            )
        swept += 1
    return swept + _settle_cancelled_stranded(now=now, live=live)


def _settle_cancelled_stranded(*, now, live: set[str]) -> int:
    """Give back the hold of runs cancelled while running whose worker died
    before settling them (their worker settles them otherwise)."""
    grace = timedelta(seconds=settings.AGENT_RUN_DEAD_WORKER_GRACE)
    overrun = timedelta(seconds=settings.AGENT_RUN_TIMEOUT) + grace
    settled = 0
    stranded = Run.objects.filter(
        status=RunStatus.CANCELLED,
        budget__released_at__isnull=True,
        finished_at__lt=now - grace,
    )
    for run in stranded:
        if run.worker in live and run.finished_at > now - overrun:
            continue
        run_settle(run)
        settled += 1
    return settled
