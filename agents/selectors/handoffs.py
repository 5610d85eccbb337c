"""Reads for handoffs (an agent may hand the conversation to another, the
SDK's handoffs), and what a run needs of them."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from agents.models import Agent, Handoff
from agents.selectors import agent_published_q, agent_tool_candidates

# How many handoffs away from the run's agent are still loaded.
MAX_HANDOFF_DEPTH = 3


def handoff_list(*, agent) -> QuerySet[Handoff]:
    return Handoff.objects.filter(agent=agent).select_related("target", "target__owner")


def handoff_targets_listed(*, agent) -> list:
    """The published agents ``agent`` hands off to, for its public page:
    visitors learn who answers, and nothing of private agents."""

    return list(
        Agent.objects.filter(agent_published_q(), handoffs_in__agent=agent)
        .select_related("owner")
        .order_by("handoffs_in__position", "handoffs_in__id")
    )


def handoff_get(*, agent, handoff_id) -> Handoff | None:
    try:
        handoff_id = int(handoff_id)
    except (TypeError, ValueError):
        return None
    return handoff_list(agent=agent).filter(pk=handoff_id).first()


def handoff_graph(
    *, agent_id: int, scoped: Callable[..., dict]
) -> tuple[dict[int, list[dict]], dict[int, dict]]:
    """For a run of ``agent_id``: each agent's handoffs (``{agent id: [{"target",
    "description", "input_filter"}]}``) and the definitions of the targets'
    latest versions (``{agent id: definition}``), following the targets' own
    handoffs ``MAX_HANDOFF_DEPTH`` deep. A target its agent's owner may no
    longer use (made private, hidden) is left out. Each definition is
    passed through ``scoped(definition, agent_id=, owner_id=)`` (the runs
    service gives the files its file_search may search)."""

    edges: dict[int, list[dict]] = {}
    definitions: dict[int, dict] = {}
    frontier = {agent_id}
    seen = set()
    for _depth in range(MAX_HANDOFF_DEPTH):
        frontier -= seen
        if not frontier:
            break
        seen |= frontier
        rows = Handoff.objects.filter(agent_id__in=frontier).select_related("agent")
        wanted: dict[int, list[Handoff]] = {}
        for row in rows:
            wanted.setdefault(row.agent.owner_id, []).append(row)
        next_frontier = set()
        for owner_id, handoffs in wanted.items():
            usable = set(
                agent_tool_candidates(owner_id=owner_id)
                .filter(pk__in=[h.target_id for h in handoffs])
                .values_list("pk", flat=True)
            )
            for handoff in handoffs:
                if handoff.target_id not in usable:
                    continue
                edges.setdefault(handoff.agent_id, []).append(
                    {
                        "target": handoff.target_id,
                        "description": handoff.description,
                        "input_filter": handoff.input_filter,
                    }
                )
                next_frontier.add(handoff.target_id)
        new_targets = next_frontier - set(definitions)
        for target in Agent.objects.filter(pk__in=new_targets) if new_targets else ():
            definitions[target.pk] = scoped(
                target.versions.get(number=target.version_number).definition,
                agent_id=target.pk,
                owner_id=target.owner_id,
            )
        frontier = next_frontier
    # Edges only between loaded agents (the last layer's own handoffs are cut).
    loaded = set(definitions) | {agent_id}
    edges = {
        source: [edge for edge in targets if edge["target"] in loaded]
        for source, targets in edges.items()
        if source in loaded
    }
    return edges, definitions
