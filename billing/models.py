"""Credits: an account per user, an append-only ledger, and lots that expire.

Amounts are integer milli-credits (1 credit = 1000), never floats. The
account's ``balance`` caches the sum of its entries; only billing.services
changes it, under a row lock, and the database refuses a negative balance.
Credits that come in together form a lot, which may expire; spending takes
from the soonest-expiring lots first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

MILLI = 1000  # milli-credits per credit


class CreditAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="credit_account",
    )
    balance = models.BigIntegerField(_("balance (milli-credits)"), default=0)
    # A page banner (and an email) when the balance falls below this.
    low_balance_threshold = models.BigIntegerField(
        _("low-balance warning below (milli-credits)"), default=2 * MILLI
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="creditaccount_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(low_balance_threshold__gte=0),
                name="creditaccount_threshold_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.balance / MILLI:g} credits)"


class EntryKind(models.TextChoices):
    GRANT = "grant", _("Free credits")
    PURCHASE = "purchase", _("Purchase")
    ALLOCATION = "allocation", _("Subscription allocation")
    RUN_CHARGE = "run_charge", _("Run")
    REFUND = "refund", _("Refund")
    EXPIRY = "expiry", _("Expired")
    ADJUSTMENT = "adjustment", _("Staff adjustment")


class LedgerEntry(models.Model):
    """One change of an account's credits; never updated or deleted."""

    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    # Signed: credits in are positive, credits out negative.
    amount = models.BigIntegerField(_("amount (milli-credits)"))
    balance_after = models.BigIntegerField(_("balance after (milli-credits)"))
    # Derived from the business object (signup:<user>, run:<id>:..., the
    # Checkout Session id...), so the same event twice makes one entry.
    idempotency_key = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=300, blank=True)
    run = models.ForeignKey(
        "agents.Run",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The staff member who made an adjustment."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0), name="ledgerentry_amount_not_zero"
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0),
                name="ledgerentry_balance_after_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="ledgerentry_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount / MILLI:+g}"


class CreditLot(models.Model):
    """Credits that came in with one entry, what is left of them, and when
    what is left expires (never, for purchases and adjustments)."""

    account = models.ForeignKey(
        CreditAccount, on_delete=models.CASCADE, related_name="lots"
    )
    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="lot"
    )
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [F("expires_at").asc(nulls_last=True), "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")),
                name="creditlot_remaining_within_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(remaining__gt=0),
                name="creditlot_unspent_expiry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.remaining / MILLI:g} of {self.amount / MILLI:g} credits"
