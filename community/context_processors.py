"""What every page needs from community: the unread notification count."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from community import selectors


def _unread(request) -> int:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return selectors.notification_unread_count(user=user)


def notifications(request) -> dict:
    """``notifications_unread``: how many notifications the signed-in user has
    not read (0 for visitors).

    Lazy: one indexed count, only when a template shows it (the navigation
    bar's bell), never for API responses or fragments.
    """
    return {"notifications_unread": SimpleLazyObject(lambda: _unread(request))}
