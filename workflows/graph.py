"""A workflow's graph: plain JSON, checked before anything is saved.

    {"entry": "classify",
     "nodes": [{"id": "classify", "kind": "router", "agent": 12,
                "routes": {"math": "solve", "history": "explain"},
                "default": "explain"},
               {"id": "solve", "kind": "agent", "agent": 13}, ...],
     "edges": [{"from": "solve", "to": "review"}, ...]}

Node kinds and their fields (besides ``id``, ``kind`` and an optional
``label``):

- ``agent``: ``agent`` (an agent id) runs on the current input; optional
  ``retries`` (0-5, with backoff), ``fallback_agent`` (runs when the retries
  are spent) and ``input``, a template that reads the shared context:
  ``{{input}}`` (the workflow's input), ``{{previous}}`` (the node's input)
  and ``{{<node id>}}`` (that node's latest output).
- ``sequential``: ``steps``, two or more node ids run in order, each on the
  previous one's output.
- ``parallel``: ``branches``, two or more node ids run at once on the same
  input.
- ``aggregate``: joins the outputs of the node before it (a parallel node):
  ``mode`` ``join`` (with an optional ``separator``) or ``agent`` (an
  ``agent`` merges them).
- ``router``: a classifier ``agent`` answers with a ``category`` and a
  ``confidence``; ``routes`` maps categories to node ids, ``default`` is
  taken when none matches or the confidence is below ``min_confidence``
  (0-1, default 0.5).
- ``loop``: ``worker`` and ``reviewer`` node ids repeat until the reviewer
  (an agent node, asked for a verdict) passes the work or
  ``max_iterations`` (1-10) is reached.
- ``approval``: the workflow waits for its owner to approve or reject;
  optional ``message``.

Edges say what runs after what, from ``entry``: a node runs once every node
with an edge to it has finished, on that node's output (on all of their
outputs, by name, when several lead to it). They must not form a cycle:
repeating is what loop nodes are for (their worker and reviewer are the one
cycle a graph may have, inside the node). Nodes named inside another node
(steps, branches, routes, a loop's worker and reviewer) run there, so they
have no edges of their own, and no node may contain itself. Every node must
be reached, every node id referenced must exist, and every agent must be one
the owner may use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

KINDS = ("agent", "sequential", "parallel", "aggregate", "router", "loop", "approval")
NODE_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_NODES = 50
MAX_EDGES = 200
MAX_ROUTES = 20
MAX_ITERATIONS = 10
MAX_RETRIES = 5
MAX_TEXT = 500
MAX_TEMPLATE = 4000
# {{name}} in an agent node's input template.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_-]+)\s*\}\}")
CONTEXT_NAMES = ("input", "previous")

# The fields each kind may have, and which of them name other nodes.
FIELDS = {
    "agent": {"agent", "retries", "fallback_agent", "input"},
    "sequential": {"steps"},
    "parallel": {"branches"},
    "aggregate": {"mode", "agent", "separator"},
    "router": {"agent", "routes", "default", "min_confidence"},
    "loop": {"worker", "reviewer", "max_iterations"},
    "approval": {"message"},
}
# ``position``: where the builder draws the node ({"x": ..., "y": ...}).
COMMON = {"id", "kind", "label", "position"}


class _Errors:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)


def clean_graph(value: Any, *, agent_usable: Callable[[set[int]], set[int]]) -> dict:
    """The graph, normalized, or a ValidationError on ``graph`` listing every
    problem. ``agent_usable`` takes agent ids and returns those the owner may
    use."""
    errors = _Errors()
    if not isinstance(value, dict):
        raise ValidationError(
            {"graph": [_("A JSON object with nodes, edges and entry.")]}
        )
    unknown = set(value) - {"nodes", "edges", "entry"}
    if unknown:
        errors.add(_("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
    nodes = value.get("nodes")
    edges = value.get("edges", [])
    if not isinstance(nodes, list) or not nodes:
        raise ValidationError({"graph": [_("nodes: a list of at least one node.")]})
    if len(nodes) > MAX_NODES:
        raise ValidationError(
            {"graph": [_("At most %(count)d nodes.") % {"count": MAX_NODES}]}
        )
    if not isinstance(edges, list):
        raise ValidationError({"graph": [_("edges: a list of {from, to}.")]})
    if len(edges) > MAX_EDGES:
        raise ValidationError(
            {"graph": [_("At most %(count)d edges.") % {"count": MAX_EDGES}]}
        )

    by_id: dict[str, dict] = {}
    for position, node in enumerate(nodes, start=1):
        cleaned = _clean_node(node, position, errors)
        if cleaned is None:
            continue
        if cleaned["id"] in by_id:
            errors.add(_("Two nodes are called %(id)s.") % {"id": cleaned["id"]})
            continue
        by_id[cleaned["id"]] = cleaned

    agents: set[int] = set()
    for node in by_id.values():
        _check_references(node, by_id, errors)
        for key in ("agent", "fallback_agent"):
            if isinstance(node.get(key), int):
                agents.add(node[key])
    if agents:
        missing = agents - agent_usable(agents)
        for agent_id in sorted(missing):
            errors.add(
                _("Agent %(id)d does not exist, or is not yours or shared.")
                % {"id": agent_id}
            )

    cleaned_edges = _clean_edges(edges, by_id, errors)
    entry = value.get("entry")
    if not isinstance(entry, str) or not entry:
        errors.add(_("entry: the id of the node the workflow starts at."))
    elif by_id and entry not in by_id:
        errors.add(_("entry: there is no node %(id)s.") % {"id": entry})
    if not errors.messages:
        _check_structure(by_id, cleaned_edges, entry, errors)
    if errors.messages:
        raise ValidationError({"graph": errors.messages})
    return {"entry": entry, "nodes": list(by_id.values()), "edges": cleaned_edges}


def _clean_node(node: Any, position: int, errors: _Errors) -> dict | None:
    where = _("Node %(n)d") % {"n": position}
    if not isinstance(node, dict):
        errors.add(_("%(where)s: an object with id and kind.") % {"where": where})
        return None
    node_id = node.get("id")
    if not isinstance(node_id, str) or not NODE_ID.match(node_id):
        errors.add(
            _(
                "%(where)s: id must be lowercase letters, digits, - or _, "
                "starting with a letter, at most 40."
            )
            % {"where": where}
        )
        return None
    where = node_id
    kind = node.get("kind")
    if kind not in KINDS:
        errors.add(
            _("%(where)s: unknown kind %(kind)r; one of %(kinds)s.")
            % {"where": where, "kind": kind, "kinds": ", ".join(KINDS)}
        )
        return None
    unknown = set(node) - COMMON - FIELDS[kind]
    if unknown:
        errors.add(
            _("%(where)s: a %(kind)s node has no %(keys)s.")
            % {"where": where, "kind": kind, "keys": ", ".join(sorted(unknown))}
        )
    cleaned = {key: node[key] for key in node if key not in unknown}
    label = cleaned.get("label", "")
    if not isinstance(label, str) or len(label) > 100:
        errors.add(_("%(where)s: label is text, at most 100.") % {"where": where})
    position = cleaned.get("position")
    if position is not None and not (
        isinstance(position, dict)
        and set(position) == {"x", "y"}
        and all(
            isinstance(position[axis], int | float)
            and not isinstance(position[axis], bool)
            and abs(position[axis]) < 100000
            for axis in ("x", "y")
        )
    ):
        errors.add(_("%(where)s: position is {x, y}, two numbers.") % {"where": where})
    check = {
        "agent": _check_agent_node,
        "sequential": _check_list_node("steps"),
        "parallel": _check_list_node("branches"),
        "aggregate": _check_aggregate,
        "router": _check_router,
        "loop": _check_loop,
        "approval": _check_approval,
    }[kind]
    check(cleaned, where, errors)
    return cleaned


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_agent_node(node: dict, where: str, errors: _Errors) -> None:
    if node.get("agent") in (None, ""):
        # The builder's new agent nodes start with no agent: choosing one
        # (above all another person's) is left to the person, on purpose.
        errors.add(_("%(where)s: choose the agent this node runs.") % {"where": where})
    elif not _is_id(node.get("agent")):
        errors.add(_("%(where)s: agent must be an agent's id.") % {"where": where})
    retries = node.get("retries", 0)
    if not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        errors.add(
            _("%(where)s: retries from 0 to %(max)d.")
            % {"where": where, "max": MAX_RETRIES}
        )
    if "fallback_agent" in node and not _is_id(node["fallback_agent"]):
        errors.add(
            _("%(where)s: fallback_agent must be an agent's id.") % {"where": where}
        )
    template = node.get("input", "")
    if not isinstance(template, str) or len(template) > MAX_TEMPLATE:
        errors.add(
            _("%(where)s: input is a text template, at most %(max)d.")
            % {"where": where, "max": MAX_TEMPLATE}
        )


def _check_list_node(key: str):
    def check(node: dict, where: str, errors: _Errors) -> None:
        items = node.get(key)
        if (
            not isinstance(items, list)
            or len(items) < 2
            or not all(isinstance(item, str) for item in items)
        ):
            errors.add(
                _("%(where)s: %(key)s must list two or more node ids.")
                % {"where": where, "key": key}
            )
        elif len(set(items)) != len(items):
            errors.add(
                _("%(where)s: %(key)s names a node twice.")
                % {"where": where, "key": key}
            )

    return check


def _check_aggregate(node: dict, where: str, errors: _Errors) -> None:
    mode = node.get("mode", "join")
    if mode not in ("join", "agent"):
        errors.add(_("%(where)s: mode is join or agent.") % {"where": where})
    elif mode == "agent" and not _is_id(node.get("agent")):
        errors.add(
            _("%(where)s: an agent aggregate needs the agent that merges.")
            % {"where": where}
        )
    separator = node.get("separator", "\n\n")
    if not isinstance(separator, str) or len(separator) > 20:
        errors.add(_("%(where)s: separator is text, at most 20.") % {"where": where})


def _check_router(node: dict, where: str, errors: _Errors) -> None:
    if not _is_id(node.get("agent")):
        errors.add(
            _("%(where)s: a router needs the agent that classifies.") % {"where": where}
        )
    routes = node.get("routes")
    if not isinstance(routes, dict) or not routes:
        errors.add(
            _("%(where)s: a router needs routes: {category: node id}.")
            % {"where": where}
        )
    elif len(routes) > MAX_ROUTES or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str)
        for k, v in routes.items()
    ):
        errors.add(
            _("%(where)s: routes map up to %(max)d categories to node ids.")
            % {"where": where, "max": MAX_ROUTES}
        )
    if "default" in node and not isinstance(node["default"], str):
        errors.add(_("%(where)s: default is a node id.") % {"where": where})
    threshold = node.get("min_confidence", 0.5)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 <= threshold <= 1
    ):
        errors.add(
            _("%(where)s: min_confidence is a number from 0 to 1.") % {"where": where}
        )


def _check_loop(node: dict, where: str, errors: _Errors) -> None:
    for key in ("worker", "reviewer"):
        if not isinstance(node.get(key), str):
            errors.add(
                _("%(where)s: a loop needs its %(key)s node.")
                % {"where": where, "key": key}
            )
    if node.get("worker") is not None and node.get("worker") == node.get("reviewer"):
        errors.add(
            _("%(where)s: the worker and the reviewer are different nodes.")
            % {"where": where}
        )
    iterations = node.get("max_iterations", 3)
    if not isinstance(iterations, int) or not 1 <= iterations <= MAX_ITERATIONS:
        errors.add(
            _("%(where)s: max_iterations from 1 to %(max)d.")
            % {"where": where, "max": MAX_ITERATIONS}
        )


def _check_approval(node: dict, where: str, errors: _Errors) -> None:
    message = node.get("message", "")
    if not isinstance(message, str) or len(message) > MAX_TEXT:
        errors.add(
            _("%(where)s: message is text, at most %(max)d.")
            % {"where": where, "max": MAX_TEXT}
        )


def node_references(node: dict) -> list[str]:
    """The node ids ``node`` runs inside it (not its edges)."""
    kind = node["kind"]
    if kind == "sequential":
        return list(node.get("steps") or [])
    if kind == "parallel":
        return list(node.get("branches") or [])
    if kind == "router":
        routes = node.get("routes") or {}
        targets = list(routes.values()) if isinstance(routes, dict) else []
        return [*targets, *([node["default"]] if node.get("default") else [])]
    if kind == "loop":
        return [node[key] for key in ("worker", "reviewer") if node.get(key)]
    return []


def _check_references(node: dict, by_id: dict, errors: _Errors) -> None:
    for reference in node_references(node):
        if not isinstance(reference, str):
            continue
        if reference not in by_id:
            errors.add(
                _("%(where)s refers to %(id)s, which is not a node.")
                % {"where": node["id"], "id": reference}
            )
        elif reference == node["id"]:
            errors.add(_("%(where)s refers to itself.") % {"where": node["id"]})


def _clean_edges(edges: list, by_id: dict, errors: _Errors) -> list[dict]:
    cleaned, seen = [], set()
    for position, edge in enumerate(edges, start=1):
        if (
            not isinstance(edge, dict)
            or set(edge) != {"from", "to"}
            or not all(isinstance(edge[key], str) for key in ("from", "to"))
        ):
            errors.add(
                _("Edge %(n)d: an object with from and to (node ids).")
                % {"n": position}
            )
            continue
        dangling = [edge[key] for key in ("from", "to") if edge[key] not in by_id]
        if dangling:
            errors.add(
                _("Edge %(n)d (%(from)s → %(to)s) is dangling: no node %(ids)s.")
                % {
                    "n": position,
                    "from": edge["from"],
                    "to": edge["to"],
                    "ids": ", ".join(dangling),
                }
            )
            continue
        pair = (edge["from"], edge["to"])
        if pair in seen:
            continue
        seen.add(pair)
        cleaned.append({"from": pair[0], "to": pair[1]})
    return cleaned


def inner_nodes(nodes: dict[str, dict]) -> set[str]:
    """The ids of nodes that run inside another node."""
    return {
        reference
        for node in nodes.values()
        for reference in node_references(node)
        if isinstance(reference, str)
    }


def _check_structure(by_id: dict, edges: list[dict], entry: str, errors) -> None:
    """Loops' reviewers, templates, edges of inner nodes, containment and
    edge cycles, and nodes never reached."""
    for node in by_id.values():
        if node["kind"] == "loop":
            reviewer = by_id[node["reviewer"]]
            if reviewer["kind"] != "agent":
                errors.add(
                    _("%(where)s: the reviewer must be an agent node.")
                    % {"where": node["id"]}
                )
        for name in PLACEHOLDER.findall(node.get("input") or ""):
            if name not in CONTEXT_NAMES and name not in by_id:
                errors.add(
                    _(
                        "%(where)s: the input reads {{%(name)s}}, which is not a "
                        "node (nor input or previous)."
                    )
                    % {"where": node["id"], "name": name}
                )
    inner = inner_nodes(by_id)
    if entry in inner:
        errors.add(
            _("entry: %(id)s runs inside another node; start at that node.")
            % {"id": entry}
        )
    for edge in edges:
        for end in ("from", "to"):
            if edge[end] in inner:
                errors.add(
                    _(
                        "%(id)s runs inside another node, so it cannot have "
                        "edges: connect the node it is in instead."
                    )
                    % {"id": edge[end]}
                )
    contained = {
        node_id: [r for r in node_references(node) if r in by_id]
        for node_id, node in by_id.items()
    }
    cycle = _find_cycle(by_id, contained)
    if cycle:
        errors.add(
            _("%(id)s contains itself: %(path)s.")
            % {"id": cycle[0], "path": " → ".join(cycle)}
        )
    following: dict[str, list[str]] = {node_id: [] for node_id in by_id}
    for edge in edges:
        following[edge["from"]].append(edge["to"])
    cycle = _find_cycle(by_id, following)
    if cycle:
        errors.add(
            _("The edges form a cycle: %(path)s. Repeat work with a loop node instead.")
            % {"path": " → ".join(cycle)}
        )
    if errors.messages:
        return
    reached, todo = set(), [entry]
    while todo:
        node_id = todo.pop()
        if node_id in reached:
            continue
        reached.add(node_id)
        todo.extend(following[node_id])
        todo.extend(contained[node_id])
    for node_id in by_id:
        if node_id not in reached:
            errors.add(
                _(
                    "%(id)s is never reached: connect it with an edge, or use it "
                    "inside another node."
                )
                % {"id": node_id}
            )


def _find_cycle(by_id: dict, following: dict[str, list[str]]) -> list[str]:
    """A cycle through ``following`` (node id → the ids after it), as node
    ids from its start back to it."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node_id: str) -> list[str]:
        state[node_id] = 1
        path.append(node_id)
        for after in following[node_id]:
            if state.get(after) == 1:
                return [*path[path.index(after) :], after]
            if after not in state:
                found = visit(after)
                if found:
                    return found
        path.pop()
        state[node_id] = 2
        return []

    for node_id in by_id:
        if node_id not in state:
            found = visit(node_id)
            if found:
                return found
    return []
