"""Reads for handoffs, and what a run needs of them."""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import QuerySet

from agents.models import Handoff

# How many handoffs away from the run's agent are still loaded.
MAX_HANDOFF_DEPTH = 3


def handoff_list(*, agent) -> QuerySet[Handoff]:
    return Handoff.objects.filter(agent=agent).select_related("target", "target__owner")


def handoff_targets_listed(*, agent) -> list:
    """The published agents ``agent`` hands off to, for its public page:
    visitors learn who answers, and nothing of private agents."""
    from agents.models import Agent
    from agents.selectors import agent_published_q

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


def handoff_graph(*, agent_id: int) -> tuple[dict[int, list[dict]], dict[int, dict]]:
    """For a run of ``agent_id``: each agent's handoffs (``{agent id: [{"target",
    "description", "input_filter"}]}``) and the definitions of the targets'
    latest versions (``{agent id: definition}``), following the targets' own
    handoffs ``MAX_HANDOFF_DEPTH`` deep. A target its agent's owner may no
    longer use (made private, hidden) is left out."""
    from agents.models import Agent
    from agents.selectors import agent_tool_candidates
    from agents.services.runs import with_file_scope

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
            definitions[target.pk] = with_file_scope(
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


def workflow_list(*, owner) -> QuerySet:
    from workflows.models import Workflow

    return (
        Workflow.objects.filter(owner=owner)
        .select_related("owner")
        .order_by("-updated_at", "-id")
    )


def workflow_get(*, owner, workflow_id):
    try:
        workflow_id = int(workflow_id)
    except (TypeError, ValueError):
        return None
    return workflow_list(owner=owner).filter(pk=workflow_id).first()


def workflow_runnable_q(user):
    """Workflows ``user`` may see and run: their own, and others' shared ones
    (public or unlisted) whose owner is active."""
    from django.db.models import Q

    from agents.models import Visibility
    from community.models import DELETED_USER_USERNAME

    # What deleted accounts shared lives on under the (inactive)
    # "deleted-user" account, still runnable by others.
    shared = Q(
        Q(owner__is_active=True) | Q(owner__username=DELETED_USER_USERNAME),
        visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED],
        owner__is_hidden=False,
        is_hidden=False,
    )
    if not user.is_authenticated:
        return shared
    return Q(owner=user) | shared


PUBLIC_SORTS = {
    "new": ("-updated_at", "-id"),
    "runs": ("-run_count", "-updated_at", "-id"),
    "forks": ("-fork_count", "-updated_at", "-id"),
}


def workflow_list_public(*, exclude_owner=None, q: str = "", sort: str = "new"):
    """Public workflows of active people: those whose name or description
    has every word of ``q``; newest change, most run or most forked first."""
    from django.db.models import Q

    from agents.models import Visibility
    from workflows.models import Workflow

    workflows = Workflow.objects.filter(
        visibility=Visibility.PUBLIC,
        owner__is_active=True,
        owner__is_hidden=False,
        is_hidden=False,
    ).select_related("owner")
    if exclude_owner is not None and exclude_owner.is_authenticated:
        workflows = workflows.exclude(owner=exclude_owner)
    for word in q.split()[:10]:
        workflows = workflows.filter(
            Q(name__icontains=word) | Q(description__icontains=word)
        )
    return workflows.order_by(*PUBLIC_SORTS.get(sort, PUBLIC_SORTS["new"]))


def workflow_list_most_run(*, limit: int) -> list[tuple]:
    """(pk, name, owner's username, run_count) of the ``limit`` most run
    public workflows: workflow_list_public(sort="runs")'s first rows. The
    query never changes, so its SQL is built once per process (the ORM spent
    more CPU building and compiling it than the database running it); the
    rows are read on every call."""
    sql, params = _most_run_sql(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@functools.lru_cache(maxsize=8)
def _most_run_sql(limit: int) -> tuple[str, tuple]:
    query = (
        workflow_list_public(sort="runs")
        .values_list("pk", "name", "owner__username", "run_count")[:limit]
        .query
    )
    sql, params = query.sql_with_params()
    return sql, tuple(params)


def workflow_get_runnable(*, user, workflow_id):
    from workflows.models import Workflow

    try:
        workflow_id = int(workflow_id)
    except (TypeError, ValueError):
        return None
    return (
        Workflow.objects.filter(workflow_runnable_q(user), pk=workflow_id)
        .select_related("owner")
        .first()
    )


def workflow_run_list(*, user, workflow) -> QuerySet:
    """``user``'s runs of ``workflow``, newest first."""
    from agents.models import Run

    return Run.objects.filter(owner=user, workflow_run__workflow=workflow).order_by(
        "-created_at", "-id"
    )
