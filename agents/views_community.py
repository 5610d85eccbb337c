"""The public face of agents: Discover, an agent's page at
/u/<username>/<slug>/, and forking. Discover and public pages need no
account; running, forking and the rest do."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents import presenters, selectors, services
from agents.models import Category
from agents.services import sharing

AGENTS_PER_PAGE = 24
RATINGS_SHOWN = 20
THREADS_PER_PAGE = 20


def discover_filters(params) -> dict[str, str]:
    """The search, tag, category and sort a request asks for, cleaned: an
    unknown category or sort is ignored rather than an error."""
    category = params.get("category", "")
    sort = params.get("sort", "")
    return {
        "q": params.get("q", "").strip()[:200],
        "tag": params.get("tag", "").strip().lower()[:40],
        "category": category if category in Category.values else "",
        "sort": selectors.DISCOVER_SORT_ALIASES.get(sort, sort)
        if sort in (*selectors.DISCOVER_SORTS, *selectors.DISCOVER_SORT_ALIASES)
        else "",
    }


WORKFLOWS_SHOWN = 6


def _workflows_to_discover(request) -> list:
    if request.htmx:
        return []  # the results partial alone
    from workflows.selectors import workflow_list_public

    return list(workflow_list_public(sort="runs")[:WORKFLOWS_SHOWN])


@require_GET
def discover(request):
    filters = discover_filters(request.GET)
    agents = selectors.agent_list_published(**filters)
    page = Paginator(agents, AGENTS_PER_PAGE).get_page(request.GET.get("page"))
    query = {k: v for k, v in filters.items() if v}
    context = {
        "page": page,
        "filters": filters,
        "categories": Category.choices,
        "sorts": [
            ("trending", _("Trending")),
            ("top", _("Top rated")),
            ("runs", _("Most run")),
            ("new", _("Newest")),
        ],
        "tags": selectors.agent_tag_cloud(),
        # The most run shared workflows, below the agents.
        "workflows": _workflows_to_discover(request),
        "filter_query": urlencode(query),
        "model_labels": selectors.model_labels(),
    }
    template = "agents/partials/discover_results.html" if request.htmx else None
    return render(request, template or "agents/discover.html", context)


@require_GET
def listing(request, username: str, slug: str):
    agent = selectors.agent_get_listed(user=request.user, username=username, slug=slug)
    if agent is None:
        raise Http404
    from community import reviews
    from workflows.selectors import handoff_targets_listed

    user = request.user
    context = {
        "agent": agent,
        # What the shared ratings and comments partials are about.
        "listing": agent,
        "rate_url": reverse("community:rate", args=[agent.pk]),
        "comment_url": reverse("community:comment", args=[agent.pk]),
        "can_edit": selectors.agent_can_edit(user=user, agent=agent),
        "model_label": selectors.model_labels().get(agent.model, agent.model),
        "forks": selectors.agent_forks(agent=agent),
        "distribution": reviews.rating_distribution(agent=agent),
        "ratings": reviews.rating_list(agent=agent)[:RATINGS_SHOWN],
        "my_rating": (
            reviews.rating_list(agent=agent).filter(user=user).first()
            if user.is_authenticated
            else None
        ),
        "star_choices": [5, 4, 3, 2, 1],
        "shared_runs": sharing.runs_shared_on_listing(agent=agent),
        "handoff_targets": handoff_targets_listed(agent=agent),
    }
    threads = Paginator(reviews.comment_threads(agent=agent), THREADS_PER_PAGE)
    context["threads_page"] = threads.get_page(request.GET.get("comments"))
    prefetch_related_objects([agent], "reactions")
    return render(request, "agents/listing.html", context)


@login_required
@require_POST
def fork(request, agent_id: int):
    agent = selectors.agent_get_visible(user=request.user, agent_id=agent_id)
    if agent is None:
        raise Http404
    try:
        forked, notes = services.agent_fork(agent=agent, user=request.user)
    except ValidationError as error:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
        return redirect(agent.get_listing_url())
    messages.success(
        request,
        _("Forked %(name)s: this copy is yours, and private until you publish it.")
        % {"name": agent.name},
    )
    for note in notes:
        messages.warning(request, note)
    return redirect(forked)


@require_GET
def fork_changes(request, agent_id: int):
    """What a fork changed against the version it was forked from. The origin
    must still be visible to the viewer: a fork does not reveal an agent its
    owner has since made private."""
    agent = selectors.agent_get_viewable(user=request.user, agent_id=agent_id)
    if agent is None or agent.forked_from_id is None:
        raise Http404
    origin = selectors.agent_get_listed(
        user=request.user,
        username=agent.forked_from.owner.username,
        slug=agent.forked_from.slug,
    )
    origin_version = (
        selectors.version_get(agent=origin, number=agent.forked_from_version)
        if origin is not None
        else None
    )
    current = selectors.version_get(agent=agent, number=agent.version_number)
    if origin_version is None or current is None:
        raise Http404
    diffs = presenters.definition_diff(origin_version.definition, current.definition)
    return render(
        request,
        "agents/fork_changes.html",
        {
            "agent": agent,
            "origin": origin,
            "origin_version": origin_version,
            "changed": [d for d in diffs if d.changed],
            "unchanged": [d.label for d in diffs if not d.changed],
        },
    )
