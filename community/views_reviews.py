"""The forms on an agent's public page: rate, comment, reply, edit, delete,
hide and react. Each posts, calls one service in community.reviews, and goes
back to the page (at the right place) with a message."""

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


def _comment(request, comment_id) -> Comment:
    comment = (
        Comment.objects.select_related("agent__owner")
        .filter(reviews.comment_visible_q(), pk=comment_id)
        .first()
    )
    if comment is None:
        raise Http404
    _agent(request, comment.agent_id)
    return comment


def _back(agent: Agent, anchor: str = ""):
    return redirect(agent.get_listing_url() + (f"#{anchor}" if anchor else ""))


def _errors(request, error) -> None:
    if isinstance(error, ValidationError):
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
    else:
        messages.error(request, str(error))


@login_required
@require_POST
def rate(request, agent_id: int):
    agent = _agent(request, agent_id)
    try:
        reviews.rating_save(
            agent=agent,
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
def comment(request, agent_id: int):
    agent = _agent(request, agent_id)
    parent = None
    if request.POST.get("parent"):
        parent = Comment.objects.filter(
            pk=request.POST["parent"] if request.POST["parent"].isdigit() else 0,
            agent=agent,
        ).first()
        if parent is None:
            raise Http404
    try:
        created = reviews.comment_create(
            agent=agent,
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
    return _back(target.agent, f"comment-{target.pk}")


@login_required
@require_POST
def comment_delete(request, comment_id: int):
    target = _comment(request, comment_id)
    try:
        reviews.comment_delete(comment=target, user=request.user)
    except PermissionDenied as error:
        _errors(request, error)
    return _back(target.agent, "comments")


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
    return _back(target.agent, "comments")


@login_required
@require_POST
def react(request, agent_id: int | None = None, comment_id: int | None = None):
    if comment_id is not None:
        target = _comment(request, comment_id)
        agent, kwargs, anchor = (
            target.agent,
            {"comment": target},
            f"comment-{comment_id}",
        )
    else:
        agent = _agent(request, agent_id)
        kwargs, anchor = {"agent": agent}, "reactions"
    try:
        reviews.reaction_toggle(
            user=request.user, emoji=request.POST.get("emoji", ""), **kwargs
        )
    except (ValidationError, PermissionDenied) as error:
        _errors(request, error)
    return _back(agent, anchor)
