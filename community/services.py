"""Writes for accounts, API keys, profiles, follows and notifications."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from community.audit import audit_record
from community.avatars import avatar_process
from community.models import (
    AuditAction,
    Follow,
    Notification,
    NotificationKind,
    PersonalApiKey,
    Profile,
    User,
)
from community.websocket_auth import (
    api_key_credential_name,
    websocket_credential_ended,
)
from config.live import user_event_push

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
    audit_record(
        action=AuditAction.API_KEY_CREATED,
        actor=user,
        target=("api_key", api_key.prefix, api_key.name),
        details={"expires_at": expires_at.isoformat() if expires_at else None},
    )
    return api_key, secret


@transaction.atomic
def api_key_revoke(*, api_key: PersonalApiKey, staff=None) -> PersonalApiKey:
    """Revoke a key for good (by its owner, or by ``staff`` in the admin);
    once that commits, the websockets opened with it close. Revoking twice is
    harmless."""
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
        websocket_credential_ended(
            user_id=api_key.user_id, name=api_key_credential_name(api_key.pk)
        )
        audit_record(
            action=AuditAction.API_KEY_REVOKED,
            actor=staff or api_key.user,
            target=("api_key", api_key.prefix, api_key.name),
            details={"owner": api_key.user.username} if staff else {},
        )
    return api_key


def api_key_mark_used(*, api_key: PersonalApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    # A conditional UPDATE: concurrent requests do not fight over the row.
    PersonalApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


DEMO_USERS = [
    # (username, email, password, is_staff)
    ("admin", "admin@agentry.localhost", "agentry-admin", True),
    ("alice", "alice@agentry.localhost", "agentry-demo", False),
    ("bob", "bob@agentry.localhost", "agentry-demo", False),
    ("carol", "carol@agentry.localhost", "agentry-demo", False),
    ("dan", "dan@agentry.localhost", "agentry-demo", False),
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


# ---------- Profiles ----------

MAX_LINKS = 4
MAX_LINK_LENGTH = 200
_link_validator = URLValidator(schemes=["http", "https"])


def profile_get_or_create(*, user: User) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


def links_clean(links) -> list[str]:
    if not isinstance(links, list | tuple) or not all(
        isinstance(link, str) for link in links
    ):
        raise ValidationError({"links": [_("Give the links as a list of addresses.")]})
    cleaned = [link.strip() for link in links if link.strip()]
    if len(cleaned) > MAX_LINKS:
        raise ValidationError(
            {"links": [_("Add at most %(count)d links.") % {"count": MAX_LINKS}]}
        )
    for link in cleaned:
        if len(link) > MAX_LINK_LENGTH:
            raise ValidationError(
                {"links": [_("A link may have at most 200 characters.")]}
            )
        try:
            _link_validator(link)
        except ValidationError:
            raise ValidationError(
                {
                    "links": [
                        _(
                            "“%(link)s” is not a web address starting with http:// or "
                            "https://."
                        )
                        % {"link": link[:60]}
                    ]
                }
            ) from None
    return cleaned


def _clean_email_preferences(preferences) -> dict[str, bool]:
    if not isinstance(preferences, dict) or not all(
        isinstance(value, bool) for value in preferences.values()
    ):
        raise ValidationError(
            {"email_preferences": [_("Give each kind as true or false.")]}
        )
    unknown = sorted(set(preferences) - set(NotificationKind.values))
    if unknown:
        raise ValidationError(
            {
                "email_preferences": [
                    _("Unknown notification kinds: %(kinds)s.")
                    % {"kinds": ", ".join(unknown)[:200]}
                ]
            }
        )
    return dict(preferences)


@transaction.atomic
def profile_update(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    links: list[str] | None = None,
    email_preferences: dict[str, bool] | None = None,
    avatar=None,
    remove_avatar: bool = False,
) -> Profile:
    """Change the given parts of a person's profile (None leaves a part as is).

    ``avatar`` is an uploaded file, checked and re-encoded (community.avatars);
    ``email_preferences`` is merged into the saved choices. Nothing is saved
    unless every part is valid: errors come as one ValidationError by field.
    """
    profile = Profile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        profile = profile_get_or_create(user=user)
        profile = Profile.objects.select_for_update().get(pk=profile.pk)
    errors: dict[str, list[str]] = {}
    changed: list[str] = []
    if display_name is not None:
        # Control characters have no place in a name shown to others.
        profile.display_name = "".join(
            char for char in display_name.strip() if char.isprintable()
        )
        changed.append("display_name")
    if bio is not None:
        profile.bio = bio.strip().replace("\x00", "")
        changed.append("bio")
    if links is not None:
        try:
            profile.links = links_clean(links)
            changed.append("links")
        except ValidationError as error:
            errors.update(error.message_dict)
    if email_preferences is not None:
        try:
            cleaned = _clean_email_preferences(email_preferences)
            profile.email_preferences = {**profile.email_preferences, **cleaned}
            changed.append("email_preferences")
        except ValidationError as error:
            errors.update(error.message_dict)
    avatar_bytes = None
    if avatar is not None:
        try:
            avatar_bytes = avatar_process(avatar)
        except ValidationError as error:
            errors.update(error.message_dict)
    try:
        profile.full_clean(exclude=["user", "avatar"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)

    old_avatar = profile.avatar.name if profile.avatar else ""
    if avatar_bytes is not None:
        name = f"{user.pk}-{uuid.uuid4().hex[:12]}.webp"
        profile.avatar.save(name, ContentFile(avatar_bytes), save=False)
        changed.append("avatar")
    elif remove_avatar and old_avatar:
        profile.avatar = ""
        changed.append("avatar")
    if changed:
        profile.save(update_fields=[*changed, "updated_at"])
    if "avatar" in changed and old_avatar:
        storage = profile.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar), robust=True)
    return profile


# ---------- Follows ----------


def _check_followee(*, follower: User, followee: User) -> None:
    if follower.pk == followee.pk:
        raise ValidationError({"username": [_("You cannot follow yourself.")]})
    if not followee.is_active:
        raise ValidationError({"username": [_("This account is not active.")]})


@transaction.atomic
def follow_create(*, follower: User, followee: User) -> tuple[Follow, bool]:
    """Follow someone; following again changes nothing. Returns (follow,
    created). The followee hears of a new follower (a notification)."""
    _check_followee(follower=follower, followee=followee)
    profile_get_or_create(user=follower)
    profile_get_or_create(user=followee)
    follow, created = Follow.objects.get_or_create(follower=follower, followee=followee)
    if created:
        Profile.objects.filter(user=follower).update(
            following_count=F("following_count") + 1
        )
        Profile.objects.filter(user=followee).update(
            followers_count=F("followers_count") + 1
        )
        # Following, unfollowing and following again must not flood the
        # followee: one unread notice per follower is enough.
        already_told = Notification.objects.filter(
            recipient=followee,
            actor=follower,
            kind=NotificationKind.FOLLOW,
            read_at__isnull=True,
        ).exists()
        if not already_told:
            notify(
                recipient=followee,
                kind=NotificationKind.FOLLOW,
                actor=follower,
                text=_("%(username)s started following you.")
                % {"username": follower.username},
                url=follower.get_absolute_url(),
            )
    return follow, created


@transaction.atomic
def follow_delete(*, follower: User, followee: User) -> bool:
    """Stop following someone; returns whether a follow was there to end."""
    deleted, _details = Follow.objects.filter(
        follower=follower, followee=followee
    ).delete()
    if deleted:
        # The counts can only be above zero here: the row just deleted was
        # counted when it was made.
        Profile.objects.filter(user=follower).update(
            following_count=F("following_count") - 1
        )
        Profile.objects.filter(user=followee).update(
            followers_count=F("followers_count") - 1
        )
    return bool(deleted)


# ---------- Notifications ----------


def _notification_url_is_local(url: str) -> bool:
    return url == "" or (url.startswith("/") and not url.startswith(("//", "/\\")))


def notification_event(notification: Notification | None, unread_count: int) -> dict:
    """The live event for /ws/events/ (also what read changes send, without
    a notification)."""
    event: dict = {"type": "notifications", "unread_count": unread_count}
    if notification is not None:
        event["notification"] = {
            "id": notification.pk,
            "kind": notification.kind,
            "text": notification.text,
            "url": notification.url,
            "created_at": notification.created_at.isoformat(),
        }
    return event


def _push_unread_count(*, user_id: int, notification: Notification | None = None):
    unread = Notification.objects.filter(
        recipient_id=user_id, read_at__isnull=True
    ).count()
    user_event_push(user_id=user_id, event=notification_event(notification, unread))


@transaction.atomic
def notify(
    *,
    recipient: User,
    kind: str,
    actor: User | None = None,
    text: str,
    url: str = "",
    data: dict | None = None,
) -> Notification | None:
    """Tell ``recipient`` that something happened; the one way to notify.

    - ``kind``: a NotificationKind (follow, comment, reply, rating, fork,
      message, low_balance); it decides the recipient's email preference.
    - ``actor``: who did it, if anyone. Nobody is notified of their own act:
      when actor is recipient nothing happens and None is returned.
    - ``text``: one plain-text sentence, shown escaped (at most 300 characters).
    - ``url``: a path on this site to open ("/u/alice/"), or "".
    - ``data``: JSON-serialisable details for API clients.

    The row is saved in the caller's transaction. Once it commits, the
    recipient's open pages get the new unread count over /ws/events/, and an
    email is queued (community.tasks) if they want email for this kind.
    """
    if actor is not None and actor.pk == recipient.pk:
        return None
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind: {kind!r}")
    if not _notification_url_is_local(url):
        raise ValueError(f"A notification links to a path on this site: {url!r}")
    notification = Notification(
        recipient=recipient,
        kind=kind,
        actor=actor,
        text=text[:300],
        url=url,
        data=data or {},
    )
    notification.full_clean(exclude=["recipient", "actor"])
    notification.save(force_insert=True)

    recipient_id = recipient.pk
    transaction.on_commit(
        lambda: _push_unread_count(user_id=recipient_id, notification=notification),
        robust=True,
    )
    preferences = (
        Profile.objects.filter(user_id=recipient_id)
        .values_list("email_preferences", flat=True)
        .first()
    )
    if Profile(email_preferences=preferences or {}).wants_email(kind):
        from community.tasks import notification_email_task

        notification_id = notification.pk
        # robust: a broker that is down must not undo what was notified.
        transaction.on_commit(
            lambda: notification_email_task.delay(notification_id), robust=True
        )
    return notification


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark one notification read (again: no change)."""
    if notification.read_at is None:
        now = timezone.now()
        # Conditional: a concurrent "read all" keeps its timestamp.
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        notification.read_at = now
        user_id = notification.recipient_id
        transaction.on_commit(lambda: _push_unread_count(user_id=user_id), robust=True)
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many."""
    marked = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if marked:
        user_id = user.pk
        transaction.on_commit(lambda: _push_unread_count(user_id=user_id), robust=True)
    return marked
