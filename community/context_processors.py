"""What every page needs from community: the unread notification and message
counts."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject


def _unread_counts(request) -> dict[str, int]:
    # Computed once per request, for both badges, in one query.
    if not hasattr(request, "_community_unread_counts"):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            counts = {"notifications": 0, "messages": 0}
        else:
            from community.messaging import navigation_unread_counts

            counts = navigation_unread_counts(user=user)
        request._community_unread_counts = counts
    return request._community_unread_counts


def notifications(request) -> dict:
    """``notifications_unread``: how many notifications the signed-in user has
    not read; ``messages_unread``: how many direct messages (0 for visitors).

    Lazy: one query for both, only when a template shows one of them (the
    navigation bar), never for API responses or fragments.
    """
    return {
        "notifications_unread": SimpleLazyObject(
            lambda: _unread_counts(request)["notifications"]
        ),
        "messages_unread": SimpleLazyObject(
            lambda: _unread_counts(request)["messages"]
        ),
    }
