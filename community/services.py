"""Writes for accounts and API keys."""

from __future__ import annotations

from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import PersonalApiKey, User

# How stale `last_used_at` may get before a request refreshes it: writing on
# every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)
MAX_ACTIVE_KEYS = 50


@transaction.atomic
def api_key_create(
    *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[PersonalApiKey, str]:
    """Create a key and return it with its secret, which is never shown again."""
    errors = {}
    if not name.strip():
        errors["name"] = _("Give the key a name, e.g. the program that will use it.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    # Lock the user row so two concurrent creations cannot both pass the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if (
        PersonalApiKey.objects.filter(user=user, revoked=False).count()
        >= MAX_ACTIVE_KEYS
    ):
        errors["name"] = _("You have %(count)d active keys; revoke one first.") % {
            "count": MAX_ACTIVE_KEYS
        }
    if errors:
        raise ValidationError(errors)
    api_key = PersonalApiKey(user=user, name=name.strip(), expiry_date=expires_at)
    secret = PersonalApiKey.objects.assign_key(api_key)
    api_key.full_clean()
    api_key.save(force_insert=True)
    return api_key, secret


@transaction.atomic
def api_key_revoke(*, api_key: PersonalApiKey) -> PersonalApiKey:
    """Revoke a key for good. Revoking twice is harmless."""
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key


def api_key_mark_used(*, api_key: PersonalApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    # A conditional UPDATE: concurrent requests do not fight over the row.
    PersonalApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def user_events_group(user_id: int) -> str:
    return f"user.{user_id}"


def user_event_push(*, user_id: int, event: dict) -> None:
    """Send a live event to every open websocket of a user (/ws/events/).

    Callers inside a transaction should wrap this in `transaction.on_commit`, so
    that clients never hear of something that was rolled back.
    """
    async_to_sync(get_channel_layer().group_send)(
        user_events_group(user_id), {"type": "user.event", "event": event}
    )


DEMO_USERS = [
    # (username, email, password, is_staff)
    ("admin", "admin@agentry.localhost", "agentry-admin", True),
    ("alice", "alice@agentry.localhost", "agentry-demo", False),
    ("bob", "bob@agentry.localhost", "agentry-demo", False),
]


@transaction.atomic
def demo_users_ensure() -> list[tuple[User, str, bool]]:
    """Create the demo accounts that are missing; leave existing ones alone.

    Returns (user, demo password, created) for each, so the caller can print them.
    A password is set only when the account is created: a user who changed it
    keeps their own.
    """
    from allauth.account.models import EmailAddress

    results = []
    for username, email, password, is_staff in DEMO_USERS:
        user = User.objects.filter(username__iexact=username).first()
        created = user is None
        if created:
            user = User(username=username, email=email, is_staff=is_staff)
            user.is_superuser = is_staff
            user.set_password(password)
            user.full_clean()
            user.save()
            EmailAddress.objects.create(
                user=user, email=email, verified=True, primary=True
            )
        results.append((user, password, created))
    return results
