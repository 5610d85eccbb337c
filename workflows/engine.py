"""Carrying out a workflow's graph (workflows.graph), node by node.

Django-free: the caller hands in a ``Host`` that runs an agent on a text
(saving its steps, tagged with the node), saves steps of its own and saves
the engine's state. The state holds every finished node's result by its
*path* (``polish/2/draft``: the node ``draft`` in the loop ``polish``'s second
round), so a workflow that pauses (an approval, or out of credits) resumes on
any worker by running the graph again: finished nodes answer from the state
at once, without steps or charges.

Top-level nodes follow the edges: a node runs once every node with an edge to
it has finished, and nodes that are ready together run at once. Nodes named
inside another node run there.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from workflows.graph import PLACEHOLDER, inner_nodes

# Agent node retries wait RETRY_DELAY * 2^attempt seconds, at most MAX_DELAY.
MAX_DELAY = 30.0
# How much of a node's output a node step shows (the state keeps all of it).
PREVIEW = 2000

ROUTER_OTHER = "other"
VERDICTS = ("pass", "revise")


def router_schema(categories: list[str]) -> dict:
    return {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": [*categories, ROUTER_OTHER]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["category", "confidence"],
    }


REVIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": list(VERDICTS)},
        "feedback": {"type": "string"},
    },
    "required": ["verdict", "feedback"],
}


class AgentOutcome(Protocol):
    status: str  # completed, failed or cancelled
    final_output: Any
    error: str


class Host(Protocol):
    out_of_credits: bool

    async def run_agent(
        self,
        agent_id: int,
        input: str,
        *,
        marks: dict,
        output_type: dict | None = None,
        instructions: str = "",
    ) -> AgentOutcome: ...

    async def step(self, type: str, payload: dict) -> int: ...

    async def save_state(self, state: dict) -> None: ...

    async def cancelled(self) -> bool: ...

    def agent_name(self, agent_id: int) -> str: ...


@dataclass
class Result:
    """A node's output: its text, and the outputs it joins by node id (a
    parallel node's branches, or several nodes leading to one)."""

    text: str
    parts: dict[str, str] | None = None

    def as_state(self) -> dict:
        return {"text": self.text, "parts": self.parts}

    @classmethod
    def from_state(cls, value: dict) -> Result:
        return cls(value.get("text", ""), value.get("parts"))


class WorkflowPausedError(Exception):
    """The workflow waits: for an approval, or for credits."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkflowStoppedError(Exception):
    """The run was cancelled (or deleted) meanwhile."""


class NodeFailedError(Exception):
    def __init__(self, node: str, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


@dataclass
class Place:
    """Where a node runs: the path of the nodes it is inside, the parallel
    lane its steps go in, and the loop round."""

    path: str = ""
    lane: str = ""
    round: int = 0

    def key(self, node_id: str) -> str:
        return f"{self.path}/{node_id}" if self.path else node_id

    def inside(self, key: str, **changes) -> Place:
        return Place(
            path=changes.get("path", key),
            lane=changes.get("lane", self.lane),
            round=changes.get("round", self.round),
        )


def output_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW else text[:PREVIEW] + "…"


def _joined(parts: dict[str, str]) -> str:
    return "\n\n".join(f"## {name}\n{text}" for name, text in parts.items())


@dataclass
class Engine:
    graph: dict
    input: str
    state: dict
    host: Host
    retry_delay: float = 1.0
    nodes: dict[str, dict] = field(init=False)
    lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.nodes = {node["id"]: node for node in self.graph["nodes"]}
        for key in ("results", "outputs", "routes", "decisions", "started"):
            self.state.setdefault(key, {})
        self.state.setdefault("waiting", [])

    # --- the top level: edges -------------------------------------------------

    async def run(self) -> Result:
        """The workflow's result; raises WorkflowPausedError,
        WorkflowStoppedError or NodeFailedError."""
        inner = inner_nodes(self.nodes)
        following: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        before: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        for edge in self.graph.get("edges", []):
            following[edge["from"]].append(edge["to"])
            before[edge["to"]].append(edge["from"])
        reached, todo = set(), [self.graph["entry"]]
        while todo:
            node_id = todo.pop()
            if node_id not in reached and node_id not in inner:
                reached.add(node_id)
                todo.extend(following[node_id])
        done: dict[str, Result] = {}
        running: dict[str, asyncio.Task] = {}
        problem: BaseException | None = None
        while True:
            if problem is None:
                for node_id in self.nodes:
                    if node_id not in reached or node_id in done or node_id in running:
                        continue
                    if all(p in done for p in before[node_id] if p in reached):
                        source = self._input_from(node_id, before[node_id], done)
                        running[node_id] = asyncio.create_task(
                            self.node(node_id, source, Place())
                        )
            if not running:
                break
            finished, _pending = await asyncio.wait(
                running.values(), return_when=asyncio.FIRST_COMPLETED
            )
            for node_id, task in list(running.items()):
                if task not in finished:
                    continue
                del running[node_id]
                error = task.exception()
                if error is None:
                    done[node_id] = task.result()
                elif problem is None or _weight(error) > _weight(problem):
                    # Nodes already running finish; nothing new starts.
                    problem = error
        if problem is not None:
            raise problem
        ends = [n for n in self.nodes if n in reached and not following[n]]
        if len(ends) == 1:
            return done[ends[0]]
        parts = {n: done[n].text for n in ends}
        return Result(_joined(parts), parts)

    def _input_from(
        self, node_id: str, before: list[str], done: dict[str, Result]
    ) -> Result:
        sources = [p for p in before if p in done]
        if not sources:
            return Result(self.input)
        if len(sources) == 1:
            return done[sources[0]]
        parts = {p: done[p].text for p in sources}
        return Result(_joined(parts), parts)

    # --- one node ---------------------------------------------------------------

    async def node(self, node_id: str, given: Result, place: Place) -> Result:
        key = place.key(node_id)
        saved = self.state["results"].get(key)
        if saved is not None:
            return Result.from_state(saved)
        if await self.host.cancelled():
            if self.host.out_of_credits:
                raise WorkflowPausedError("out_of_credits")
            raise WorkflowStoppedError
        node = self.nodes[node_id]
        run = {
            "agent": self._agent_node,
            "sequential": self._sequential,
            "parallel": self._parallel,
            "aggregate": self._aggregate,
            "router": self._router,
            "loop": self._loop,
            "approval": self._approval,
        }[node["kind"]]
        try:
            result = await run(node, given, place, key)
        except NodeFailedError as failure:
            await self._node_step(
                node, key, place, "failed", error=failure.message, failed=failure.node
            )
            raise
        async with self.lock:
            self.state["results"][key] = result.as_state()
            self.state["outputs"][node_id] = result.text
            await self.host.save_state(self.state)
        # An agent's answer is its own step already.
        shown = {} if node["kind"] == "agent" else {"output": result.text}
        await self._node_step(node, key, place, "completed", **shown)
        return result

    async def _node_step(
        self, node: dict, key: str, place: Place, event: str, **extra
    ) -> int:
        payload = {
            "node": node["id"],
            "key": key,
            "kind": node["kind"],
            "event": event,
            **self._marks(place),
        }
        if node.get("label"):
            payload["label"] = node["label"]
        if "output" in extra:
            extra["output"] = _preview(extra["output"])
        return await self.host.step("node", {**payload, **extra})

    @staticmethod
    def _marks(place: Place) -> dict:
        marks = {}
        if place.lane:
            marks["lane"] = place.lane
        if place.round:
            marks["round"] = place.round
        return marks

    def _agent_marks(self, node: dict, key: str, place: Place) -> dict:
        return {"node": node["id"], "key": key, **self._marks(place)}

    def _template(self, template: str, given: Result) -> str:
        outputs = self.state["outputs"]

        def value(match: re.Match) -> str:
            name = match.group(1)
            if name == "input":
                return self.input
            if name == "previous":
                return given.text
            return outputs.get(name, "")

        return PLACEHOLDER.sub(value, template)

    async def _call(
        self,
        node: dict,
        key: str,
        place: Place,
        agent_id: int,
        text: str,
        *,
        output_type: dict | None = None,
        instructions: str = "",
        retries: int = 0,
        fallback: int | None = None,
    ):
        """Run an agent for ``node``, retrying with backoff, then on the
        fallback agent; NodeFailedError when nothing worked."""
        marks = self._agent_marks(node, key, place)

        async def attempt(agent: int):
            outcome = await self.host.run_agent(
                agent,
                text,
                marks=marks,
                output_type=output_type,
                instructions=instructions,
            )
            self._raise_if_stopped(outcome)
            return outcome

        outcome = None
        for number in range(retries + 1):
            if number:
                delay = min(self.retry_delay * 2 ** (number - 1), MAX_DELAY)
                await self._node_step(
                    node,
                    key,
                    place,
                    "retry",
                    attempt=number + 1,
                    reason=outcome.error,
                    delay=delay,
                )
                await asyncio.sleep(delay)
            outcome = await attempt(agent_id)
            if outcome.status == "completed":
                return outcome.final_output
        if fallback:
            await self._node_step(
                node,
                key,
                place,
                "fallback",
                agent=self.host.agent_name(fallback),
                reason=outcome.error,
            )
            outcome = await attempt(fallback)
            if outcome.status == "completed":
                return outcome.final_output
        raise NodeFailedError(node["id"], outcome.error or "The agent did not finish.")

    def _raise_if_stopped(self, outcome: AgentOutcome) -> None:
        if self.host.out_of_credits:
            raise WorkflowPausedError("out_of_credits")
        if outcome.status == "cancelled":
            raise WorkflowStoppedError

    async def _agent_node(
        self, node: dict, given: Result, place: Place, key: str
    ) -> Result:
        text = self._template(node["input"], given) if node.get("input") else given.text
        output = await self._call(
            node,
            key,
            place,
            node["agent"],
            text,
            retries=node.get("retries", 0),
            fallback=node.get("fallback_agent"),
        )
        return Result(output_text(output))

    async def _sequential(
        self, node: dict, given: Result, place: Place, key: str
    ) -> Result:
        await self._started(node, key, place)
        result = given
        for step_id in node["steps"]:
            result = await self.node(step_id, result, place.inside(key))
        return result

    async def _started(self, node: dict, key: str, place: Place, **extra) -> int:
        """The node's ``started`` step, once, even across a resume."""
        async with self.lock:
            order = self.state["started"].get(key)
            if order is None:
                order = await self._node_step(node, key, place, "started", **extra)
                self.state["started"][key] = order
                await self.host.save_state(self.state)
        return order

    async def _parallel(
        self, node: dict, given: Result, place: Place, key: str
    ) -> Result:
        branches = node["branches"]
        # Each branch's steps go in its own lane, shown side by side.
        order = await self._started(
            node,
            key,
            place,
            branches=[
                {"node": b, "label": self.nodes[b].get("label", "")} for b in branches
            ],
        )
        results = await asyncio.gather(
            *(
                self.node(branch, given, place.inside(key, lane=f"{order}-{index}"))
                for index, branch in enumerate(branches)
            ),
            return_exceptions=True,
        )
        parts, failures, problem = {}, {}, None
        for branch, result in zip(branches, results, strict=True):
            if isinstance(result, Result):
                parts[branch] = result.text
            elif isinstance(result, NodeFailedError):
                # A failed branch stops only itself.
                failures[branch] = result.message
            elif isinstance(result, Exception):
                if problem is None or _weight(result) > _weight(problem):
                    problem = result
            else:
                raise result
        if problem is not None:
            raise problem
        if not parts:
            raise NodeFailedError(
                node["id"],
                "Every branch failed: "
                + "; ".join(f"{b}: {m}" for b, m in failures.items()),
            )
        if failures:
            await self._node_step(node, key, place, "branches_failed", failed=failures)
        return Result(_joined(parts), parts)

    async def _aggregate(
        self, node: dict, given: Result, place: Place, key: str
    ) -> Result:
        parts = given.parts or {"previous": given.text}
        if node.get("mode", "join") == "join":
            separator = node.get("separator", "\n\n")
            return Result(separator.join(parts.values()), parts)
        text = (
            "Merge these results into one answer. Keep what each adds; drop "
            "repetition.\n\n" + _joined(parts)
        )
        output = await self._call(node, key, place, node["agent"], text)
        return Result(output_text(output), parts)

    async def _router(
        self, node: dict, given: Result, place: Place, key: str
    ) -> Result:
        routes: dict[str, str] = node["routes"]
        chosen = self.state["routes"].get(key)
        if chosen is None:
            instructions = (
                "Classify the request into exactly one category: "
                + ", ".join(routes)
                + f", or {ROUTER_OTHER} when none fits. Give your confidence "
                "from 0 to 1."
            )
            output = await self._call(
                node,
                key,
                place,
                node["agent"],
                given.text,
                output_type=router_schema(list(routes)),
                instructions=instructions,
            )
            category, confidence = _category(output)
            threshold = node.get("min_confidence", 0.5)
            target = routes.get(category) if confidence >= threshold else None
            default = target is None
            target = target or node.get("default")
            if target is None:
                raise NodeFailedError(
                    node["id"],
                    f"The classifier answered {category!r} (confidence "
                    f"{confidence:g}), which matches no route, and the router "
                    "has no default.",
                )
            chosen = {
                "category": category,
                "confidence": confidence,
                "to": target,
                "default": default,
            }
            async with self.lock:
                self.state["routes"][key] = chosen
                await self.host.save_state(self.state)
            await self._node_step(node, key, place, "routed", **chosen)
        return await self.node(chosen["to"], given, place.inside(key))

    async def _loop(self, node: dict, given: Result, place: Place, key: str) -> Result:
        reviewer = self.nodes[node["reviewer"]]
        limit = node.get("max_iterations", 3)
        work_input, draft, feedback = given, None, ""
        for round in range(1, limit + 1):
            inside = place.inside(f"{key}/{round}", round=round)
            if draft is not None:
                # The feedback before the (long) earlier attempt.
                work_input = Result(
                    f"{given.text}\n\nThe reviewer's feedback on your previous "
                    f"attempt: {feedback}\n\nYour previous attempt:\n{draft.text}"
                )
            draft = await self.node(node["worker"], work_input, inside)
            verdict = await self._review(reviewer, given, draft, inside, round, limit)
            feedback = verdict.get("feedback", "")
            if verdict.get("verdict") == "pass":
                await self._node_step(node, key, place, "passed", rounds=round)
                return draft
        await self._node_step(
            node, key, place, "max_iterations", rounds=limit, feedback=feedback
        )
        return draft

    async def _review(
        self,
        reviewer: dict,
        task: Result,
        draft: Result,
        place: Place,
        round: int,
        limit: int,
    ) -> dict:
        key = place.key(reviewer["id"])
        saved = self.state["results"].get(key)
        if saved is not None:
            return json.loads(saved["text"])
        text = f"Task:\n{task.text}\n\nWork (attempt {round} of {limit}):\n{draft.text}"
        output = await self._call(
            reviewer,
            key,
            place,
            reviewer["agent"],
            text,
            output_type=REVIEW_SCHEMA,
            instructions=(
                "Review the work against the task. Answer pass when it is good "
                "enough; otherwise revise, with feedback saying what to change."
            ),
            retries=reviewer.get("retries", 0),
            fallback=reviewer.get("fallback_agent"),
        )
        verdict = output if isinstance(output, dict) else {}
        verdict = {
            "verdict": "pass" if verdict.get("verdict") == "pass" else "revise",
            "feedback": str(verdict.get("feedback", "")),
        }
        async with self.lock:
            self.state["results"][key] = {"text": json.dumps(verdict)}
            await self.host.save_state(self.state)
        await self._node_step(reviewer, key, place, "reviewed", **verdict)
        return verdict

    async def _approval(
        self, node: dict, given: Result, place: Place, key: str
    ) -> Result:
        decision = self.state["decisions"].get(key)
        if decision is None:
            async with self.lock:
                waiting = self.state["waiting"]
                if not any(w["key"] == key for w in waiting):
                    message = node.get("message") or "Approve to go on."
                    order = await self.host.step(
                        "approval",
                        {
                            "node": node["id"],
                            "key": key,
                            "event": "requested",
                            "message": message,
                            "text": _preview(given.text),
                            **self._marks(place),
                        },
                    )
                    waiting.append(
                        {
                            "key": key,
                            "node": node["id"],
                            "label": node.get("label", ""),
                            "message": message,
                            "step": order,
                        }
                    )
                    await self.host.save_state(self.state)
            raise WorkflowPausedError("approval")
        if decision["decision"] != "approve":
            comment = decision.get("comment") or ""
            raise NodeFailedError(
                node["id"],
                f"{decision.get('by', 'Someone')} rejected it"
                + (f": {comment}" if comment else "."),
            )
        return given


def _category(output: Any) -> tuple[str, float]:
    if not isinstance(output, dict):
        return str(output).strip().lower(), 1.0
    category = str(output.get("category", "")).strip()
    try:
        confidence = float(output.get("confidence", 0))
    except (TypeError, ValueError):
        confidence = 0.0
    return category, confidence


def _weight(error: BaseException) -> int:
    """Which of several problems the workflow reports: a cancellation over
    a failure over a pause."""
    if isinstance(error, WorkflowStoppedError):
        return 3
    if isinstance(error, NodeFailedError):
        return 2
    if isinstance(error, WorkflowPausedError):
        return 1
    return 4  # a bug: report it
