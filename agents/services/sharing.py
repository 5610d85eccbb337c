"""Sharing a finished run: a read-only copy at /r/<token>/ for anyone with the
link, and the agent owner's shared runs on the agent's public page.

The token is the only key to a shared run. Unsharing clears it, so every link
given out before stops working; sharing again makes a new one.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import (
    FINISHED_STATUSES,
    Agent,
    CustomTool,
    ProviderKey,
    Run,
    RunStep,
    StepType,
)
from agents.redaction import Secrets
from config import crypto

# token_urlsafe(16) is 22 characters: 128 random bits, within the 32 the
# column holds.
SHARE_TOKEN_BYTES = 16
SHARE_TOKEN_MAX_LENGTH = 32
LISTING_SHARED_RUNS = 5
# Agent.tool_name: how an agent run as a tool appears in its caller's steps.
AGENT_TOOL_NAME = re.compile(r"^ask_[a-z0-9_]*_(\d+)$")
# Site-wide provider settings whose values must never be shown.
PROVIDER_SETTINGS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_COMPATIBLE_API_KEY",
    "OPENAI_COMPATIBLE_BASE_URL",
    "OLLAMA_BASE_URL",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
)


def _check_owner(run: Run, user, message: str) -> None:
    if not user.is_authenticated or run.owner_id != user.pk:
        raise PermissionDenied(message)


@transaction.atomic
def run_share(*, run: Run, user) -> Run:
    """Share ``run``: only the person who started it, once it has finished.
    Sharing a shared run keeps its token, so links already given out work."""
    _check_owner(run, user, _("Only the person who started a run can share it."))
    if getattr(user, "is_suspended", False):
        raise PermissionDenied(_("Your account is suspended: you cannot share runs."))
    if run.agent_id is None:
        # Its redaction reads one agent's definition and tools.
        raise ValidationError({"run": [_("A workflow's runs cannot be shared yet.")]})
    if run.agent.is_hidden:
        raise ValidationError(
            {"agent": [_("The moderators hid this agent: its runs cannot be shared.")]}
        )
    # Conditional, so that two requests at once end with one token, and a run
    # that has not finished in the database is never shared.
    Run.objects.filter(
        pk=run.pk, share_token__isnull=True, status__in=FINISHED_STATUSES
    ).update(
        share_token=secrets.token_urlsafe(SHARE_TOKEN_BYTES),
        shared_at=timezone.now(),
    )
    current = (
        Run.objects.filter(pk=run.pk)
        .values("status", "share_token", "shared_at")
        .first()
    )
    if current is None:
        raise ValidationError({"run": [_("The run no longer exists.")]})
    if current["share_token"] is None:
        raise ValidationError(
            {
                "status": [
                    _(
                        "Only a finished run can be shared; this one is %(status)s. "
                        "Share it once it has finished."
                    )
                    % {"status": current["status"]}
                ]
            }
        )
    run.status = current["status"]
    run.share_token = current["share_token"]
    run.shared_at = current["shared_at"]
    return run


@transaction.atomic
def run_unshare(*, run: Run, user) -> Run:
    """Stop sharing ``run``: its link stops working at once. Unsharing a run
    that is not shared changes nothing."""
    _check_owner(run, user, _("Only the person who started a run can unshare it."))
    Run.objects.filter(pk=run.pk).update(share_token=None, shared_at=None)
    run.share_token = None
    run.shared_at = None
    return run


# --- Reads -----------------------------------------------------------------


def run_get_shared(*, token) -> Run | None:
    """The run shared with ``token``, for anyone; None when no run is shared
    with it, or when its agent was hidden by the moderators, or the person
    who ran it or the agent's owner was hidden or closed their account."""
    if not isinstance(token, str) or not 0 < len(token) <= SHARE_TOKEN_MAX_LENGTH:
        return None
    return (
        Run.objects.select_related("agent__owner", "owner", "version")
        .filter(
            share_token=token,
            status__in=FINISHED_STATUSES,
            agent__is_hidden=False,
            agent__owner__is_active=True,
            agent__owner__is_hidden=False,
            owner__is_active=True,
            owner__is_hidden=False,
        )
        .first()
    )


def runs_shared_on_listing(
    *, agent: Agent, limit: int = LISTING_SHARED_RUNS
) -> list[Run]:
    """The runs of ``agent`` its owner shared, newest share first: the owner
    chooses what their agent's page shows, so others' shared runs of it are
    left out. One query (the partial index on agent and shared_at)."""
    return list(
        Run.objects.filter(
            agent=agent, owner_id=agent.owner_id, shared_at__isnull=False
        )
        .only(
            "pk",
            "agent_id",
            "owner_id",
            "status",
            "input",
            "share_token",
            "shared_at",
            "created_at",
        )
        .order_by("-shared_at", "-pk")[:limit]
    )


def _url_parts(url: str) -> set[str]:
    """A URL, its host, and its path and query when they are long enough to
    carry a token (``/hooks/T0123/secret``)."""
    if not url:
        return set()
    parts = urlsplit(url)
    found = {url, url.rstrip("/")}
    if parts.hostname:
        found.add(parts.hostname)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(rest) >= 8:
        found.add(rest)
    return found


def _decrypted(token: str) -> str:
    try:
        return crypto.decrypt(token) if token else ""
    except crypto.DecryptionError:
        return ""


def run_shared_secrets(*, run: Run, steps: list[RunStep]) -> Secrets:
    """What ``run``'s shared page must hide (see agents.redaction): the
    webhook tools it could have called (the agent owner's, and those of the
    owners of agents it ran as tools), the runner's provider keys and the
    site's, and the guardrails' blocked words and patterns."""
    found = Secrets()
    definition = run.version.definition
    for stage in (definition.get("guardrails") or {}).values():
        found.words.update(stage.get("blocked_words") or [])
        for pattern in stage.get("blocked_patterns") or []:
            # A guardrail's reason quotes the pattern with repr().
            found.literals.update({pattern, repr(pattern)[1:-1]})

    tool_names = {
        step.payload.get("name", "")
        for step in steps
        if step.type in (StepType.TOOL_CALL, StepType.TOOL_RESULT)
    } - {""}
    nested_ids = {
        int(match.group(1))
        for name in tool_names
        if (match := AGENT_TOOL_NAME.match(name))
    }
    owner_ids = {run.agent.owner_id}
    if nested_ids:
        owner_ids.update(
            Agent.objects.filter(pk__in=nested_ids).values_list("owner_id", flat=True)
        )
    references = [
        int(tool.removeprefix("custom/"))
        for tool in definition.get("tools") or []
        if tool.startswith("custom/") and tool.removeprefix("custom/").isdigit()
    ]
    if tool_names or references:
        tools = CustomTool.objects.filter(
            Q(owner_id__in=owner_ids, name__in=tool_names)
            | Q(owner_id=run.agent.owner_id, pk__in=references)
        )
        for tool in tools:
            found.literals.update(_url_parts(tool.webhook_url))
            # The header's value is the secret; its name ("Authorization")
            # is an ordinary word.
            found.literals.add(_decrypted(tool.secret_header_value))

    for key in ProviderKey.objects.filter(owner_id=run.owner_id):
        found.literals.add(_decrypted(key.encrypted_key))
        found.literals.update(_url_parts(key.base_url))
    for name in PROVIDER_SETTINGS:
        value = getattr(settings, name, "") or ""
        if name.endswith("_BASE_URL"):
            found.literals.update(_url_parts(value))
        else:
            found.literals.add(value)
    found.literals.discard("")
    return found
