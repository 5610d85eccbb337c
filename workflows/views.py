"""Pages: the handoffs section of an agent's page and builder (its owner's
alone); workflows: the list, the visual builder (which saves through the
API), a workflow's page with its run form and runs, and a paused run's
approval and resume forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.models import InputFilter, Run
from agents.selectors import agent_list_owned
from agents.selectors import handoffs as handoff_selectors
from agents.services import handoffs as handoff_services
from workflows import selectors, services

PUBLIC_PER_PAGE = 30


def _flash(request, error: ValidationError) -> None:
    for problems in error.message_dict.values():
        for problem in problems:
            messages.error(request, problem)


def _context(agent, user) -> dict:
    handoffs = list(handoff_selectors.handoff_list(agent=agent))
    taken = {h.target_id for h in handoffs} | {agent.pk}
    return {
        "agent": agent,
        "handoffs": handoffs,
        "candidates": agent_list_owned(user=user)
        .filter(is_playground=False)
        .exclude(pk__in=taken)
        .order_by("name"),
        "input_filters": InputFilter.choices,
        "max_handoffs": handoff_services.MAX_HANDOFFS,
    }


@login_required
def agent_handoffs(request, agent_id: int):
    """GET: the section. POST: add one (``target`` or ``target_id``) or remove
    one (``remove``); htmx gets the section back."""
    agent = get_object_or_404(agent_list_owned(user=request.user), pk=agent_id)
    if request.method == "POST":
        try:
            if request.POST.get("remove"):
                handoff = handoff_selectors.handoff_get(
                    agent=agent, handoff_id=request.POST["remove"]
                )
                if handoff is not None:
                    handoff_services.handoff_delete(handoff=handoff, user=request.user)
            else:
                handoff_services.handoff_create(
                    agent=agent,
                    user=request.user,
                    target_id=request.POST.get("target_id")
                    or request.POST.get("target"),
                    description=request.POST.get("description", ""),
                    input_filter=request.POST.get("input_filter", ""),
                )
        except ValidationError as error:
            _flash(request, error)
        if not request.htmx:
            return redirect("agents:detail", agent_id=agent.pk)
    return render(
        request,
        "workflows/partials/agent_handoffs.html",
        _context(agent, request.user),
    )


# ---------- Workflows: list, builder, page, runs ----------


def _agent_choices(user) -> list[dict]:
    """The agents a workflow of ``user``'s may use, for the builder."""
    from agents.selectors import agent_tool_candidates

    agents = (
        agent_tool_candidates(owner_id=user.pk)
        .filter(is_playground=False)
        .select_related("owner")
        .order_by("name", "pk")
    )
    choices = [
        {
            "id": agent.pk,
            "name": agent.name,
            "owner": agent.owner.username,
            "model": agent.model,
            "mine": agent.owner_id == user.pk,
        }
        for agent in agents
    ]
    # The person's own agents first; others' shared ones after, in a group
    # of their own (static/js/workflow-builder.js).
    return sorted(choices, key=lambda choice: not choice["mine"])


def workflow_list(request):
    """Your workflows, and everyone's public ones (visitors see those)."""
    mine = (
        selectors.workflow_list(owner=request.user)
        if request.user.is_authenticated
        else None
    )
    q = request.GET.get("q", "")[:200]
    sort = request.GET.get("sort", "new")
    return render(
        request,
        "workflows/workflow_list.html",
        {
            "workflows": mine,
            "public": selectors.workflow_list_public(
                exclude_owner=request.user, q=q, sort=sort
            )[:PUBLIC_PER_PAGE],
            "q": q,
            "sort": sort if sort in selectors.PUBLIC_SORTS else "new",
        },
    )


@login_required
@require_POST
def workflow_fork(request, workflow_id: int):
    workflow = selectors.workflow_get_runnable(
        user=request.user, workflow_id=workflow_id
    )
    if workflow is None:
        raise Http404
    try:
        fork = services.workflow_fork(workflow=workflow, user=request.user)
    except ValidationError as error:
        _flash(request, error)
        return redirect("workflows:detail", workflow_id=workflow.pk)
    messages.success(
        request, _("Forked: this copy is yours (private) to change and run.")
    )
    return redirect("workflows:edit", workflow_id=fork.pk)


def _builder(request, workflow=None):
    from workflows.graph import KINDS

    data = {
        "workflow": (
            {
                "id": workflow.pk,
                "name": workflow.name,
                "description": workflow.description,
                "visibility": workflow.visibility,
                "version": workflow.version_number,
            }
            if workflow
            else None
        ),
        "graph": workflow.graph if workflow else None,
        "agents": _agent_choices(request.user),
        "kinds": list(KINDS),
        "api": {
            "create": reverse("workflow-list"),
            "detail": (
                reverse("workflow-detail", args=[workflow.pk]) if workflow else None
            ),
            "validate": reverse("workflow-validate"),
        },
        "page": reverse("workflows:detail", args=[0]),
    }
    return render(
        request,
        "workflows/builder.html",
        {"workflow": workflow, "builder_data": data},
    )


@login_required
def workflow_new(request):
    return _builder(request)


@login_required
def workflow_edit(request, workflow_id: int):
    workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
    if workflow is None:
        raise Http404
    return _builder(request, workflow)


def workflow_detail(request, workflow_id: int):
    workflow = selectors.workflow_get_runnable(
        user=request.user, workflow_id=workflow_id
    )
    if workflow is None:
        raise Http404
    runs = (
        selectors.workflow_run_list(user=request.user, workflow=workflow)
        if request.user.is_authenticated
        else Run.objects.none()
    )
    is_owner = workflow.owner_id == request.user.pk
    return render(
        request,
        "workflows/workflow_detail.html",
        {
            **_conversation(request, workflow, is_owner=is_owner),
            "workflow": workflow,
            "is_owner": is_owner,
            "graph_data": {
                "graph": workflow.graph,
                "agents": _graph_agent_names(workflow),
            },
            "runs": runs.select_related(
                "workflow_run__workflow", "workflow_run__version"
            )[:20],
            "errors": {},
        },
    )


RATINGS_SHOWN = 10
THREADS_PER_PAGE = 20


def _conversation(request, workflow, *, is_owner: bool) -> dict:
    """A shared workflow's ratings, comments and reactions, through the same
    services and partials as an agent's public page."""
    from django.core.paginator import Paginator
    from django.db.models import prefetch_related_objects

    from agents.models import Visibility
    from community import reviews

    if workflow.visibility == Visibility.PRIVATE:
        return {"shared": False}
    user = request.user
    prefetch_related_objects([workflow], "reactions")
    threads = Paginator(reviews.comment_threads(workflow=workflow), THREADS_PER_PAGE)
    return {
        "shared": True,
        "listing": workflow,
        "rate_url": reverse("community:workflow-rate", args=[workflow.pk]),
        "comment_url": reverse("community:workflow-comment", args=[workflow.pk]),
        "react_url": reverse("community:workflow-react", args=[workflow.pk]),
        "can_edit": is_owner,
        "distribution": reviews.rating_distribution(workflow=workflow),
        "ratings": reviews.rating_list(workflow=workflow)[:RATINGS_SHOWN],
        "my_rating": (
            reviews.rating_list(workflow=workflow).filter(user=user).first()
            if user.is_authenticated
            else None
        ),
        "star_choices": [5, 4, 3, 2, 1],
        "threads_page": threads.get_page(request.GET.get("comments")),
    }


def _graph_agent_names(workflow) -> dict[str, str]:
    from agents.models import Agent
    from workflows.runs import graph_agent_ids

    ids = graph_agent_ids(workflow.graph) if workflow.graph.get("nodes") else set()
    return {
        str(pk): name
        for pk, name in Agent.objects.filter(pk__in=ids).values_list("pk", "name")
    }


@login_required
@require_POST
def workflow_run(request, workflow_id: int):
    from workflows.runs import workflow_run_start

    workflow = selectors.workflow_get_runnable(
        user=request.user, workflow_id=workflow_id
    )
    if workflow is None:
        raise Http404
    try:
        run = workflow_run_start(
            workflow=workflow,
            user=request.user,
            input=request.POST.get("input", ""),
            max_credits=request.POST.get("max_credits") or None,
        )
    except ValidationError as error:
        _flash(request, error)
        return redirect("workflows:detail", workflow_id=workflow.pk)
    return redirect(run)


def _own_run(request, run_id):
    from agents.selectors import run_get_visible

    run = run_get_visible(user=request.user, run_id=run_id)
    if run is None or run.owner_id != request.user.pk:
        raise Http404
    return run


def _after_run_action(request, run, error: ValidationError | None):
    if error is not None:
        _flash(request, error)
    if request.htmx:
        if error is not None:
            # The page shows the messages; the run is as it was.
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return None
    return redirect(run)


@login_required
@require_POST
def run_approval(request, run_id: int):
    """Approve or reject (``decision``) what the run waits for (``key``)."""
    from workflows.runs import workflow_run_decide

    run = _own_run(request, run_id)
    error = None
    decision = request.POST.get("decision", "")
    try:
        workflow_run_decide(
            run=run,
            user=request.user,
            decision=decision,
            comment=request.POST.get("comment", ""),
            key=request.POST.get("key") or None,
        )
    except ValidationError as caught:
        error = caught
    response = _after_run_action(request, run, error)
    if response is not None:
        return response
    # htmx: the form becomes what was decided; the websocket brings the rest.
    return render(
        request,
        "workflows/partials/approval_decided.html",
        {"decision": decision},
    )


@login_required
@require_POST
def run_resume(request, run_id: int):
    from workflows.runs import workflow_run_resume

    run = _own_run(request, run_id)
    error = None
    try:
        workflow_run_resume(
            run=run,
            user=request.user,
            max_credits=request.POST.get("max_credits") or None,
        )
    except ValidationError as caught:
        error = caught
    return _after_run_action(request, run, error) or HttpResponse(status=204)
