"""What every page needs from billing: whether credits are on, the balance
for the header, and whether to show the low-balance banner."""

from __future__ import annotations

from functools import cache

from django.utils.functional import SimpleLazyObject

from billing.models import CreditAccount
from billing.selectors import credits_enabled


def credits(request) -> dict:
    """``credits_enabled``: whether runs cost credits here (CREDITS_MODE).
    ``credit_balance``: a signed-in person's balance in milli-credits (None
    for visitors). ``low_balance``: the balance and threshold when it is
    below the person's threshold, else None.

    Lazy, and one query for both: it runs only when a template uses them
    (the base layout's header and banner), not for API responses or
    fragments, and never for visitors or with credits off.
    """
    if not credits_enabled():
        return {"credits_enabled": False, "credit_balance": None, "low_balance": None}

    @cache
    def account() -> dict | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return (
            CreditAccount.objects.filter(user_id=user.pk)
            .values("balance", "low_balance_threshold")
            .first()
        ) or {"balance": 0, "low_balance_threshold": 0}

    def balance() -> dict | None:
        row = account()
        return None if row is None else {"balance": row["balance"]}

    def low_balance() -> dict | None:
        row = account()
        # A threshold of 0 is never crossed (the balance is never negative).
        if row is None or row["balance"] >= row["low_balance_threshold"]:
            return None
        return {"balance": row["balance"], "threshold": row["low_balance_threshold"]}

    return {
        "credits_enabled": True,
        "credit_balance": SimpleLazyObject(balance),
        "low_balance": SimpleLazyObject(low_balance),
    }
