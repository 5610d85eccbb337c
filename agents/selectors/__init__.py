"""Permission-aware reads of agents, versions, the catalog and runs.

Private agents, their versions and runs are visible to their owner and staff
only; public and unlisted agents to every signed-in user. A run is visible to
the person who started it (and staff), whoever owns the agent.
"""

from __future__ import annotations

import functools
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models import Window as WindowExpression
from django.db.models.functions import Cast, Concat, Trunc

from agents.models import (
    FINISHED_STATUSES,
    Agent,
    AgentVersion,
    Conversation,
    CustomTool,
    LanguageModel,
    ProviderKey,
    Run,
    RunStatus,
    RunStep,
    ToolSetting,
    Visibility,
)
from agents.runtime import discovery
from billing.models import EntryKind
from billing.pricing import DEFAULT_PER_1K
from config.fragments import fragment_cache
from config.periods import Window, fill_periods
from config.sqlonce import CompiledQuery, RelatedColumns


def _can_see_all(user) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def agent_visible_q(user) -> Q:
    if _can_see_all(user):
        return Q()
    shared = Q(
        visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED],
        is_hidden=False,
        owner__is_hidden=False,
    )
    if not user.is_authenticated:
        return Q(pk__in=[])
    return shared | Q(owner=user)


def agent_list_owned(*, user) -> QuerySet[Agent]:
    """The user's agents, without the hidden one behind their playground."""
    return Agent.objects.filter(owner=user, is_playground=False)


def agent_get_visible(*, user, agent_id) -> Agent | None:
    """The agent if ``user`` may see (and run) it, else None."""
    try:
        agent_id = int(agent_id)
    except (TypeError, ValueError):
        return None
    # One row by its key: no ORDER BY to build (the model's default ordering
    # costs more to compile than the query takes to run).
    found = (
        Agent.objects.select_related("owner", "forked_from__owner")
        .filter(agent_visible_q(user), pk=agent_id)
        .order_by()[:1]
    )
    return next(iter(found), None)


def playground_agent(*, user) -> Agent | None:
    """The hidden agent behind ``user``'s playground, if they have used it."""
    if not user.is_authenticated:
        return None
    return Agent.objects.filter(owner=user, is_playground=True).first()


def agent_can_edit(*, user, agent: Agent) -> bool:
    return user.is_authenticated and agent.owner_id == user.pk


def agent_tool_candidates(*, owner_id) -> QuerySet[Agent]:
    """Agents that an agent owned by ``owner_id`` may run as tools: the owner's
    own and shared (public or unlisted) ones not hidden by moderators."""
    shared = Q(
        visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED],
        is_hidden=False,
        owner__is_hidden=False,
    )
    return Agent.objects.filter(shared | Q(owner_id=owner_id), is_playground=False)


def agent_is_runnable_by(*, user, agent_id: int) -> bool:
    return Agent.objects.filter(agent_visible_q(user), pk=agent_id).exists()


def agent_list_runnable(*, user) -> QuerySet[Agent]:
    """Agents ``user`` can pick as a guard agent: their own first."""
    return Agent.objects.filter(owner=user, is_playground=False).order_by("name")


def version_list(*, agent: Agent) -> QuerySet[AgentVersion]:
    return agent.versions.order_by("-number")


def version_latest(*, agent: Agent) -> AgentVersion | None:
    # Read from the database: the caller's copy of the agent may be stale.
    return agent.versions.order_by("-number").first()


def version_get(*, agent: Agent, number) -> AgentVersion | None:
    try:
        number = int(number)
    except (TypeError, ValueError):
        return None
    return agent.versions.filter(number=number).first()


def model_list_active() -> QuerySet[LanguageModel]:
    return LanguageModel.objects.filter(is_active=True)


def model_get_active(*, identifier: str) -> LanguageModel | None:
    provider, _, name = (identifier or "").partition("/")
    return LanguageModel.objects.filter(
        provider=provider, name=name, is_active=True
    ).first()


def model_labels() -> dict[str, str]:
    """Display names by identifier, for showing an agent's model."""
    return {m.identifier: m.display_name for m in LanguageModel.objects.all()}


MODEL_LABELS_SECONDS = 60


def model_labels_recent() -> dict[str, str]:
    """``model_labels()`` read at most once a minute per process, for pages
    and lists that everyone reads (staff rename a model rarely; an agent
    shows the identifier of a model not in the catalog meanwhile)."""
    cache = fragment_cache()
    labels = cache.get("model-labels")
    if labels is None:
        labels = model_labels()
        cache.set("model-labels", labels, MODEL_LABELS_SECONDS)
    return labels


def run_visible_q(user) -> Q:
    if _can_see_all(user):
        return Q()
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(owner=user)


def run_get_visible(*, user, run_id) -> Run | None:
    try:
        run_id = int(run_id)
    except (TypeError, ValueError):
        return None
    return (
        Run.objects.select_related(
            "agent",
            "version",
            "workflow_run__workflow",
            "workflow_run__version",
            "owner",
        )
        .filter(run_visible_q(user), pk=run_id)
        .first()
    )


def run_list_visible(
    *,
    user,
    agent_id=None,
    workflow_id=None,
    status: str | None = None,
    search: str = "",
    since=None,
    until=None,
) -> QuerySet[Run]:
    """Runs ``user`` may see; ``since``/``until`` are dates, both inclusive."""
    runs = Run.objects.select_related(
        "agent", "version", "workflow_run__workflow", "workflow_run__version"
    ).filter(run_visible_q(user))
    if agent_id:
        runs = runs.filter(agent_id=agent_id)
    if workflow_id:
        runs = runs.filter(workflow_run__workflow_id=workflow_id)
    if status:
        runs = runs.filter(status=status)
    if search:
        runs = runs.filter(input__icontains=search)
    if since:
        runs = runs.filter(created_at__date__gte=since)
    if until:
        runs = runs.filter(created_at__date__lte=until)
    return runs


def run_list_mine(*, user, **filters) -> QuerySet[Run]:
    """The runs ``user`` started; staff see others' runs by id or in the admin."""
    return run_list_visible(user=user, **filters).filter(owner=user)


def step_list(*, run: Run, after: int = 0) -> QuerySet[RunStep]:
    return run.steps.filter(order__gt=after).order_by("order")


def step_list_by_run_id(
    *, run_id: int, after: int, before: int | None = None
) -> QuerySet[RunStep]:
    """Steps after ``after`` (and before ``before``) of a run the caller has
    already checked access to: a live stream filling what it missed."""
    steps = RunStep.objects.filter(run_id=run_id, order__gt=after)
    if before is not None:
        steps = steps.filter(order__lt=before)
    return steps.order_by("order")


def provider_key_list(*, user) -> QuerySet[ProviderKey]:
    return ProviderKey.objects.filter(owner=user)


def provider_key_get(*, user, key_id) -> ProviderKey | None:
    try:
        key_id = int(key_id)
    except (TypeError, ValueError):
        return None
    return ProviderKey.objects.filter(owner=user, pk=key_id).first()


def provider_keys_for_runs(*, user) -> dict[str, ProviderKey]:
    """The user's own provider keys by provider (still encrypted)."""
    if user is None or not user.is_authenticated:
        return {}
    return {key.provider: key for key in ProviderKey.objects.filter(owner=user)}


def conversation_list_mine(*, user, agent_id=None) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(owner=user).select_related("agent")
    if agent_id:
        conversations = conversations.filter(agent_id=agent_id)
    # Explicit: a query grouped for the count ignores Meta.ordering.
    return conversations.annotate(turn_count=Count("runs")).order_by(
        "-updated_at", "-id"
    )


def conversation_get_visible(*, user, conversation_id) -> Conversation | None:
    """The conversation if ``user`` started it (or is staff), else None."""
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        return None
    if not user.is_authenticated:
        return None
    conversations = Conversation.objects.select_related("agent", "owner")
    if not _can_see_all(user):
        conversations = conversations.filter(owner=user)
    return conversations.filter(pk=conversation_id).first()


def conversation_turns(*, conversation: Conversation) -> QuerySet[Run]:
    return conversation.runs.select_related("version", "owner", "agent").order_by("pk")


# The model providers this site knows; the catalog's `provider` column uses
# these ids.
PROVIDERS = {
    "local": {
        "name": "Agentry (offline)",
        "description": "Runs on this server with no key: the Offline demo model.",
        "needs_key": False,
        "api": "in-process",
    },
    "openai": {
        "name": "OpenAI",
        "description": "OpenAI's Responses API, with your key or the site's.",
        "needs_key": True,
        "api": "responses",
    },
    "compatible": {
        "name": "OpenAI-compatible endpoint",
        "description": (
            "Any server that speaks OpenAI's Chat Completions (Ollama, vLLM, LM "
            "Studio, DeepSeek, Groq...): your own endpoint's URL and key, or the "
            "site's."
        ),
        "needs_key": True,
        "api": "chat_completions",
    },
    "ollama": {
        "name": "Ollama",
        "description": (
            "The models of an Ollama server the site runs (OLLAMA_BASE_URL), "
            "found when it answers."
        ),
        "needs_key": True,
        "api": "chat_completions",
    },
    "azure": {
        "name": "Azure OpenAI",
        "description": (
            "Azure OpenAI deployments over Chat Completions: your resource's "
            "(endpoint, key and deployment names), or the site's."
        ),
        "needs_key": True,
        "api": "chat_completions",
    },
    "anthropic": {
        "name": "Anthropic",
        "description": "Claude models through LiteLLM, with your key or the site's.",
        "needs_key": True,
        "api": "litellm",
    },
    "gemini": {
        "name": "Google Gemini",
        "description": "Gemini models through LiteLLM, with your key or the site's.",
        "needs_key": True,
        "api": "litellm",
    },
}


# Providers only the site's operator can set up: why they are not available.
SITE_ONLY_REASONS = {
    "ollama": "No Ollama server answers at this site's OLLAMA_BASE_URL.",
}


def _site_configured() -> dict[str, bool]:
    return {
        "openai": bool(settings.OPENAI_API_KEY),
        "compatible": bool(settings.OPENAI_COMPATIBLE_BASE_URL),
        "ollama": bool(_ollama_names()),
        "azure": bool(_azure_deployments()),
        "anthropic": bool(settings.ANTHROPIC_API_KEY),
        "gemini": bool(settings.GEMINI_API_KEY),
    }


def provider_availability(*, user) -> dict[str, dict]:
    """For each provider: whether ``user``'s runs can use it, whose key, and why not."""
    own = set()
    if user is not None and user.is_authenticated:
        own = set(
            ProviderKey.objects.filter(owner=user).values_list("provider", flat=True)
        )
    site_keys = _site_configured()
    result = {}
    for provider_id, info in PROVIDERS.items():
        if not info["needs_key"]:
            state = {"available": True, "key": None, "reason": ""}
        elif provider_id in own:
            state = {"available": True, "key": "yours", "reason": ""}
        elif site_keys.get(provider_id):
            state = {"available": True, "key": "site", "reason": ""}
        elif provider_id in SITE_ONLY_REASONS:
            state = {
                "available": False,
                "key": None,
                "reason": SITE_ONLY_REASONS[provider_id],
            }
        else:
            what = "endpoint" if provider_id == "compatible" else "key"
            state = {
                "available": False,
                "key": None,
                "reason": (
                    f"No {info['name']} {what}: add yours under Settings, "
                    "Provider keys, or ask the site to configure one."
                ),
            }
        result[provider_id] = {"id": provider_id, **info, **state}
    return result


def _listed_model(provider: str, name: str, label: str, description: str):
    """An unsaved catalog entry for a model a server listed. Not in the
    catalog, it costs the open-source rate, which is what runs are charged for
    it (agents.services.runs); staff set another price by adding it there."""
    return LanguageModel(
        provider=provider,
        name=name,
        display_name=f"{name} ({label})",
        description=description,
        input_price_per_1k=DEFAULT_PER_1K,
        output_price_per_1k=DEFAULT_PER_1K,
        position=900,
    )


def _catalog_names(provider: str) -> set[str]:
    # Every catalog entry, retired ones included: staff retired those on purpose.
    return set(
        LanguageModel.objects.filter(provider=provider).values_list("name", flat=True)
    )


def endpoint_models(*, user) -> list[LanguageModel]:
    """The models of the user's own endpoints, as unsaved catalog entries
    beside the site's: those their OpenAI-compatible endpoint listed when
    tested (``compatible/<name>``), and the deployments they named for their
    Azure OpenAI resource (``azure/<deployment>``)."""
    if user is None or not user.is_authenticated:
        return []
    sources = {
        "compatible": ("your endpoint", "Listed by your OpenAI-compatible endpoint."),
        "azure": ("your Azure OpenAI", "A deployment of your Azure OpenAI resource."),
    }
    saved = ProviderKey.objects.filter(
        owner=user, provider__in=list(sources)
    ).values_list("provider", "model_names")
    models = []
    for provider, names in saved:
        known = _catalog_names(provider)
        label, description = sources[provider]
        models += [
            _listed_model(provider, name, label, description)
            for name in names or []
            if name not in known
        ]
    return models


def _discovered(kind: str, base_url: str, probe) -> list[str]:
    """What ``probe`` lists at ``base_url``, remembered for
    MODEL_DISCOVERY_CACHE_SECONDS, an empty answer as well: a server that is
    not there costs one short probe a minute, not one per page."""
    digest = hashlib.sha256(base_url.encode()).hexdigest()[:32]
    key = f"agents:model-discovery:{kind}:{digest}"
    names = cache.get(key)
    if names is None:
        names = probe()
        cache.set(key, names, settings.MODEL_DISCOVERY_CACHE_SECONDS)
    return names


def _ollama_names() -> list[str]:
    base_url = settings.OLLAMA_BASE_URL
    if not base_url:
        return []
    return _discovered(
        "ollama",
        base_url,
        lambda: discovery.ollama_models(
            base_url, timeout=settings.MODEL_DISCOVERY_TIMEOUT
        ),
    )


def _compatible_names() -> list[str]:
    base_url = settings.OPENAI_COMPATIBLE_BASE_URL
    if not base_url:
        return []
    return _discovered(
        "compatible",
        base_url,
        lambda: discovery.compatible_models(
            base_url,
            api_key=settings.OPENAI_COMPATIBLE_API_KEY,
            timeout=settings.MODEL_DISCOVERY_TIMEOUT,
        ),
    )


def _azure_deployments() -> list[str]:
    if not (settings.AZURE_OPENAI_ENDPOINT and settings.AZURE_OPENAI_API_KEY):
        return []
    return [name for name in settings.AZURE_OPENAI_DEPLOYMENTS if name]


def site_models(*, user) -> list[LanguageModel]:
    """Models of the servers the operator set up that are not in the catalog:
    what the site's Ollama and OpenAI-compatible server list now (cached), and
    the Azure OpenAI deployments, as unsaved catalog entries.

    The site's compatible server's and Azure resource's models are left out
    for a user with an endpoint or resource of their own: their runs of
    ``compatible/...`` or ``azure/...`` go there.
    """
    sources = [
        (
            "ollama",
            _ollama_names,
            "Ollama on this site",
            "Listed by the site's Ollama.",
        ),
        (
            "azure",
            _azure_deployments,
            "Azure OpenAI",
            "A deployment of the site's Azure OpenAI resource.",
        ),
        (
            "compatible",
            _compatible_names,
            "this site's server",
            "Listed by the site's OpenAI-compatible server.",
        ),
    ]
    own = _own_endpoints(user)
    models = []
    for provider, names, label, description in sources:
        listed = [] if provider in own else names()
        if not listed:
            continue
        known = _catalog_names(provider)
        models += [
            _listed_model(provider, name, label, description)
            for name in listed
            if name not in known
        ]
    return models


def _own_endpoints(user) -> set[str]:
    if user is None or not user.is_authenticated:
        return set()
    return set(
        ProviderKey.objects.filter(
            owner=user, provider__in=["compatible", "azure"]
        ).values_list("provider", flat=True)
    )


def model_choices(*, user) -> list[LanguageModel]:
    """Every model ``user`` may pick for an agent: the catalog's, the site's
    servers' (site_models) and their own endpoint's."""
    return [
        *model_list_active(),
        *site_models(user=user),
        *endpoint_models(user=user),
    ]


def model_usable(*, identifier: str, user) -> LanguageModel | None:
    """The catalog entry for ``identifier``, or one of the models the site's
    servers or the user's endpoint list."""
    model = model_get_active(identifier=identifier)
    if model is not None:
        return model
    provider = (identifier or "").partition("/")[0]
    if provider not in PROVIDERS:
        return None
    listed = [*site_models(user=user), *endpoint_models(user=user)]
    return next((m for m in listed if m.identifier == identifier), None)


def custom_tool_list(*, user) -> QuerySet[CustomTool]:
    if not user.is_authenticated:
        return CustomTool.objects.none()
    return CustomTool.objects.filter(owner=user)


def custom_tool_get(*, user, tool_id) -> CustomTool | None:
    try:
        tool_id = int(tool_id)
    except (TypeError, ValueError):
        return None
    return CustomTool.objects.filter(owner=user, pk=tool_id).first()


def custom_tool_agents(*, tool: CustomTool) -> QuerySet[Agent]:
    """The owner's agents that list ``tool``; they fail once it is deleted."""
    return Agent.objects.filter(
        owner_id=tool.owner_id, tools__contains=[tool.reference]
    ).order_by("name")


def disabled_tool_names() -> set[str]:
    return set(ToolSetting.objects.filter(enabled=False).values_list("name", flat=True))


def tool_usage(*, user, days: int = 30) -> dict[str, dict]:
    """Calls and failed calls per tool name over the last ``days``: across the
    site for staff, over the user's own runs otherwise."""
    from datetime import timedelta

    from django.utils import timezone

    steps = RunStep.objects.filter(
        created_at__gte=timezone.now() - timedelta(days=days)
    )
    if not _can_see_all(user):
        steps = steps.filter(run__owner=user)
    calls = (
        steps.filter(type="tool-call")
        .values_list("payload__name")
        .annotate(count=Count("id"))
    )
    failures = (
        steps.filter(type="tool-result", payload__output__startswith="Error")
        .values_list("payload__name")
        .annotate(count=Count("id"))
    )
    usage: dict[str, dict] = {}
    for name, count in calls:
        usage.setdefault(name, {"calls": 0, "errors": 0})["calls"] = count
    for name, count in failures:
        usage.setdefault(name, {"calls": 0, "errors": 0})["errors"] = count
    for stats in usage.values():
        stats["error_rate"] = (
            round(stats["errors"] / stats["calls"], 3) if stats["calls"] else 0.0
        )
    return usage


# --- Discover: published agents, for everyone, signed in or not ------------

DISCOVER_SORTS = ("trending", "top", "runs", "new")
# Other names accepted for the same orders: "newest" is what people (and
# other APIs) tend to type for "new".
DISCOVER_SORT_ALIASES = {"newest": "new"}
# Top rated ranks by a Bayesian average: a few ratings count for less than
# many, pulled towards a neutral 3 stars as if each agent had 3 such votes.
RATING_PRIOR_VOTES = 3
RATING_PRIOR_STARS = 3


def agent_published_q() -> Q:
    """Listed in the community: public, and neither the agent nor its owner
    hidden by the moderators nor the owner's account closed."""
    return Q(
        visibility=Visibility.PUBLIC,
        is_playground=False,
        is_hidden=False,
        owner__is_active=True,
        owner__is_hidden=False,
    )


def agent_list_published(
    *, q: str = "", tag: str = "", category: str = "", sort: str = ""
) -> QuerySet[Agent]:
    """Public agents, searched (PostgreSQL full text over name, tags and
    descriptions), filtered and sorted. With a search and no sort, the best
    matches come first."""
    from django.contrib.postgres.search import SearchQuery, SearchRank
    from django.db.models import ExpressionWrapper, F, FloatField

    from agents.services.search import SEARCH_CONFIG

    # Forks' origins come in their own query for the page's rows: joined,
    # every published agent's origin and its owner went through the sort,
    # and ordering over three models' columns cost more than the query.
    agents = (
        Agent.objects.filter(agent_published_q())
        .select_related("owner")
        .prefetch_related("forked_from__owner")
    )
    order: list = []
    if q:
        query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
        agents = agents.filter(search_vector=query).annotate(
            rank=SearchRank(F("search_vector"), query)
        )
        if not sort:
            order.append("-rank")
    if tag:
        agents = agents.filter(tags__contains=[tag.strip().lower()])
    if category:
        agents = agents.filter(category=category)
    sort = DISCOVER_SORT_ALIASES.get(sort, sort) or ("" if q else "trending")
    if sort == "top":
        # In float8, not numeric: numeric division made the community
        # API's query over 1,000 agents take a quarter longer (2.1 ms
        # against 1.7 in EXPLAIN ANALYZE). The order is the same: IEEE
        # division of two integers is correctly rounded, so equal averages
        # stay equal and, for counts below ~10 million, unequal ones keep
        # their order.
        agents = agents.annotate(
            bayes=ExpressionWrapper(
                Cast(
                    F("rating_sum") + RATING_PRIOR_VOTES * RATING_PRIOR_STARS,
                    FloatField(),
                )
                / (F("rating_count") + RATING_PRIOR_VOTES),
                output_field=FloatField(),
            )
        )
        order += ["-bayes", "-rating_count"]
    elif sort == "runs":
        order.append("-run_count")
    elif sort == "new":
        order.append("-published_at")
    elif sort == "trending":
        order.append("-trending_score")
    return agents.order_by(*order, "-published_at", "-pk")


# An agent's API payload is kept under a key built from these: its row's
# updated_at (every save moves it) and what changes without a save: the fork
# origin set with update(), the owner's and the origin's names shown in it
# (forked_from_shown: the origin's name, slug and owner).
AGENT_PAYLOAD_KEY_FIELDS = (
    "pk",
    "updated_at",
    "version_number",
    "visibility",
    "model",
    "forked_from_version",
    "owner__username",
    "forked_from_id",
    "forked_from_shown",
)
# The counters, moved with F() by every rating, fork and run, are read with
# the keys and set on the kept payload each time rather than keyed: a run
# would otherwise make a new entry of the whole payload (its instructions
# included) and leave the old one to expire.
AGENT_PAYLOAD_COUNTER_FIELDS = ("rating_count", "rating_sum", "fork_count", "run_count")


def agent_payload_key_values(agent: Agent) -> tuple:
    """AGENT_PAYLOAD_KEY_FIELDS' values for an agent loaded with its owner
    and its origin's owner, equal to the start of agent_payload_keys' row
    for it while the agent is unchanged."""
    origin = agent.forked_from
    return (
        agent.pk,
        agent.updated_at,
        agent.version_number,
        agent.visibility,
        agent.model,
        agent.forked_from_version,
        agent.owner.username,
        agent.forked_from_id,
        None
        if origin is None
        else f"{origin.name}/{origin.slug}/{origin.owner.username}",
    )


def agent_payload_keys(
    *, q: str = "", tag: str = "", category: str = "", sort: str = ""
) -> PublishedRows:
    """agent_list_published's agents as rows of AGENT_PAYLOAD_KEY_FIELDS and
    AGENT_PAYLOAD_COUNTER_FIELDS in the list's order, each ending with the
    length of the whole list (COUNT(*) OVER (), computed before LIMIT), so a
    page of it needs no count query of its own. Slice it for a page."""
    return PublishedRows(_payload_keys_query, (q, tag, category, sort))


# What a Discover card shows: its key is built from these, and a card not
# kept is rendered from them.
AGENT_CARD_FIELDS = (
    "pk",
    "name",
    "slug",
    "description",
    "tags",
    "category",
    "rating_count",
    "rating_sum",
    "run_count",
    "fork_count",
    "owner__username",
)


def agent_card_rows(
    *, q: str = "", tag: str = "", category: str = "", sort: str = ""
) -> PublishedRows:
    """agent_list_published's agents as rows of AGENT_CARD_FIELDS, each
    ending with the length of the whole list, as agent_payload_keys."""
    return PublishedRows(_card_rows_query, (q, tag, category, sort))


class PublishedRows:
    """Rows of a query over agent_list_published, a slice at a time. Each
    filter and page's SQL is built once per process: the ORM spent ~1.2 ms
    of CPU building and compiling the community API's, three times what
    running it costs. The SQL depends on nothing but the query's shape, the
    filters and the slice, so it is never stale."""

    def __init__(self, shape, filters: tuple[str, str, str, str]):
        self.shape = shape
        self.filters = filters

    def __getitem__(self, page: slice) -> list[tuple]:
        sql, params = _published_rows_sql(
            self.shape, *self.filters, page.start, page.stop
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def count(self) -> int:
        return self.shape(*self.filters).count()


def _listed(q: str, tag: str, category: str, sort: str) -> QuerySet:
    return (
        agent_list_published(q=q, tag=tag, category=category, sort=sort)
        .prefetch_related(None)
        .annotate(listed_total=WindowExpression(Count("*")))
    )


def _payload_keys_query(q: str, tag: str, category: str, sort: str) -> QuerySet:
    return (
        _listed(q, tag, category, sort)
        .annotate(
            # A subquery rather than a join: PostgreSQL runs it for the
            # page's rows only, after the sort (joined, every listed agent's
            # origin and its owner went through it).
            forked_from_shown=Subquery(
                Agent.objects.filter(pk=OuterRef("forked_from_id"))
                .order_by()
                .values(
                    shown=Concat(
                        "name",
                        Value("/"),
                        "slug",
                        Value("/"),
                        "owner__username",
                        output_field=CharField(),
                    )
                )
            ),
        )
        .values_list(
            *AGENT_PAYLOAD_KEY_FIELDS, *AGENT_PAYLOAD_COUNTER_FIELDS, "listed_total"
        )
    )


def _card_rows_query(q: str, tag: str, category: str, sort: str) -> QuerySet:
    return _listed(q, tag, category, sort).values_list(
        *AGENT_CARD_FIELDS, "listed_total"
    )


# A search's words are part of the key; a few hundred queries' SQL is a few
# hundred kilobytes.
@functools.lru_cache(maxsize=512)
def _published_rows_sql(
    shape, q: str, tag: str, category: str, sort: str, start, stop
) -> tuple[str, tuple]:
    query = shape(q, tag, category, sort)[start:stop].query
    sql, params = query.sql_with_params()
    return sql, tuple(params)


def agent_tag_cloud(*, limit: int = 20) -> list[tuple[str, int]]:
    """The most used tags among published agents, with their counts."""
    from community.models import User

    sql = f"""
        SELECT tag, COUNT(*) AS n
        FROM {Agent._meta.db_table} AS a
        JOIN {User._meta.db_table} AS u ON u.id = a.owner_id
        CROSS JOIN LATERAL unnest(a.tags) AS tag
        WHERE a.visibility = %s AND NOT a.is_playground AND u.is_active
          AND NOT a.is_hidden AND NOT u.is_hidden
        GROUP BY tag
        ORDER BY n DESC, tag
        LIMIT %s
    """  # noqa: S608 (table names from the models; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [Visibility.PUBLIC, limit])
        return [(tag, n) for tag, n in cursor.fetchall()]


def agent_get_listed(*, user, username: str, slug: str) -> Agent | None:
    """The agent at /u/<username>/<slug>/: a public one for anyone; an
    unlisted or private one as the agent's own page rules allow."""
    rows = _LISTED_AGENT.rows(username=username, slug=slug)
    agent = _AGENT_AND_OWNERS.instance(rows[0]) if rows else None
    if agent is None or not agent.owner.is_active:
        return None
    if agent.visibility == Visibility.PUBLIC and not (
        agent.is_hidden or agent.owner.is_hidden
    ):
        return agent
    return agent_get_visible(user=user, agent_id=agent.pk)


# The agent, its owner, and its fork origin and that one's owner, as
# select_related("owner", "forked_from__owner") reads them.
_AGENT_AND_OWNERS = RelatedColumns(Agent, "owner", "forked_from", "forked_from__owner")
# At most one row (usernames are unique ignoring case, slugs per owner), so
# no ORDER BY: ordering makes Django hash each of the ~50 selected columns, a
# sixth of a visitor's agent page in CPU. The SQL is built once per process
# (config.sqlonce): building it cost more than half the page's view.
_LISTED_AGENT = CompiledQuery(
    lambda username, slug: (
        Agent.objects.filter(
            owner__username__iexact=username, slug=slug, is_playground=False
        )
        .order_by()
        .values_list(*_AGENT_AND_OWNERS.names)[:1]
    ),
    username="\x00username\x00",
    slug="\x00slug\x00",
)


def agent_get_viewable(*, user, agent_id) -> Agent | None:
    """The agent if ``user`` may see it (agent_get_visible), or, for anyone
    including visitors, if it is published."""
    agent = agent_get_visible(user=user, agent_id=agent_id)
    if agent is None:
        agent = (
            Agent.objects.select_related("owner", "forked_from__owner")
            .filter(agent_published_q(), pk=agent_id)
            .first()
        )
    return agent


def agent_forks(*, agent: Agent, limit: int = 12) -> QuerySet[Agent]:
    """The published forks of ``agent`` (private forks stay private)."""
    return (
        Agent.objects.filter(agent_published_q(), forked_from=agent)
        .select_related("owner")
        .order_by("-published_at")[:limit]
    )


# Site activity for the staff dashboard (agents/dashboard.py). Runs count in
# the period they were started (created_at), whatever they became since.

RUN_OUTCOMES = ("completed", "failed", "cancelled", "other")


def _require_staff(user) -> None:
    if not _can_see_all(user):
        raise PermissionDenied


def _runs_started_in(window: Window) -> QuerySet[Run]:
    return Run.objects.filter(created_at__gte=window.start, created_at__lt=window.end)


def run_outcomes_by_period(*, user, window: Window) -> list[dict]:
    """Runs started in each period of ``window``, oldest first, by outcome:
    completed, failed, cancelled, and other (still queued, running or paused).

    One query; periods without runs are there with zeros. Staff only.
    """
    _require_staff(user)
    rows = (
        _runs_started_in(window)
        .annotate(period=Trunc("created_at", window.unit))
        .values("period")
        .annotate(
            completed=Count("pk", filter=Q(status=RunStatus.COMPLETED)),
            failed=Count("pk", filter=Q(status=RunStatus.FAILED)),
            cancelled=Count("pk", filter=Q(status=RunStatus.CANCELLED)),
            other=Count("pk", filter=~Q(status__in=FINISHED_STATUSES)),
        )
        .order_by()
    )
    found = {row.pop("period"): row for row in rows}
    return fill_periods(window, found, dict.fromkeys(RUN_OUTCOMES, 0))


def run_list_failed_recently(*, user, window: Window, limit: int = 10) -> QuerySet[Run]:
    """The latest failed runs started in ``window``, newest first, with what
    their rows name (agent or workflow, and who ran them). Staff only."""
    _require_staff(user)
    return (
        _runs_started_in(window)
        .filter(status=RunStatus.FAILED)
        .select_related("agent", "owner", "workflow_run__workflow")
        .order_by("-created_at", "-pk")[:limit]
    )


def run_leaders(*, user, window: Window, limit: int = 10) -> list[dict]:
    """The agents and workflows with the most runs started in ``window``:
    runs, failures and milli-credits spent (their runs' ledger charges, so
    far for runs still going), most runs first. A workflow's run has no agent
    and counts under its workflow. One query. Staff only.
    """
    _require_staff(user)
    # Joined with each run's charges: runs are counted distinct, charges summed.
    rows = (
        _runs_started_in(window)
        .values(
            "agent_id",
            "agent__name",
            "agent__owner_id",
            "agent__owner__username",
            "workflow_run__workflow_id",
            "workflow_run__workflow__name",
            "workflow_run__workflow__owner_id",
            "workflow_run__workflow__owner__username",
        )
        .annotate(
            runs=Count("pk", distinct=True),
            failures=Count("pk", distinct=True, filter=Q(status=RunStatus.FAILED)),
            charged=Sum(
                "ledger_entries__amount",
                filter=Q(ledger_entries__kind=EntryKind.RUN_CHARGE),
                default=0,
            ),
        )
        .order_by("-runs", "-failures", "agent_id", "workflow_run__workflow_id")[:limit]
    )
    leaders = []
    for row in rows:
        is_workflow = row["agent_id"] is None
        prefix = "workflow_run__workflow__" if is_workflow else "agent__"
        leaders.append(
            {
                "kind": "workflow" if is_workflow else "agent",
                # None for a run whose workflow row is gone: shown as unknown.
                "id": row["workflow_run__workflow_id"]
                if is_workflow
                else row["agent_id"],
                "name": row[f"{prefix}name"],
                "owner_id": row[f"{prefix}owner_id"],
                "owner_username": row[f"{prefix}owner__username"],
                "runs": row["runs"],
                "failures": row["failures"],
                # Charges are negative entries; spending reads as positive.
                "spent": -row["charged"],
            }
        )
    return leaders
