"""Workflows: a graph of nodes, versioned like agents. (Handoffs, an SDK
feature of agents, live in agents.models.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agents.models import Visibility


class Workflow(models.Model):
    """A graph of nodes (workflows.graph) that runs agents in order, at once,
    by route, in loops and with approvals. Versioned like agents: each change
    of the graph is a new version, and runs keep the one they started with."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflows"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    visibility = models.CharField(
        _("visibility"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PRIVATE,
    )
    graph = models.JSONField(default=dict)
    version_number = models.PositiveIntegerField(default=1)
    # The shared workflow this one was forked from (workflows.services).
    forked_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="forks",
    )
    # Runs ever started and forks ever made, for sorting shared workflows.
    run_count = models.PositiveIntegerField(default=0)
    fork_count = models.PositiveIntegerField(default=0)
    # Kept by community.reviews with each rating, as for agents.
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    # Hidden by moderators: off every shared list and page but its owner's.
    is_hidden = models.BooleanField(_("hidden by moderators"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-updated_at"]),
            models.Index(
                fields=["-updated_at"],
                name="workflow_public",
                condition=Q(visibility="public"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values),
                name="workflow_visibility_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("workflows:detail", args=[self.pk])

    # Its page is also where it is rated and discussed (community.reviews).
    get_listing_url = get_absolute_url

    @property
    def rating_average(self) -> float | None:
        if not self.rating_count:
            return None
        return round(self.rating_sum / self.rating_count, 2)


class WorkflowVersion(models.Model):
    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "number"], name="workflow_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class PauseReason(models.TextChoices):
    APPROVAL = "approval", _("Waiting for approval")
    CREDITS = "out_of_credits", _("Out of credits")


class WorkflowRun(models.Model):
    """What makes an ``agents.Run`` a workflow's run: the workflow's version,
    and the state the engine (workflows.engine) keeps between nodes, so that a
    paused run resumes where it stopped, on any worker."""

    run = models.OneToOneField(
        "agents.Run",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="workflow_run",
    )
    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="runs"
    )
    # RESTRICT: a version stays while runs use it, unless the workflow goes.
    version = models.ForeignKey(
        WorkflowVersion, on_delete=models.RESTRICT, related_name="runs"
    )
    # The engine's state: each finished node's result by its path, routes
    # taken, approvals decided, the agents' pinned versions.
    state = models.JSONField(default=dict)
    paused_reason = models.CharField(
        max_length=20, choices=PauseReason.choices, blank=True
    )
    # The whole workflow's budget in milli-credits (None: the site's default);
    # a resume after running out raises it.
    budget = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(paused_reason__in=["", *PauseReason.values]),
                name="workflowrun_paused_reason_valid",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} of workflow {self.workflow_id}"

    @property
    def waiting(self) -> list[dict]:
        """The approvals it waits for: key, node and message."""
        return list((self.state or {}).get("waiting") or [])
