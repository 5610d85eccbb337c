"""Shared runs: the share switch on a run's page, and the read-only copy
anyone with the link sees at /r/<token>/, signed in or not."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from agents import selectors
from agents.models import Visibility
from agents.payloads import run_to_dict, step_to_dict
from agents.redaction import shared_run_data, shared_step
from agents.services import sharing
from agents.views import timeline_context


@login_required
@require_http_methods(["GET", "POST"])
def run_share(request, run_id: int):
    """Share the run (``share=1``), stop sharing it (``share=0``), or, with
    neither, switch. A run the user may not see is a 404; someone else's
    that they may see (staff) a 403, from the service. GET answers the
    control alone, for the run page to fetch once the run has finished."""
    run = selectors.run_get_visible(user=request.user, run_id=run_id)
    if run is None:
        raise Http404
    if request.method == "GET":
        if run.owner_id != request.user.pk:
            raise Http404
        return render(request, "agents/partials/run_share.html", {"run": run})
    wanted = request.POST.get("share")
    if wanted not in ("0", "1"):
        wanted = "0" if run.share_token else "1"
    errors = []
    try:
        if wanted == "1":
            run = sharing.run_share(run=run, user=request.user)
        else:
            run = sharing.run_unshare(run=run, user=request.user)
    except ValidationError as error:
        errors = [m for problems in error.message_dict.values() for m in problems]
    if request.htmx:
        # htmx swaps only 2xx answers: a refusal shows inside the control.
        return render(
            request,
            "agents/partials/run_share.html",
            {"run": run, "share_errors": errors},
        )
    if errors:
        context = timeline_context(run, user=request.user)
        context.update(is_owner=True, share_errors=errors)
        return render(request, "agents/run_detail.html", context, status=400)
    if run.share_token:
        messages.success(request, _("Shared: anyone with the link can see this run."))
    else:
        messages.success(
            request, _("Stopped sharing: the link no longer shows this run.")
        )
    return redirect(run)


@require_GET
def shared_run(request, token: str):
    run = sharing.run_get_shared(token=token)
    if run is None:
        raise Http404
    steps = list(selectors.step_list(run=run))
    pattern = sharing.run_shared_secrets(run=run, steps=steps).pattern()
    agent = run.agent
    context = {
        # run_timeline.html draws run_data and steps; of ``run`` it reads only
        # whether it finished (it has: no websocket, no cancel button).
        "run": run,
        "run_data": shared_run_data(run_to_dict(run), pattern),
        "steps": [shared_step(step_to_dict(step), pattern) for step in steps],
        "can_cancel": False,
        "agent_url": (
            agent.get_listing_url()
            if agent.visibility == Visibility.PUBLIC and not agent.is_playground
            else None
        ),
    }
    response = render(request, "agents/shared_run.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response
