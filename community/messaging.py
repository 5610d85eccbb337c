"""Direct messages between two people, and blocking: the writes (services) and
the reads (selectors) in one place.

A thread belongs to exactly two people (one per pair, ``Thread.user_a`` the
lower id). Each side keeps its unread count on the thread, so the inbox and
the navigation badge never count messages. A block, either way, stops new
messages in both directions; the blocked person is told only that they cannot
message this person. Message text is markdown, always shown sanitized
(config.markdown).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import (
    Block,
    Message,
    Notification,
    NotificationKind,
    Thread,
    User,
)
from community.services import notify
from config import throttles

MAX_BODY = 5000


def _require_can_send(user: User) -> None:
    if not user.is_active or user.is_suspended or user.is_hidden:
        raise PermissionDenied(
            _("Your account is suspended: you cannot send messages.")
        )


def _clean_body(value) -> str:
    if not isinstance(value, str):
        raise ValidationError({"body": [_("This must be text.")]})
    value = value.replace("\x00", "").strip()
    if not value:
        raise ValidationError({"body": [_("Write something first.")]})
    if len(value) > MAX_BODY:
        raise ValidationError(
            {"body": [_("At most %(n)d characters.") % {"n": MAX_BODY}]}
        )
    return value


def _pair(first: User, second: User) -> tuple[User, User]:
    return (first, second) if first.pk < second.pk else (second, first)


# --- blocks --------------------------------------------------------------------


def has_blocked(*, blocker: User, blocked: User) -> bool:
    if not blocker.is_authenticated or blocker.pk == blocked.pk:
        return False
    return Block.objects.filter(blocker=blocker, blocked=blocked).exists()


@transaction.atomic
def block_create(*, blocker: User, blocked: User) -> tuple[Block, bool]:
    """Block someone; blocking again changes nothing. Returns (block, created).
    The blocked person is not told."""
    if blocker.pk == blocked.pk:
        raise ValidationError({"username": [_("You cannot block yourself.")]})
    return Block.objects.get_or_create(blocker=blocker, blocked=blocked)


@transaction.atomic
def block_delete(*, blocker: User, blocked: User) -> bool:
    """Unblock someone; returns whether there was a block to lift."""
    deleted, _details = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    return bool(deleted)


def block_list(*, user: User) -> QuerySet[User]:
    """The people ``user`` has blocked, most recent first."""
    latest = Block.objects.filter(blocker=user, blocked=OuterRef("pk"))
    return (
        User.objects.filter(pk__in=Block.objects.filter(blocker=user).values("blocked"))
        .select_related("profile")
        .annotate(blocked_at=Subquery(latest.values("created_at")[:1]))
        .order_by("-blocked_at", "-id")
    )


def send_refusal(*, sender: User, recipient: User) -> str | None:
    """Why ``sender`` may not message ``recipient`` now, or None if they may.

    The blocker is reminded of their own block; the blocked person hears only
    that they cannot message this person.
    """
    if sender.pk == recipient.pk:
        return _("You cannot message yourself.")
    if not recipient.is_active:
        return _("You cannot message this person.")
    blocks = set(
        Block.objects.filter(
            Q(blocker=sender, blocked=recipient) | Q(blocker=recipient, blocked=sender)
        ).values_list("blocker_id", flat=True)
    )
    if sender.pk in blocks:
        return _("Unblock them to send a message.")
    if blocks:
        return _("You cannot message this person.")
    return None


# --- messages ------------------------------------------------------------------


@transaction.atomic
def message_send(*, sender: User, recipient: User, body) -> Message:
    """Send ``recipient`` a message, in the one thread of the two (made on the
    first message). Refused (ValidationError) to yourself, across a block
    either way, past the rate limit, or with an empty or overlong body; a
    suspended or inactive sender gets PermissionDenied.

    The recipient is notified unless an earlier message notice of this thread
    is still unread (reading the thread clears those), so a chat does not
    become a flood of notifications and emails.
    """
    _require_can_send(sender)
    body = _clean_body(body)
    refusal = send_refusal(sender=sender, recipient=recipient)
    if refusal:
        raise ValidationError({"non_field_errors": [refusal]})
    # Per sender (or API key), RATE_LIMIT_MESSAGES: 429 with Retry-After.
    throttles.check(user=sender, action="message")
    user_a, user_b = _pair(sender, recipient)
    thread, _created = Thread.objects.get_or_create(user_a=user_a, user_b=user_b)
    thread = Thread.objects.select_for_update().get(pk=thread.pk)
    message = Message(thread=thread, sender=sender, body=body)
    message.full_clean(exclude=["thread", "sender"])
    message.save(force_insert=True)
    unread_field = "b_unread" if sender.pk == thread.user_a_id else "a_unread"
    Thread.objects.filter(pk=thread.pk).update(
        last_message=message,
        updated_at=message.created_at,
        **{unread_field: F(unread_field) + 1},
    )
    url = thread.get_absolute_url()
    already_told = Notification.objects.filter(
        recipient=recipient,
        kind=NotificationKind.MESSAGE,
        url=url,
        read_at__isnull=True,
    ).exists()
    if not already_told:
        notify(
            recipient=recipient,
            kind=NotificationKind.MESSAGE,
            actor=sender,
            text=_("%(username)s sent you a message.") % {"username": sender.username},
            url=url,
            data={"thread": thread.pk, "message": message.pk},
        )
    return message


def message_reply(*, sender: User, thread: Thread, body) -> Message:
    """Answer in ``thread`` (the sender must be one of its two people)."""
    if sender.pk not in (thread.user_a_id, thread.user_b_id):
        raise PermissionDenied(_("Only its two participants can write in a thread."))
    return message_send(sender=sender, recipient=thread.other(sender), body=body)


@transaction.atomic
def thread_mark_read(*, thread: Thread, user: User) -> None:
    """``user`` has seen the whole thread: their unread count goes to zero, and
    their notices of it are marked read."""
    side = "a" if user.pk == thread.user_a_id else "b"
    now = timezone.now()
    Thread.objects.filter(pk=thread.pk).update(
        **{f"{side}_unread": 0, f"{side}_read_at": now}
    )
    setattr(thread, f"{side}_unread", 0)
    setattr(thread, f"{side}_read_at", now)
    Notification.objects.filter(
        recipient=user,
        kind=NotificationKind.MESSAGE,
        url=thread.get_absolute_url(),
        read_at__isnull=True,
    ).update(read_at=now)


# --- reads ---------------------------------------------------------------------


def thread_list(*, user: User) -> QuerySet[Thread]:
    """``user``'s threads, latest message first, with both people, their
    profiles and the last message loaded (the inbox makes no query per row)."""
    return (
        Thread.objects.filter(Q(user_a=user) | Q(user_b=user))
        .select_related("user_a__profile", "user_b__profile", "last_message__sender")
        .order_by("-updated_at", "-id")
    )


def thread_get_for_user(*, user: User, thread_id) -> Thread | None:
    """The thread if ``user`` is one of its two people; None for anyone else,
    staff included (messages are private)."""
    try:
        thread_id = int(thread_id)
    except (TypeError, ValueError):
        return None
    return (
        thread_list(user=user).filter(pk=thread_id).first()
        if user.is_authenticated
        else None
    )


def thread_between(*, user: User, other: User) -> Thread | None:
    user_a, user_b = _pair(user, other)
    return Thread.objects.filter(user_a=user_a, user_b=user_b).first()


def message_list(*, thread: Thread) -> QuerySet[Message]:
    """A thread's messages, newest first."""
    return thread.messages.select_related("sender").order_by("-created_at", "-id")


def _unread_messages_subquery(user_ref) -> Subquery:
    mine = Case(
        When(user_a=user_ref, then=F("a_unread")),
        default=F("b_unread"),
        output_field=IntegerField(),
    )
    return Subquery(
        Thread.objects.filter(Q(user_a=user_ref) | Q(user_b=user_ref))
        .order_by()
        .annotate(total=Func(mine, function="SUM"))
        .values("total")[:1],
        output_field=IntegerField(),
    )


def message_unread_count(*, user: User) -> int:
    mine = Case(
        When(user_a=user, then=F("a_unread")),
        default=F("b_unread"),
        output_field=IntegerField(),
    )
    return Thread.objects.filter(Q(user_a=user) | Q(user_b=user)).aggregate(
        total=Coalesce(Sum(mine), Value(0))
    )["total"]


def navigation_unread_counts(*, user: User) -> dict[str, int]:
    """Unread notifications and unread messages of ``user`` in one query (the
    navigation bar shows both on every page)."""
    notifications = Subquery(
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .annotate(total=Func(F("pk"), function="COUNT"))
        .values("total")[:1],
        output_field=IntegerField(),
    )
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            n=Coalesce(notifications, Value(0)),
            m=Coalesce(_unread_messages_subquery(OuterRef("pk")), Value(0)),
        )
        .values("n", "m")
        .first()
    )
    if row is None:
        return {"notifications": 0, "messages": 0}
    return {"notifications": row["n"], "messages": row["m"]}
