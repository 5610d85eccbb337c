"""What every page needs from billing: whether to show the low-balance banner."""

from __future__ import annotations

from django.db.models import F
from django.utils.functional import SimpleLazyObject

from billing.models import CreditAccount


def _low_balance(request) -> dict | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    # One indexed lookup that returns a row only when the balance is low; a
    # threshold of 0 never matches (the balance is never negative).
    row = (
        CreditAccount.objects.filter(
            user_id=user.pk, balance__lt=F("low_balance_threshold")
        )
        .values("balance", "low_balance_threshold")
        .first()
    )
    if row is None:
        return None
    return {"balance": row["balance"], "threshold": row["low_balance_threshold"]}


def low_balance(request) -> dict:
    """``low_balance``: the balance and threshold when a signed-in user's
    balance is below their threshold, else None.

    Lazy: the query runs only when a template uses it (the base layout's
    banner), not for API responses or fragments, and never for visitors.
    """
    return {"low_balance": SimpleLazyObject(lambda: _low_balance(request))}
