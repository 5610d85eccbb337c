"""Reads for accounts, API keys, profiles, follows and notifications."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from community.models import Follow, Notification, PersonalApiKey, Profile, User


def api_key_list_for_user(*, user: User) -> QuerySet[PersonalApiKey]:
    return PersonalApiKey.objects.filter(user=user).order_by("revoked", "-created")


def api_key_get_for_user(*, user: User, prefix: str) -> PersonalApiKey | None:
    return PersonalApiKey.objects.filter(user=user, prefix=prefix).first()


def api_key_get_usable(*, key: str) -> PersonalApiKey | None:
    """The active, unexpired key matching the presented secret, or None."""
    prefix, _, _ = key.partition(".")
    api_key = (
        PersonalApiKey.objects.select_related("user")
        .filter(prefix=prefix, revoked=False)
        .first()
    )
    if api_key is None or not api_key.is_valid(key):
        return None
    if api_key.has_expired or not api_key.user.is_active:
        return None
    return api_key


def api_key_is_usable(*, api_key_id: int) -> bool:
    """Whether a key found usable earlier still is: not revoked, not expired,
    its owner active (what a websocket opened with it re-checks)."""
    return (
        PersonalApiKey.objects.filter(
            pk=api_key_id, revoked=False, user__is_active=True
        )
        .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=timezone.now()))
        .exists()
    )


# ---------- People ----------

PROFILE_AGENTS_SHOWN = 30


def user_get_public(*, username: str) -> User | None:
    """An active account by username (any case), with its profile if it has
    one; None for unknown, deactivated or hidden (by moderators) accounts."""
    return (
        User.objects.select_related("profile")
        .filter(username__iexact=username, is_active=True, is_hidden=False)
        .first()
    )


def profile_of(user: User) -> Profile:
    """The user's profile, or an unsaved one with the defaults (profiles are
    made on first write, so reading one never writes)."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return Profile(user=user)


def agent_list_published(*, owner: User) -> QuerySet:
    """The agents ``owner`` has published (public), newest change first."""
    from agents.models import Agent
    from agents.selectors import agent_published_q

    return Agent.objects.filter(agent_published_q(), owner=owner).order_by(
        "-updated_at", "-id"
    )


def author_stats(*, owner: User) -> dict:
    """Runs of ``owner``'s published agents and their average rating (one
    query over the agents' kept counts)."""
    from django.db.models import Sum

    totals = agent_list_published(owner=owner).aggregate(
        runs=Sum("run_count"), stars=Sum("rating_sum"), ratings=Sum("rating_count")
    )
    ratings = totals["ratings"] or 0
    return {
        "runs": totals["runs"] or 0,
        "ratings": ratings,
        "rating_average": round(totals["stars"] / ratings, 2) if ratings else None,
    }


def is_following(*, follower: User, followee: User) -> bool:
    if not follower.is_authenticated or follower.pk == followee.pk:
        return False
    return Follow.objects.filter(follower=follower, followee=followee).exists()


def follower_list(*, user: User) -> QuerySet[User]:
    """Active people following ``user``, most recent follow first."""
    return (
        User.objects.filter(
            following_set__followee=user, is_active=True, is_hidden=False
        )
        .select_related("profile")
        .order_by("-following_set__created_at", "-id")
    )


def following_list(*, user: User) -> QuerySet[User]:
    """Active people ``user`` follows, most recent follow first."""
    return (
        User.objects.filter(
            follower_set__follower=user, is_active=True, is_hidden=False
        )
        .select_related("profile")
        .order_by("-follower_set__created_at", "-id")
    )


def feed_agents(*, user: User) -> QuerySet:
    """Public agents of the people ``user`` follows, newest change first."""
    from agents.models import Agent
    from agents.selectors import agent_published_q

    followed = Follow.objects.filter(follower=user).values("followee_id")
    return (
        Agent.objects.filter(agent_published_q(), owner__in=followed)
        .select_related("owner", "owner__profile")
        .order_by("-updated_at", "-id")
    )


# ---------- Notifications ----------


def notification_list(
    *, user: User, unread_only: bool = False
) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient=user).select_related("actor")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def notification_get_for_user(*, user: User, notification_id) -> Notification | None:
    try:
        notification_id = int(notification_id)
    except (TypeError, ValueError):
        return None
    return Notification.objects.filter(pk=notification_id, recipient=user).first()


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
