"""Agents, their immutable versions, the model catalog, runs and run steps."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LanguageModel(models.Model):
    """One entry of the model catalog, edited by staff in the admin."""

    provider = models.CharField(_("provider"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    display_name = models.CharField(_("display name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    supports_tools = models.BooleanField(_("tools"), default=True)
    supports_structured_output = models.BooleanField(
        _("structured output"), default=True
    )
    supports_streaming = models.BooleanField(_("streaming"), default=True)
    # Prices are in credits per 1,000 tokens; the billing app charges with them.
    input_price_per_1k = models.DecimalField(
        _("input price per 1K tokens"), max_digits=12, decimal_places=6, default=0
    )
    output_price_per_1k = models.DecimalField(
        _("output price per 1K tokens"), max_digits=12, decimal_places=6, default=0
    )
    is_active = models.BooleanField(_("available"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "provider", "name"]
        verbose_name = _("language model")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "name"], name="languagemodel_unique_identifier"
            ),
            models.CheckConstraint(
                condition=Q(input_price_per_1k__gte=0) & Q(output_price_per_1k__gte=0),
                name="languagemodel_prices_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.identifier})"

    @property
    def identifier(self) -> str:
        return f"{self.provider}/{self.name}"


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Private")
    UNLISTED = "unlisted", _("Unlisted")
    PUBLIC = "public", _("Public")


class Category(models.TextChoices):
    """Where a published agent is listed on Discover."""

    WRITING = "writing", _("Writing")
    CODING = "coding", _("Coding")
    DATA = "data", _("Data and analysis")
    EDUCATION = "education", _("Education")
    PRODUCTIVITY = "productivity", _("Productivity")
    RESEARCH = "research", _("Research")
    FUN = "fun", _("Fun and games")
    OTHER = "other", _("Other")


def rating_average_of(rating_sum: int, rating_count: int) -> float | None:
    """The average shown for an agent's ratings: two decimals, none unrated."""
    if not rating_count:
        return None
    return round(rating_sum / rating_count, 2)


class Agent(models.Model):
    """The editable definition; every saved change becomes an AgentVersion.

    The listing (category, long description, example prompts) is not part of
    the definition: editing it makes no version. Counts shown on community
    pages are kept here, moved with F() by the services that change them, so
    pages never aggregate.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agents",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    instructions = models.TextField(_("instructions"), blank=True, max_length=20000)
    model = models.CharField(_("model"), max_length=150, default="local/demo")
    # Used for the rest of a run when the primary model still fails after its
    # retries ("" for none).
    fallback_model = models.CharField(_("fallback model"), max_length=150, blank=True)
    # The most one run of this agent may spend, in milli-credits (None: only
    # the runner's budget applies). Versioned like the rest of the definition.
    max_credits_per_run = models.BigIntegerField(
        _("most credits per run (milli-credits)"), null=True, blank=True
    )
    model_settings = models.JSONField(_("model settings"), default=dict, blank=True)
    tools = models.JSONField(_("tools"), default=list, blank=True)
    # Per-tool settings the owner chooses, e.g. {"http_request": {"allowed_hosts":
    # [...]}}; the model never sees or changes them.
    tool_options = models.JSONField(_("tool options"), default=dict, blank=True)
    guardrails = models.JSONField(_("guardrails"), default=dict, blank=True)
    output_type = models.JSONField(_("output type"), null=True, blank=True)
    tags = ArrayField(
        models.CharField(max_length=40), default=list, blank=True, size=10
    )
    visibility = models.CharField(
        _("visibility"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PRIVATE,
    )
    # The listing, for Discover and the agent's public page.
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, blank=True
    )
    long_description = models.TextField(
        _("long description (markdown)"), blank=True, max_length=10000
    )
    example_prompts = models.JSONField(_("example prompts"), default=list, blank=True)
    published_at = models.DateTimeField(_("first published"), null=True, blank=True)
    # Forks: where this one came from (and which version of it).
    forked_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="forks",
        verbose_name=_("forked from"),
    )
    forked_from_version = models.PositiveIntegerField(null=True, blank=True)
    # Kept counts and scores (see the docstring).
    run_count = models.PositiveIntegerField(default=0)
    fork_count = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    trending_score = models.FloatField(default=0)
    # Full-text search over name, tags and descriptions (agents.services.search).
    search_vector = SearchVectorField(null=True, editable=False)
    # The number of the latest AgentVersion (0 before the first save).
    version_number = models.PositiveIntegerField(_("latest version"), default=0)
    # Each user's one hidden agent behind the playground: its definition is
    # whatever was last tried there, and it is never listed or shared.
    is_playground = models.BooleanField(_("playground"), default=False)
    # Hidden by staff (community.moderation): gone from every public page
    # and the API for everyone but its owner, who sees why.
    is_hidden = models.BooleanField(_("hidden by moderators"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "slug"], name="agent_unique_slug_per_owner"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values),
                name="agent_visibility_valid",
            ),
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(is_playground=True),
                name="agent_one_playground_per_owner",
            ),
            models.CheckConstraint(
                condition=Q(is_playground=False) | Q(visibility="private"),
                name="agent_playground_private",
            ),
            models.CheckConstraint(
                condition=Q(max_credits_per_run__isnull=True)
                | Q(max_credits_per_run__gt=0),
                name="agent_max_credits_per_run_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["visibility", "-updated_at"]),
            GinIndex(fields=["search_vector"], name="agent_search_vector"),
            GinIndex(fields=["tags"], name="agent_tags"),
            models.Index(
                fields=["-trending_score"],
                condition=Q(visibility="public"),
                name="agent_public_trending",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("agents:detail", args=[self.pk])

    def get_listing_url(self) -> str:
        """The agent's public page, /u/<owner>/<slug>/."""
        return reverse(
            "agents:listing",
            kwargs={"username": self.owner.username, "slug": self.slug},
        )

    @property
    def rating_average(self) -> float | None:
        return rating_average_of(self.rating_sum, self.rating_count)

    @property
    def tool_reference(self) -> str:
        """How other agents list this one among their tools."""
        return f"agent/{self.pk}"

    @property
    def tool_name(self) -> str:
        """The function name a model calls to ask this agent (unique by id)."""
        base = re.sub(r"[^a-z0-9]+", "_", self.slug.lower()).strip("_") or "agent"
        return f"ask_{base[:40]}_{self.pk}"


class AgentVersion(models.Model):
    """An immutable snapshot of an agent's definition; runs point at one."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("number"))
    definition = models.JSONField(_("definition"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "number"], name="agentversion_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="agentversion_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} v{self.number}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    # A workflow waiting for an approval, or for credits (workflows app).
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED_STATUSES = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


class Conversation(models.Model):
    """Runs of one agent by one person that continue each other, in order."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last turn"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("agents:conversation", args=[self.pk])


class Run(models.Model):
    # A run of one agent's version, or of a workflow (no agent: its
    # workflows.WorkflowRun names the workflow and version, and each step says
    # which node and agent it belongs to).
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="runs", null=True, blank=True
    )
    # RESTRICT, not PROTECT: a version cannot go while runs use it, except
    # when its agent is deleted and takes the runs with it.
    version = models.ForeignKey(
        AgentVersion,
        on_delete=models.RESTRICT,
        related_name="runs",
        null=True,
        blank=True,
    )
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="runs",
        null=True,
        blank=True,
    )
    # The person who started the run, who may not own the agent.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RunStatus.choices,
        default=RunStatus.QUEUED,
    )
    input = models.TextField(_("input"))
    final_output = models.JSONField(_("final output"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # Why it failed, for programs (the error step's kind, "guardrail_blocked"
    # when a guardrail stopped it); blank when it did not or it is not known.
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    usage = models.JSONField(_("usage"), default=dict, blank=True)
    # What the run was charged, in milli-credits (billing's ledger holds the
    # entries; this is their total, set as the run ends).
    cost = models.BigIntegerField(_("cost (milli-credits)"), default=0)
    step_count = models.PositiveIntegerField(default=0)
    # The Celery worker that claimed the run; the sweep fails runs whose
    # worker stopped sending heartbeats.
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the run's task was last sent to the broker; a run queued much longer
    # than that is sent again (agents.services.runs.run_requeue_stale).
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Shared by the person who ran it: anyone with /r/<share_token>/ sees a
    # read-only copy, and the agent's owner's shared runs are on its page.
    # Unsharing clears the token, so old links stop working.
    share_token = models.CharField(max_length=32, unique=True, null=True, blank=True)
    shared_at = models.DateTimeField(_("shared"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(agent__isnull=True, version__isnull=True)
                | Q(agent__isnull=False, version__isnull=False),
                name="run_agent_with_version",
            ),
            models.CheckConstraint(
                condition=Q(share_token__isnull=True, shared_at__isnull=True)
                | Q(share_token__isnull=False, shared_at__isnull=False),
                name="run_share_token_with_time",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["agent", "-created_at"]),
            models.Index(
                fields=["agent", "-shared_at"],
                name="run_shared",
                condition=Q(shared_at__isnull=False),
            ),
            models.Index(
                fields=["status"],
                name="run_unfinished",
                condition=Q(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]),
            ),
        ]

    def __str__(self) -> str:
        if self.agent_id is None:
            return f"Run {self.pk} of a workflow"
        return f"Run {self.pk} of {self.agent_id}"

    def get_absolute_url(self) -> str:
        return reverse("agents:run", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def latency_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class StepType(models.TextChoices):
    USER_REQUEST = "user-request", _("Request")
    AGENT_THOUGHT = "agent-thought", _("Thought")
    TOOL_CALL = "tool-call", _("Tool call")
    TOOL_RESULT = "tool-result", _("Tool result")
    HANDOFF = "handoff", _("Handoff")
    GUARDRAIL = "guardrail", _("Guardrail")
    AGENT_RESPONSE = "agent-response", _("Response")
    FALLBACK = "fallback", _("Fallback model")
    # A workflow's node started, finished, retried, routed... (workflows app).
    NODE = "node", _("Workflow node")
    APPROVAL = "approval", _("Approval")
    ERROR = "error", _("Error")
    # The run's last step when its owner cancelled it; it carries the cost of
    # what the worker consumed before it stopped.
    CANCELLED = "cancelled", _("Cancelled")


class RunStep(models.Model):
    """One saved event of a run; saved first, then pushed to watchers."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=StepType.choices)
    payload = models.JSONField(default=dict)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # What this step was charged, in milli-credits.
    cost = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "order"], name="runstep_unique_order"
            ),
            models.CheckConstraint(
                condition=Q(type__in=StepType.values), name="runstep_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.order} {self.type}"


class Provider(models.TextChoices):
    """Providers a user can save a key for (``local`` needs none)."""

    OPENAI = "openai", _("OpenAI")
    COMPATIBLE = "compatible", _("OpenAI-compatible endpoint")
    AZURE = "azure", _("Azure OpenAI")
    ANTHROPIC = "anthropic", _("Anthropic")
    GEMINI = "gemini", _("Google Gemini")


class ProviderKey(models.Model):
    """A user's own API key for a model provider, encrypted at rest.

    Only the Fernet token is stored (config/crypto.py); ``masked`` is what
    pages and the API show.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="provider_keys",
    )
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    encrypted_key = models.TextField()
    masked = models.CharField(_("key"), max_length=20)
    # For an OpenAI-compatible endpoint: where it is (checked like any outbound
    # URL), and the models it listed when the key was last tested. For Azure
    # OpenAI: the resource's endpoint, and the deployments its owner named.
    base_url = models.URLField(_("base URL"), max_length=500, blank=True)
    model_names = models.JSONField(_("models"), default=list, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    tested_at = models.DateTimeField(_("tested"), null=True, blank=True)
    test_ok = models.BooleanField(null=True)
    test_message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "provider"], name="providerkey_one_per_provider"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.provider} {self.masked}"


class CustomTool(models.Model):
    """A function tool a user defines: the model's arguments are checked
    against ``parameters`` and POSTed as JSON to ``webhook_url``, whose answer
    goes back to the model."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="custom_tools",
    )
    name = models.CharField(_("name"), max_length=64)
    description = models.TextField(_("description"), max_length=2000)
    parameters = models.JSONField(_("parameters (JSON schema)"))
    webhook_url = models.URLField(_("webhook URL"), max_length=2000)
    # An optional header sent with every call, e.g. Authorization; its value is
    # encrypted at rest (config/crypto.py).
    secret_header_name = models.CharField(max_length=100, blank=True)
    secret_header_value = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="customtool_unique_name_per_owner"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def reference(self) -> str:
        """How an agent's ``tools`` list names this tool."""
        return f"custom/{self.pk}"


class ToolSetting(models.Model):
    """Staff's site-wide switch for a built-in tool; a disabled tool is never
    offered to a model (no row means enabled)."""

    name = models.CharField(_("tool"), max_length=64, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({'on' if self.enabled else 'off'})"


class InputFilter(models.TextChoices):
    """What of the conversation so far the target agent sees."""

    ALL = "", _("The whole conversation")
    REMOVE_TOOLS = "remove_tools", _("Without earlier tool calls")


class Handoff(models.Model):
    """``agent`` may hand off to ``target``. Runs use the target's latest
    version, if the agent's owner may still use it (their own agents and
    shared ones), as with agents used as tools."""

    agent = models.ForeignKey(
        "agents.Agent", on_delete=models.CASCADE, related_name="handoffs"
    )
    target = models.ForeignKey(
        "agents.Agent", on_delete=models.CASCADE, related_name="handoffs_in"
    )
    description = models.CharField(
        _("when to hand off"),
        max_length=300,
        blank=True,
        help_text=_("Guides the model; empty: the target agent's description."),
    )
    input_filter = models.CharField(
        _("what the target sees"),
        max_length=20,
        choices=InputFilter.choices,
        blank=True,
        default=InputFilter.ALL,
    )
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table keeps the name it had when handoffs lived in workflows
        # (moved in issue 22, state only: an install upgrades with its rows).
        db_table = "workflows_handoff"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "target"], name="handoff_once_per_target"
            ),
            models.CheckConstraint(
                condition=~Q(agent=F("target")), name="handoff_not_to_itself"
            ),
            models.CheckConstraint(
                condition=Q(input_filter__in=InputFilter.values),
                name="handoff_input_filter_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} → {self.target_id}"
