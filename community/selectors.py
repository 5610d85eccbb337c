"""Reads for accounts and API keys."""

from __future__ import annotations

from django.db.models import QuerySet

from community.models import PersonalApiKey, User


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
