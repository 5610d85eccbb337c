"""The public face of agents: Discover, an agent's page at
/u/<username>/<slug>/, and forking. Discover and public pages need no
account; running, forking and the rest do."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents import presenters, selectors, services
from agents.models import Agent, Category
from agents.selectors.handoffs import handoff_targets_listed
from agents.services import sharing
from config.api import CountedRowsPaginator
from config.fragments import fragment, fragment_cache, fragment_key

AGENTS_PER_PAGE = 24
RATINGS_SHOWN = 20
THREADS_PER_PAGE = 20
TAG_CLOUD_SECONDS = 60


CARD_ROW_LENGTH = len(selectors.AGENT_CARD_FIELDS)


def _card_keys(rows) -> dict[int, str]:
    """Each agent's Discover card key: every field the card displays
    (selectors.AGENT_CARD_FIELDS), counters included, so a new rating, run
    or fork, a rename or an edited description is a new card at once. A
    card shows nothing about the viewer, so one rendering serves everyone."""
    return {row[0]: fragment_key("card", *row[:CARD_ROW_LENGTH]) for row in rows}


def _card_agent(row) -> Agent:
    """The unsaved Agent (and owner) a card template reads, from a card row."""
    values = dict(zip(selectors.AGENT_CARD_FIELDS, row[:CARD_ROW_LENGTH], strict=True))
    username = values.pop("owner__username")
    return Agent(owner=get_user_model()(username=username), **values)


def _with_cards(rows, keys: dict[int, str]) -> list[str]:
    """The page's cards' HTML, each from the fragment cache (one round trip for
    the page) or rendered and kept. Only a card not kept is made into an
    Agent; its category label comes from a mapping translated once per
    call, not from get_category_display (which translates every label on
    each call)."""
    labels = {value: str(label) for value, label in Category.choices}
    cache = fragment_cache()
    found = cache.get_many(list(keys.values()))
    rendered = {}
    cards = []
    for row in rows:
        key = keys[row[0]]
        html = found.get(key)
        if html is None:
            agent = _card_agent(row)
            agent.category_label = labels.get(agent.category, agent.category)
            html = render_to_string("agents/partials/agent_card.html", {"agent": agent})
            rendered[key] = html
        cards.append(mark_safe(html))  # noqa: S308 (our own template's output)
    if rendered:
        cache.set_many(rendered)
    return cards


def _tag_cloud() -> list[tuple[str, int]]:
    """The popular tags, counted at most once a minute per process: the count
    runs over every published agent's tags, and a tag's count a minute old
    misleads no one (the agents listed below it are always current)."""
    cache = fragment_cache()
    tags = cache.get("tag-cloud")
    if tags is None:
        tags = selectors.agent_tag_cloud()
        cache.set("tag-cloud", tags, TAG_CLOUD_SECONDS)
    return tags


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
    """The most run shared workflows, read on every request (one query): a
    workflow made private or renamed leaves the list at once."""
    if request.htmx:
        return []  # the results partial alone
    from workflows.selectors import workflow_list_most_run

    # Only the four columns shown, by SQL built once per process: with whole
    # rows (and their owners') and the query built on each request the ORM
    # spent more on it than the database.
    rows = workflow_list_most_run(limit=WORKFLOWS_SHOWN)
    return [
        {
            "pk": pk,
            "name": name,
            "owner": {"username": username},
            "run_count": run_count,
        }
        for pk, name, username, run_count in rows
    ]


@require_GET
def discover(request):
    filters = discover_filters(request.GET)
    # Only what a card shows, as plain rows by SQL built once per filter and
    # page, each row carrying the count of matches: building the query and
    # the model instances cost more than running it.
    page = CountedRowsPaginator(
        selectors.agent_card_rows(**filters), AGENTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    rows = page.object_list
    keys = _card_keys(rows)
    tags = _tag_cloud()
    # The most run shared workflows, below the agents.
    workflows = _workflows_to_discover(request)
    query = {k: v for k, v in filters.items() if v}

    def context() -> dict:
        page.object_list = _with_cards(rows, keys)
        return {
            "page": page,
            "filters": filters,
            "categories": Category.choices,
            "sorts": [
                ("trending", _("Trending")),
                ("top", _("Top rated")),
                ("runs", _("Most run")),
                ("new", _("Newest")),
            ],
            "tags": tags,
            "workflows": workflows,
            "filter_query": urlencode(query),
        }

    if request.htmx:
        return render(request, "agents/partials/discover_results.html", context())
    # The whole body is the same for every viewer (a GET form, no CSRF
    # token): kept under the filters, the page, its cards' keys, the count,
    # the tags and the workflows shown.
    key = fragment_key(
        "discover",
        filters,
        page.number,
        page.paginator.count,
        list(keys.values()),
        tags,
        workflows,
    )
    body = fragment(
        key,
        lambda: render_to_string("agents/partials/discover_content.html", context()),
    )
    return render(request, "agents/discover.html", {"content_html": body})


@require_GET
def listing(request, username: str, slug: str):
    agent = selectors.agent_get_listed(user=request.user, username=username, slug=slug)
    if agent is None:
        raise Http404
    if not request.user.is_authenticated:
        return render(
            request,
            "agents/listing.html",
            {"agent": agent, "listing_html": _listing_for_visitors(request, agent)},
        )
    from community import reviews

    context = _listing_context(request, agent)
    threads = Paginator(reviews.comment_threads(agent=agent), THREADS_PER_PAGE)
    context["threads_page"] = threads.get_page(request.GET.get("comments"))
    prefetch_related_objects([agent], "reactions")
    return render(request, "agents/listing.html", context)


def _listing_context(request, agent) -> dict:
    from community import reviews

    user = request.user
    return {
        "agent": agent,
        # What the shared ratings and comments partials are about.
        "listing": agent,
        "rate_url": reverse("community:rate", args=[agent.pk]),
        "comment_url": reverse("community:comment", args=[agent.pk]),
        "can_edit": selectors.agent_can_edit(user=user, agent=agent),
        "model_label": selectors.model_labels_recent().get(agent.model, agent.model),
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


def _listing_for_visitors(request, agent) -> str:
    """The agent page's body as a signed-out visitor sees it, rendered once
    per state of the page. The key holds the agent's whole row, its owner's
    and its origin's names, the model's label, and fingerprints of the
    comments and of everything else on the page (community.page_cache): a
    rating, review, comment, reaction, fork, shared run or edit is a new key
    at once, and nothing needs deleting.

    Only for visitors: a signed-in person's page carries their own rating,
    reaction marks, edit and delete forms and CSRF token.
    """
    from community import page_cache, reviews

    comments = reviews.comment_threads_fingerprint(agent=agent)
    number = _comments_page_number(request, comments)
    origin = agent.forked_from
    key = fragment_key(
        "listing",
        request.path,
        number,
        [getattr(agent, field.attname) for field in agent._meta.concrete_fields],
        agent.owner.username,
        origin and (origin.name, origin.slug, origin.owner.username),
        selectors.model_labels_recent().get(agent.model, agent.model),
        comments,
        page_cache.listing_fingerprint(agent=agent),
    )

    def render_body() -> str:
        context = _listing_context(request, agent)
        context["comments_html"] = _comments_for_visitors(
            request, agent, context, fingerprint=comments, number=number
        )
        prefetch_related_objects([agent], "reactions")
        return render_to_string(
            "agents/partials/listing_content.html", context, request=request
        )

    return fragment(key, render_body)


def _comments_page_number(request, fingerprint: str) -> int:
    """The comment page asked for, as the paginator will read it (junk is
    page 1, too far the last), so made-up numbers share one entry."""
    count = int(fingerprint.split("-", 1)[0])
    return (
        Paginator(range(count), THREADS_PER_PAGE)
        .get_page(request.GET.get("comments"))
        .number
    )


def _comments_for_visitors(
    request, agent, context: dict, *, fingerprint: str, number: int
) -> str:
    """The comment threads as a visitor sees them, kept under the comments'
    fingerprint (community.reviews): a new comment, an edit, a deletion, a
    hidden comment or a reaction is a new key. Kept apart from the rest of
    the page so a new rating does not render 20 threads again."""
    from community import reviews

    key = fragment_key("comments", "agent", agent.pk, request.path, number, fingerprint)

    def render_threads() -> str:
        threads = Paginator(reviews.comment_threads(agent=agent), THREADS_PER_PAGE)
        return render_to_string(
            "agents/partials/listing_comments.html",
            {**context, "threads_page": threads.get_page(number)},
            request=request,
        )

    return fragment(key, render_threads)


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
