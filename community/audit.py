"""The audit log of sensitive actions: the one write (``audit_record``) and
the reads.

Services that do something sensitive (sign-ins, keys, staff credit
adjustments, publishing, moderation, account export and deletion) call
``audit_record`` inside their own transaction, so an action and its entry
commit or roll back together. Where the request came from is taken from the
request context that config.requestid's middleware keeps, so services are
not handed the request; outside a request (a task, a command) it is empty.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from community.models import AuditAction, AuditEntry, User
from config import requestid

# Keys never written into ``details``, whatever a caller passes: the log is
# read by every staff member and must not become a place secrets leak to.
SECRET_WORDS = ("password", "secret", "token", "api_key", "encrypted")
MAX_DETAIL_TEXT = 300


def _scrub(details: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name, value in details.items():
        if any(word in name.lower() for word in SECRET_WORDS):
            continue
        if isinstance(value, str):
            value = value[:MAX_DETAIL_TEXT]
        cleaned[name] = value
    return cleaned


def _target_fields(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, tuple):
        kind, pk, label = target
        return kind, str(pk), str(label)[:200]
    return target._meta.model_name, str(target.pk), str(target)[:200]


@transaction.atomic
def audit_record(
    *,
    action: str,
    actor: User | None,
    target=None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry. ``target`` is a model instance or a
    (type, id, label) tuple; ``details`` is a small JSON object (keys that
    look like secrets are dropped). The client's address, user agent and
    request id come from the current request, if any."""
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action: {action!r}")
    target_type, target_id, target_label = _target_fields(target)
    client = requestid.current_client()
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=actor.username if actor is not None else "",
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        details=_scrub(details or {}),
        ip_address=client.ip,
        user_agent=client.user_agent,
        request_id=requestid.current(),
    )


def visibility_action(kind: str, before: str, after: str) -> str | None:
    """The action for an agent's or workflow's visibility change: published
    (to public), unpublished (from public), or shared (between private and
    unlisted); None when it did not change."""
    if before == after:
        return None
    if after == "public":
        return AuditAction(f"{kind}.published")
    if before == "public":
        return AuditAction(f"{kind}.unpublished")
    return AuditAction(f"{kind}.shared")


def audit_list_for_actor(*, user: User) -> QuerySet[AuditEntry]:
    """What ``user`` did, newest first (their own copy, in the export)."""
    return AuditEntry.objects.filter(actor=user).order_by("-created_at", "-id")
