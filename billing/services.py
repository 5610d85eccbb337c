"""Every change of credits. Each goes through ``_post``: the account row is
locked, one ledger entry is written with its idempotency key, and the cached
balance moves by exactly that amount in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    MILLI,
    CreditAccount,
    CreditLot,
    EntryKind,
    LedgerEntry,
    RunBudget,
)

SIGNUP_CREDITS = 10 * MILLI
SIGNUP_EXPIRY = timedelta(days=30)


class InsufficientCreditsError(Exception):
    """The balance does not cover the amount; the message says what to do."""


class IdempotencyConflictError(Exception):
    """An idempotency key was reused for a different change."""


def to_millicredits(value) -> int:
    """Credits as given by a person or an API (``"9.25"``, 10) in milli-credits."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Give an amount of credits, e.g. 10 or 2.5.")) from None
    milli = amount * MILLI
    if not milli.is_finite() or milli != milli.to_integral_value():
        raise ValidationError(_("Credits have at most three decimal places."))
    return int(milli)


def account_get_or_create(*, user) -> CreditAccount:
    account, _created = CreditAccount.objects.get_or_create(user=user)
    return account


def _locked_account(user) -> CreditAccount:
    try:
        return CreditAccount.objects.select_for_update().get(user=user)
    except CreditAccount.DoesNotExist:
        account_get_or_create(user=user)
        return CreditAccount.objects.select_for_update().get(user=user)


def _existing(key: str, *, account: CreditAccount, kind: str) -> LedgerEntry | None:
    entry = LedgerEntry.objects.filter(idempotency_key=key).first()
    if entry is not None and (entry.account_id != account.pk or entry.kind != kind):
        raise IdempotencyConflictError(
            f"The key {key!r} already belongs to another change."
        )
    return entry


def _post(
    account: CreditAccount, *, kind: str, amount: int, key: str, **fields
) -> LedgerEntry:
    """Write the entry and move the cached balance; the caller holds the lock,
    so ``account.balance`` (read under it) is the current balance."""
    CreditAccount.objects.filter(pk=account.pk).update(
        balance=F("balance") + amount, updated_at=timezone.now()
    )
    account.balance += amount
    return LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        idempotency_key=key,
        **fields,
    )


@transaction.atomic
def credit_add(
    *,
    user,
    amount: int,
    kind: str,
    key: str,
    description: str = "",
    expires_at: datetime | None = None,
    created_by=None,
) -> LedgerEntry:
    """Credits in (a grant, purchase, allocation or adjustment), as one lot.

    Idempotent: the same ``key`` again returns the first entry unchanged.
    """
    if amount <= 0:
        raise ValueError("credit_add takes a positive amount")
    account = _locked_account(user)
    existing = _existing(key, account=account, kind=kind)
    if existing is not None:
        return existing
    entry = _post(
        account,
        kind=kind,
        amount=amount,
        key=key,
        description=description[:300],
        created_by=created_by,
    )
    CreditLot.objects.create(
        account=account,
        entry=entry,
        amount=amount,
        remaining=amount,
        expires_at=expires_at,
    )
    return entry


def _take_from_lots(account: CreditAccount, amount: int) -> None:
    """Use ``amount`` from the lots, soonest-expiring first (the caller holds
    the account lock, so the lots cannot change under us)."""
    left = amount
    for lot in CreditLot.objects.filter(account=account, remaining__gt=0).order_by(
        F("expires_at").asc(nulls_last=True), "pk"
    ):
        used = min(left, lot.remaining)
        CreditLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - used)
        left -= used
        if left == 0:
            return


@transaction.atomic
def credit_spend(
    *,
    user,
    amount: int,
    key: str,
    kind: str = EntryKind.RUN_CHARGE,
    description: str = "",
    run=None,
    created_by=None,
) -> LedgerEntry:
    """Credits out. Refused (InsufficientCreditsError) beyond the balance;
    idempotent on ``key`` like credit_add."""
    if amount <= 0:
        raise ValueError("credit_spend takes a positive amount")
    account = _locked_account(user)
    existing = _existing(key, account=account, kind=kind)
    if existing is not None:
        return existing
    if account.balance < amount:
        raise InsufficientCreditsError(
            _(
                "Not enough credits: this needs %(needed)s and the balance is "
                "%(balance)s. Buy credits on the Credits page."
            )
            % {
                "needed": f"{amount / MILLI:g}",
                "balance": f"{account.balance / MILLI:g}",
            }
        )
    _take_from_lots(account, amount)
    return _post(
        account,
        kind=kind,
        amount=-amount,
        key=key,
        description=description[:300],
        run=run,
        created_by=created_by,
    )


def credits_grant_signup(*, user) -> LedgerEntry:
    """The free credits every new account starts with, expiring if unused."""
    return credit_add(
        user=user,
        amount=SIGNUP_CREDITS,
        kind=EntryKind.GRANT,
        key=f"signup:{user.pk}",
        description=_("Welcome credits"),
        expires_at=timezone.now() + SIGNUP_EXPIRY,
    )


def credit_adjust(*, user, amount: int, reason: str, staff) -> LedgerEntry:
    """A staff grant (positive) or claw-back (negative), with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why, for the user's history.")]})
    if amount == 0:
        raise ValidationError({"amount": [_("Give an amount other than zero.")]})
    key = f"adjustment:{staff.pk}:{timezone.now().isoformat()}:{user.pk}"
    if amount > 0:
        return credit_add(
            user=user,
            amount=amount,
            kind=EntryKind.ADJUSTMENT,
            key=key,
            description=reason,
            created_by=staff,
        )
    try:
        return credit_spend(
            user=user,
            amount=-amount,
            kind=EntryKind.ADJUSTMENT,
            key=key,
            description=reason,
            created_by=staff,
        )
    except InsufficientCreditsError:
        raise ValidationError(
            {"amount": [_("That is more than the balance; it cannot go below zero.")]}
        ) from None


def credits_expire(*, now: datetime | None = None) -> int:
    """Expire what is left of lots past their date, one entry per lot.

    Returns how many lots expired. Safe to run at any time and in parallel:
    each lot is handled under its account's lock, keyed on the lot.
    """
    now = now or timezone.now()
    expired = 0
    due = CreditLot.objects.filter(expires_at__lte=now, remaining__gt=0).values_list(
        "pk", "account__user_id"
    )
    for lot_id, user_id in list(due):
        with transaction.atomic():
            account = CreditAccount.objects.select_for_update().get(user_id=user_id)
            lot = CreditLot.objects.get(pk=lot_id)
            if lot.remaining <= 0:
                continue
            try:
                with transaction.atomic():
                    _post(
                        account,
                        kind=EntryKind.EXPIRY,
                        amount=-lot.remaining,
                        key=f"expiry:lot:{lot.pk}",
                        description=_("Unused credits expired"),
                    )
            except IntegrityError:
                continue
            CreditLot.objects.filter(pk=lot.pk).update(remaining=0)
            expired += 1
    return expired


@transaction.atomic
def run_reserve(*, run, user, cap: int | None = None, minimum: int = 1) -> RunBudget:
    """Hold the run's budget: the lower of ``cap`` (else the site's default
    per-run budget) and what is available.

    Refused (InsufficientCreditsError) when less than ``minimum`` (the run's
    estimate) is available, so runs started at once against a balance that
    covers one cannot all start.
    """
    account = _locked_account(user)
    available = account.available
    if cap is None:
        cap = to_millicredits(settings.CREDITS_RUN_BUDGET)
    amount = min(cap, available)
    needed = max(minimum, 1)
    if amount < needed:
        if available < needed:
            message = _(
                "Not enough credits for this run: it needs about %(needed)s and "
                "%(available)s are available. Buy credits on the Credits page."
            )
        else:
            message = _(
                "This run needs about %(needed)s credits, more than its budget "
                "of %(cap)s. Raise the budget."
            )
        raise InsufficientCreditsError(
            message
            % {
                "needed": f"{needed / MILLI:g}",
                "available": f"{available / MILLI:g}",
                "cap": f"{cap / MILLI:g}",
            }
        )
    CreditAccount.objects.filter(pk=account.pk).update(held=F("held") + amount)
    return RunBudget.objects.create(run=run, account=account, reserved=amount)


def _locked_budget(run) -> tuple[CreditAccount, RunBudget] | tuple[None, None]:
    account_id = (
        RunBudget.objects.filter(run=run).values_list("account_id", flat=True).first()
    )
    if account_id is None:
        return None, None
    # The account first, as everywhere, then the budget.
    account = CreditAccount.objects.select_for_update().get(pk=account_id)
    return account, RunBudget.objects.select_for_update().get(run=run)


@transaction.atomic
def run_charge(
    *, run, amount: int, key: str, description: str = ""
) -> tuple[int, bool]:
    """Charge ``amount`` to the run, within what its budget has left.

    Returns what was charged and whether the budget ran out (the caller
    stops the run). Idempotent on ``key``.
    """
    account, budget = _locked_budget(run)
    if budget is None:
        return 0, False  # a run from before metering
    existing = _existing(key, account=account, kind=EntryKind.RUN_CHARGE)
    if existing is not None:
        return -existing.amount, False
    if budget.released_at is not None:
        return 0, amount > 0
    # The balance can be below the budget if credits expired meanwhile.
    take = min(amount, budget.reserved - budget.charged, account.balance)
    if take > 0:
        _take_from_lots(account, take)
        _post(
            account,
            kind=EntryKind.RUN_CHARGE,
            amount=-take,
            key=key,
            description=description[:300],
            run=run,
        )
        CreditAccount.objects.filter(pk=account.pk).update(
            held=Greatest(F("held") - take, 0)
        )
        RunBudget.objects.filter(pk=budget.pk).update(charged=F("charged") + take)
    return take, take < amount


@transaction.atomic
def run_release(*, run) -> int:
    """Give back what the run held and did not spend; returns that amount."""
    account, budget = _locked_budget(run)
    if budget is None or budget.released_at is not None:
        return 0
    unused = budget.reserved - budget.charged
    CreditAccount.objects.filter(pk=account.pk).update(
        held=Greatest(F("held") - unused, 0)
    )
    RunBudget.objects.filter(pk=budget.pk).update(released_at=timezone.now())
    return unused
