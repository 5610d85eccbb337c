"""Prices: the starting tool prices and model prices per class (seeded by a
migration; staff edit them in the admin), the credit packs and plans, and the
arithmetic that turns tokens and calls into milli-credits."""

from __future__ import annotations

import math
from decimal import Decimal

from billing.models import MILLI

# Model prices live in the catalog (agents/catalog.py, then the admin).
# A model the catalog does not price (a user's own endpoint): open-source rate.
DEFAULT_PER_1K = Decimal("0.5")

# Credits per call (and per 1K tokens of context returned), by tool.
TOOL_PRICES = [
    ("web_search", "2", "0"),
    ("file_search", "1", "0.5"),
    ("computer", "3", "0"),
    ("http_request", "0", "0"),
    ("calculator", "0", "0"),
    ("current_time", "0", "0"),
    ("custom", "0", "0"),
]

# One-time credit packs bought through Stripe Checkout: credits, US cents.
PACKS = [
    {"id": "pack_100", "credits": 100, "price_cents": 1000},
    {"id": "pack_500", "credits": 500, "price_cents": 4500},
    {"id": "pack_1000", "credits": 1000, "price_cents": 8000},
    {"id": "pack_5000", "credits": 5000, "price_cents": 35000},
]
# Subscriptions: monthly credits, prices in US cents, discount on packs.
PLANS = [
    {
        "id": "free",
        "name": "Free",
        "monthly_credits": 0,
        "monthly_cents": 0,
        "yearly_cents": 0,
        "pack_discount_percent": 0,
    },
    {
        "id": "basic",
        "name": "Basic",
        "monthly_credits": 100,
        "monthly_cents": 2000,
        "yearly_cents": 19200,
        "pack_discount_percent": 20,
    },
    {
        "id": "pro",
        "name": "Pro",
        "monthly_credits": 300,
        "monthly_cents": 5000,
        "yearly_cents": 48000,
        "pack_discount_percent": 30,
    },
]


def as_credits(milli: int) -> int | float:
    """Milli-credits as the API shows credits: 10, 9.25."""
    milli = milli or 0
    return milli // MILLI if milli % MILLI == 0 else milli / MILLI


def tool_prices_ensure(model_class=None) -> int:
    """Add the starting tool prices that are missing; leave edited ones alone."""
    if model_class is None:
        from billing.models import ToolPrice

        model_class = ToolPrice
    added = 0
    for tool, per_call, per_1k_context in TOOL_PRICES:
        _, created = model_class.objects.get_or_create(
            tool=tool,
            defaults={
                "per_call": Decimal(per_call),
                "per_1k_context": Decimal(per_1k_context),
            },
        )
        added += created
    return added


def tokens_cost(tokens: int, per_1k: Decimal) -> int:
    """Milli-credits for ``tokens`` at ``per_1k`` credits per 1K, rounded up:
    a part of a milli-credit is charged as a whole one, never given away."""
    if tokens <= 0 or per_1k <= 0:
        return 0
    return math.ceil(Decimal(tokens) * per_1k * MILLI / 1000)


def model_turn_cost(
    *, input_tokens: int, output_tokens: int, input_per_1k, output_per_1k
) -> int:
    return tokens_cost(input_tokens, Decimal(input_per_1k)) + tokens_cost(
        output_tokens, Decimal(output_per_1k)
    )


def tool_call_cost(*, per_call, per_1k_context=0, context_tokens: int = 0) -> int:
    return math.ceil(Decimal(per_call) * MILLI) + tokens_cost(
        context_tokens, Decimal(per_1k_context)
    )
