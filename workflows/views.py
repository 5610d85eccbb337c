"""The handoffs section of an agent's page and builder: which agents it may
hand the conversation to. Its owner's alone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from agents.selectors import agent_list_owned
from workflows import selectors, services
from workflows.models import InputFilter


def _context(agent, user) -> dict:
    handoffs = list(selectors.handoff_list(agent=agent))
    taken = {h.target_id for h in handoffs} | {agent.pk}
    return {
        "agent": agent,
        "handoffs": handoffs,
        "candidates": agent_list_owned(user=user)
        .filter(is_playground=False)
        .exclude(pk__in=taken)
        .order_by("name"),
        "input_filters": InputFilter.choices,
        "max_handoffs": services.MAX_HANDOFFS,
    }


@login_required
def agent_handoffs(request, agent_id: int):
    """GET: the section. POST: add one (``target`` or ``target_id``) or remove
    one (``remove``); htmx gets the section back."""
    agent = get_object_or_404(agent_list_owned(user=request.user), pk=agent_id)
    if request.method == "POST":
        try:
            if request.POST.get("remove"):
                handoff = selectors.handoff_get(
                    agent=agent, handoff_id=request.POST["remove"]
                )
                if handoff is not None:
                    services.handoff_delete(handoff=handoff, user=request.user)
            else:
                services.handoff_create(
                    agent=agent,
                    user=request.user,
                    target_id=request.POST.get("target_id")
                    or request.POST.get("target"),
                    description=request.POST.get("description", ""),
                    input_filter=request.POST.get("input_filter", ""),
                )
        except ValidationError as error:
            for problems in error.message_dict.values():
                for problem in problems:
                    messages.error(request, problem)
        if not request.htmx:
            return redirect("agents:detail", agent_id=agent.pk)
    return render(
        request,
        "workflows/partials/agent_handoffs.html",
        _context(agent, request.user),
    )
