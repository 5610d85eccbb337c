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
    # None once the account is closed: its person deleted their account, and
    # the ledger stays, anonymous, for the books (billing.services
    # account_close). An account with entries cannot be deleted (the entries
    # are PROTECTed): account deletion detaches it first.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="credit_account",
    )
    balance = models.BigIntegerField(_("balance (milli-credits)"), default=0)
    # Reserved by runs in progress (their budgets): not spent yet, not
    # available to new runs either.
    held = models.BigIntegerField(_("held by running runs (milli-credits)"), default=0)
    # A page banner (and an email) when the balance falls below this.
    low_balance_threshold = models.BigIntegerField(
        _("low-balance warning below (milli-credits)"), default=2 * MILLI
    )
    # When the low-balance email went out; cleared once the balance is back
    # above the threshold, so each dip warns once.
    low_balance_warned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="creditaccount_balance_not_negative"
            ),
            # A closed account has no person, nothing left and nothing held.
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True, user__isnull=False)
                | Q(closed_at__isnull=False, user__isnull=True, balance=0, held=0),
                name="creditaccount_closed_is_anonymous_and_empty",
            ),
            models.CheckConstraint(
                condition=Q(low_balance_threshold__gte=0),
                name="creditaccount_threshold_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(held__gte=0), name="creditaccount_held_not_negative"
            ),
        ]

    def __str__(self) -> str:
        if self.user_id is None:
            return f"closed account {self.pk}"
        return f"{self.user} ({self.balance / MILLI:g} credits)"

    @property
    def available(self) -> int:
        """What a new run may reserve."""
        return max(self.balance - self.held, 0)


class EntryKind(models.TextChoices):
    GRANT = "grant", _("Free credits")
    PURCHASE = "purchase", _("Purchase")
    ALLOCATION = "allocation", _("Subscription allocation")
    RUN_CHARGE = "run_charge", _("Run")
    REFUND = "refund", _("Refund")
    EXPIRY = "expiry", _("Expired")
    ADJUSTMENT = "adjustment", _("Staff adjustment")
    # What was left when the person deleted their account (forfeited).
    CLOSURE = "closure", _("Account closed")
    PROMO = "promo", _("Promo code")


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


class ToolPrice(models.Model):
    """What one call of a tool costs, edited by staff in the admin.

    ``tool`` is a built-in tool's name, or ``custom`` for users' webhook tools;
    a tool without a row is free.
    """

    tool = models.CharField(_("tool"), max_length=64, unique=True)
    per_call = models.DecimalField(
        _("credits per call"), max_digits=10, decimal_places=3, default=0
    )
    per_1k_context = models.DecimalField(
        _("credits per 1K tokens of context it returns"),
        max_digits=10,
        decimal_places=3,
        default=0,
    )

    class Meta:
        ordering = ["tool"]
        constraints = [
            models.CheckConstraint(
                condition=Q(per_call__gte=0) & Q(per_1k_context__gte=0),
                name="toolprice_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tool}: {self.per_call} per call"


class RunBudget(models.Model):
    """What a run may spend (``reserved``, its budget), what it holds of it
    now (``held``) and what it spent (``charged``).

    The hold is not a ledger entry: it starts at a small multiple of the
    run's estimate and grows, charge by charge, from what is available, up to
    the budget; each charge is an entry tied to the run, and what is still
    held is released when the run ends. A small hold per run lets one balance
    carry several runs at once.
    """

    run = models.OneToOneField(
        "agents.Run", on_delete=models.CASCADE, related_name="budget"
    )
    account = models.ForeignKey(
        CreditAccount, on_delete=models.CASCADE, related_name="budgets"
    )
    reserved = models.BigIntegerField(_("budget (milli-credits)"))
    held = models.BigIntegerField(_("held now (milli-credits)"), default=0)
    charged = models.BigIntegerField(default=0)
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(reserved__gte=0)
                & Q(charged__gte=0)
                & Q(charged__lte=F("reserved")),
                name="runbudget_charged_within_reserved",
            ),
            models.CheckConstraint(
                condition=Q(held__gte=0) & Q(held__lte=F("reserved") - F("charged")),
                name="runbudget_held_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id}: {self.charged} of {self.reserved}"


class PurchaseStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")


class Purchase(models.Model):
    """A credit pack bought through Stripe Checkout, from the moment the
    Checkout Session is created until it is paid (and perhaps refunded).

    The Checkout Session id is the business key: its credits are posted once
    (ledger key ``purchase:<session>``) however many webhooks announce it.
    """

    # None once the buyer deleted their account (kept for the books).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchases",
    )
    checkout_session_id = models.CharField(max_length=255, unique=True)
    pack = models.CharField(max_length=40)
    credits = models.BigIntegerField(_("credits (milli-credits)"))
    amount_cents = models.PositiveIntegerField(_("price paid (cents)"), default=0)
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(
        max_length=20, choices=PurchaseStatus.choices, default=PurchaseStatus.PENDING
    )
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchase",
    )
    # Refunds so far: the money, and the credits that money stands for (of
    # which only the unspent part could be taken back).
    amount_refunded_cents = models.PositiveIntegerField(default=0)
    credits_refunded = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credits__gt=0)
                & Q(credits_refunded__gte=0)
                & Q(credits_refunded__lte=F("credits")),
                name="purchase_refund_within_credits",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PurchaseStatus.values),
                name="purchase_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credits / MILLI:g} credits for {self.user} ({self.status})"


class PromoCode(models.Model):
    """Credits staff hand out as a code: each person may redeem it once,
    until it expires or has been redeemed ``max_redemptions`` times.

    ``redeemed`` counts redemptions; it moves only in billing.services, under
    this row's lock, so the maximum holds however many redeem at once.
    """

    # Stored upper-case: people type codes in any case.
    code = models.CharField(_("code"), max_length=40, unique=True)
    amount = models.BigIntegerField(_("credits each (milli-credits)"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(
        _("most redemptions"),
        null=True,
        blank=True,
        help_text=_("Empty: any number of people."),
    )
    redeemed = models.PositiveIntegerField(_("redeemed"), default=0)
    description = models.CharField(
        _("description"),
        max_length=200,
        blank=True,
        help_text=_("Shown in the history of those who redeem it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="promocode_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_redemptions__isnull=True)
                | Q(redeemed__lte=F("max_redemptions")),
                name="promocode_redeemed_within_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.amount / MILLI:g} credits)"


class PromoRedemption(models.Model):
    """One person's redemption of a promo code, and the entry it posted."""

    promo = models.ForeignKey(
        PromoCode, on_delete=models.PROTECT, related_name="redemptions"
    )
    # None once the person deleted their account (their ledger stays).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="promo_redemptions",
    )
    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="promo_redemption"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["promo", "user"], name="promoredemption_once_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.promo.code} by {self.user}"
