"""The forms on an agent's public page, and a shared workflow's: rate,
comment, reply, edit, delete, hide and react. Each posts, calls one service
in community.reviews, and goes back to the page (at the right place) with a
message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents import selectors as agent_selectors
from agents.models import Agent
from community import reviews
from community.models import Comment


def _agent(request, agent_id) -> Agent:
    agent = agent_selectors.agent_get_visible(user=request.user, agent_id=agent_id)
    if agent is None:
        raise Http404
    return agent


def _workflow(request, workflow_id):
    from workflows.selectors import workflow_get_runnable

    workflow = workflow_get_runnable(user=request.user, workflow_id=workflow_id)
    if workflow is None:
        raise Http404
    return workflow


def _target(request, agent_id=None, workflow_id=None) -> tuple:
    """The agent or workflow the form is about, and how services name it."""
    if workflow_id is not None:
        workflow = _workflow(request, workflow_id)
        return workflow, {"workflow": workflow}
    agent = _agent(request, agent_id)
    return agent, {"agent": agent}


def _comment(request, comment_id) -> Comment:
    comment = (
        Comment.objects.select_related("agent__owner", "workflow__owner")
        .filter(reviews.comment_visible_q(), pk=comment_id)
        .first()
    )
    if comment is None:
        raise Http404
    if comment.workflow_id:
        _workflow(request, comment.workflow_id)
    else:
        _agent(request, comment.agent_id)
    return comment


def _back(target, anchor: str = ""):
    return redirect(target.get_listing_url() + (f"#{anchor}" if anchor else ""))


def _errors(request, error) -> None:
    if isinstance(error, ValidationError):
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
    else:
        messages.error(request, str(error))


@login_required
@require_POST
def rate(request, agent_id: int | None = None, workflow_id: int | None = None):
    agent, target = _target(request, agent_id, workflow_id)
    try:
        reviews.rating_save(
            **target,
            user=request.user,
            stars=request.POST.get("stars", ""),
            review=request.POST.get("review", ""),
        )
    except (ValidationError, PermissionDenied) as error:
        _errors(request, error)
    else:
        messages.success(
            request, _("Thanks for rating %(name)s.") % {"name": agent.name}
        )
    return _back(agent, "reviews")


@login_required
@require_POST
def comment(request, agent_id: int | None = None, workflow_id: int | None = None):
    agent, target = _target(request, agent_id, workflow_id)
    parent = None
    if request.POST.get("parent"):
        parent = Comment.objects.filter(
            pk=request.POST["parent"] if request.POST["parent"].isdigit() else 0,
            **target,
        ).first()
        if parent is None:
            raise Http404
    try:
        created = reviews.comment_create(
            **target,
            user=request.user,
            body=request.POST.get("body", ""),
            parent=parent,
        )
    except (ValidationError, PermissionDenied) as error:
        _errors(request, error)
        return _back(agent, "comments")
    return _back(agent, f"comment-{created.pk}")


@login_required
@require_POST
def comment_edit(request, comment_id: int):
    target = _comment(request, comment_id)
    try:
        reviews.comment_edit(
            comment=target, user=request.user, body=request.POST.get("body", "")
        )
    except (ValidationError, PermissionDenied) as error:
        _errors(request, error)
    return _back(target.target, f"comment-{target.pk}")


@login_required
@require_POST
def comment_delete(request, comment_id: int):
    target = _comment(request, comment_id)
    try:
        reviews.comment_delete(comment=target, user=request.user)
    except PermissionDenied as error:
        _errors(request, error)
    return _back(target.target, "comments")


@login_required
@require_POST
def comment_hide(request, comment_id: int):
    target = _comment(request, comment_id)
    try:
        reviews.comment_set_hidden(comment=target, user=request.user, hidden=True)
    except PermissionDenied as error:
        _errors(request, error)
    else:
        messages.success(request, _("The comment is hidden."))
    return _back(target.target, "comments")


@login_required
@require_POST
def react(
    request,
    agent_id: int | None = None,
    comment_id: int | None = None,
    workflow_id: int | None = None,
):
    if comment_id is not None:
        target = _comment(request, comment_id)
        agent, kwargs, anchor = (
            target.target,
            {"comment": target},
            f"comment-{comment_id}",
        )
    else:
        agent, kwargs = _target(request, agent_id, workflow_id)
        anchor = "reactions"
    try:
        reviews.reaction_toggle(
            user=request.user, emoji=request.POST.get("emoji", ""), **kwargs
        )
    except (ValidationError, PermissionDenied) as error:
        _errors(request, error)
    return _back(agent, anchor)
