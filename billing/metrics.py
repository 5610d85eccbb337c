"""What the billing app reports to /metrics at scrape time: credits and
Stripe's webhook deliveries (registered with config.metrics in
BillingConfig.ready())."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from djstripe.models import WebhookEventTrigger
from prometheus_client.core import CounterMetricFamily

from billing.models import MILLI, EntryKind, LedgerEntry


def credit_metrics():
    totals = LedgerEntry.objects.aggregate(
        spent=Sum("amount", filter=Q(kind=EntryKind.RUN_CHARGE)),
        sold=Sum(
            "amount", filter=Q(kind__in=[EntryKind.PURCHASE, EntryKind.ALLOCATION])
        ),
        refunded=Sum("amount", filter=Q(kind=EntryKind.REFUND)),
    )
    for name, help_text, value in (
        ("spent", "Credits charged for runs.", -(totals["spent"] or 0)),
        (
            "sold",
            "Credits bought or allocated by subscriptions.",
            totals["sold"] or 0,
        ),
        ("refunded", "Credits taken back by refunds.", -(totals["refunded"] or 0)),
    ):
        family = CounterMetricFamily(f"agentry_credits_{name}", help_text)
        family.add_metric([], value / MILLI)
        yield family


def webhook_metrics():
    outcomes = {
        "processed": Q(valid=True, processed=True),
        "failed": Q(valid=True, processed=False),
        "invalid": Q(valid=False),
    }
    # Aliased: an aggregate may not share a name with a field.
    counts = WebhookEventTrigger.objects.aggregate(
        **{
            f"outcome_{name}": Count("id", filter=condition)
            for name, condition in outcomes.items()
        }
    )
    family = CounterMetricFamily(
        "agentry_stripe_webhooks",
        "Stripe webhook deliveries by outcome: processed, failed while "
        "processing, or refused (bad signature).",
        labels=["outcome"],
    )
    for outcome in outcomes:
        family.add_metric([outcome], counts[f"outcome_{outcome}"])
    yield family
