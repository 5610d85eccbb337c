"""Reads for workflows. (Handoffs' are agents.selectors.handoffs.)"""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import QuerySet


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
