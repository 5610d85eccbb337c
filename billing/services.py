"""Every change of credits. Each goes through ``_post``: the account row is
locked, one ledger entry is written with its idempotency key, and the cached
balance moves by exactly that amount in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    MILLI,
    CreditAccount,
    CreditLot,
    EntryKind,
    LedgerEntry,
    PromoCode,
    PromoRedemption,
    Purchase,
    PurchaseStatus,
    RunBudget,
)
from billing.selectors import credits_enabled, way_back

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
    account: CreditAccount,
    *,
    kind: str,
    amount: int,
    key: str,
    account_changes: dict | None = None,
    **fields,
) -> LedgerEntry:
    """Write the entry and move the cached balance; the caller holds the lock,
    so ``account.balance`` (read under it) is the current balance.
    ``account_changes``: more of the account's columns to set in the same
    UPDATE (a run's charge moves its hold too)."""
    CreditAccount.objects.filter(pk=account.pk).update(
        balance=F("balance") + amount,
        updated_at=timezone.now(),
        **(account_changes or {}),
    )
    account.balance += amount
    entry = LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        idempotency_key=key,
        **fields,
    )
    _low_balance_track(account, amount=amount)
    return entry


# Low-balance warning: a page banner while the balance is below the account's
# threshold (billing.context_processors), and one email per dip.


def _low_balance_track(account: CreditAccount, *, amount: int) -> None:
    """After ``_post`` moved the balance (under the account lock): credits out
    that leave it below the threshold, with no warning out yet, mark the
    account warned and email once the transaction commits; a balance back at
    or above the threshold clears the mark, so the next dip warns again.

    A threshold of 0 is never crossed: the warning is off.
    """
    below = account.balance < account.low_balance_threshold
    warned = account.low_balance_warned_at is not None
    if below and amount < 0 and not warned:
        warned_at = timezone.now()
    elif not below and warned:
        warned_at = None
    else:
        return
    CreditAccount.objects.filter(pk=account.pk).update(low_balance_warned_at=warned_at)
    account.low_balance_warned_at = warned_at
    if warned_at is not None:
        from billing.tasks import low_balance_email_task

        account_id = account.pk
        # robust: a broker that is down must not fail the charge that committed.
        transaction.on_commit(
            lambda: low_balance_email_task.delay(account_id), robust=True
        )


MAX_LOW_BALANCE_THRESHOLD = 1_000_000 * MILLI


@transaction.atomic
def account_threshold_set(*, user, threshold) -> CreditAccount:
    """Warn below ``threshold`` credits (as a person types them: "5", 2.5);
    0 turns the warning off. Refused (ValidationError on
    ``low_balance_threshold``) unless zero or more with at most 3 decimals.

    A threshold now at or below the balance ends the current dip: the next
    one warns again.
    """
    try:
        milli = to_millicredits(threshold)
    except ValidationError as error:
        raise ValidationError({"low_balance_threshold": error.messages}) from None
    if milli < 0:
        raise ValidationError(
            {"low_balance_threshold": [_("Give 0 or more credits (0 turns it off).")]}
        )
    if milli > MAX_LOW_BALANCE_THRESHOLD:
        raise ValidationError(
            {
                "low_balance_threshold": [
                    _("Give at most %(most)s credits.")
                    % {"most": f"{MAX_LOW_BALANCE_THRESHOLD // MILLI:,}"}
                ]
            }
        )
    account = _locked_account(user)
    account.low_balance_threshold = milli
    fields = ["low_balance_threshold", "updated_at"]
    if account.low_balance_warned_at is not None and account.balance >= milli:
        account.low_balance_warned_at = None
        fields.append("low_balance_warned_at")
    account.save(update_fields=fields)
    return account


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
                "%(balance)s."
            )
            % {
                "needed": f"{amount / MILLI:g}",
                "balance": f"{account.balance / MILLI:g}",
            }
            + f" {way_back()}"
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


@transaction.atomic
def credit_adjust(*, user, amount: int, reason: str, staff) -> LedgerEntry:
    """A staff grant (positive) or claw-back (negative), with the reason;
    recorded in the audit log with the entry."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why, for the user's history.")]})
    if amount == 0:
        raise ValidationError({"amount": [_("Give an amount other than zero.")]})
    key = f"adjustment:{staff.pk}:{timezone.now().isoformat()}:{user.pk}"
    if amount > 0:
        entry = credit_add(
            user=user,
            amount=amount,
            kind=EntryKind.ADJUSTMENT,
            key=key,
            description=reason,
            created_by=staff,
        )
    else:
        try:
            entry = credit_spend(
                user=user,
                amount=-amount,
                kind=EntryKind.ADJUSTMENT,
                key=key,
                description=reason,
                created_by=staff,
            )
        except InsufficientCreditsError:
            raise ValidationError(
                {
                    "amount": [
                        _("That is more than the balance; it cannot go below zero.")
                    ]
                }
            ) from None
    _audit_credits(entry, user=user, staff=staff, amount=amount, reason=reason)
    return entry


def _audit_credits(entry: LedgerEntry, *, user, staff, amount, reason, **details):
    """Record credits staff gave or took in the audit log."""
    # The audit log lives in a higher layer, imported when used.
    from community.audit import audit_record
    from community.models import AuditAction

    audit_record(
        action=AuditAction.CREDITS_ADJUSTED,
        actor=staff,
        target=user,
        details={
            "amount": amount,
            "reason": reason,
            **details,
            "ledger_entry": entry.pk,
            "balance_after": entry.balance_after,
        },
    )


@transaction.atomic
def credits_grant(
    *, users, amount: int, reason: str, staff=None, grant_id: str = ""
) -> list[LedgerEntry]:
    """Give ``amount`` milli-credits to each of ``users`` (one person, a
    group, everyone), with the reason for their history: one ledger entry
    each, keyed ``grant:<grant_id>:<user id>``, and one audit entry each.

    Idempotent per grant: the same ``grant_id`` again gives nobody twice
    (a new one is made when none is given). All or nothing.
    """
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = [_("Say why, for the history of those who get them.")]
    if amount <= 0:
        errors["amount"] = [_("Give an amount above zero.")]
    if errors:
        raise ValidationError(errors)
    grant_id = grant_id or uuid.uuid4().hex
    entries = []
    # One account locked at a time, in a fixed order.
    for user in sorted(users, key=lambda user: user.pk):
        entry = credit_add(
            user=user,
            amount=amount,
            kind=EntryKind.GRANT,
            key=f"grant:{grant_id}:{user.pk}",
            description=reason,
            created_by=staff,
        )
        _audit_credits(
            entry,
            user=user,
            staff=staff,
            amount=amount,
            reason=reason,
            grant=grant_id,
        )
        entries.append(entry)
    return entries


def promo_code_normalize(code) -> str:
    """Codes are matched without regard to case or surrounding spaces."""
    return str(code or "").strip().upper()


@transaction.atomic
def promo_code_save(*, promo: PromoCode, staff=None) -> PromoCode:
    """Create or change a promo code (staff, in the admin), checked whole."""
    promo.code = promo_code_normalize(promo.code)
    if promo.pk is None and promo.created_by_id is None:
        promo.created_by = staff
    promo.full_clean()
    promo.save()
    return promo


@transaction.atomic
def promo_redeem(*, user, code) -> LedgerEntry:
    """Redeem ``code`` for ``user``: its credits as a ledger entry (kind
    ``promo``), once per person, while it has not expired nor been redeemed
    its most times. Refused with a ValidationError on ``code`` saying which.

    The code's row is locked while it is counted, so its most redemptions
    hold however many people redeem at once; the database allows one
    redemption per person.
    """
    normalized = promo_code_normalize(code)
    if not normalized:
        raise ValidationError({"code": [_("Type the code you were given.")]})
    promo = PromoCode.objects.select_for_update().filter(code=normalized).first()
    if promo is None:
        raise ValidationError(
            {
                "code": [
                    _("There is no code %(code)s: check its spelling.")
                    % {"code": normalized}
                ]
            }
        )
    if promo.expires_at is not None and promo.expires_at <= timezone.now():
        raise ValidationError({"code": [_("This code has expired.")]})
    if PromoRedemption.objects.filter(promo=promo, user=user).exists():
        raise ValidationError({"code": [_("You have already redeemed this code.")]})
    if promo.max_redemptions is not None and promo.redeemed >= promo.max_redemptions:
        raise ValidationError({"code": [_("This code has been used up.")]})
    entry = credit_add(
        user=user,
        amount=promo.amount,
        kind=EntryKind.PROMO,
        key=f"promo:{promo.pk}:{user.pk}",
        description=promo.description or _("Code %(code)s") % {"code": promo.code},
    )
    PromoRedemption.objects.create(promo=promo, user=user, entry=entry)
    PromoCode.objects.filter(pk=promo.pk).update(redeemed=F("redeemed") + 1)
    return entry


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


# A run holds this many times its estimate when it starts (at least
# RUN_HOLD_FLOOR, at most its budget), and more as it spends: one balance
# carries several runs at once, and each can still spend its whole budget.
RUN_HOLD_MULTIPLE = 2
RUN_HOLD_FLOOR = 1 * MILLI


# No savepoint of its own (two statements on every run start): a refusal
# rolls back the whole transaction it runs in, where the run it is for was
# just created and must go too.
@transaction.atomic(savepoint=False)
def run_reserve(
    *, run, user, cap: int | None = None, minimum: int = 1
) -> RunBudget | None:
    """Give the run its budget, the lower of ``cap`` (else the site's default
    per-run budget) and what is available, and hold part of it:
    RUN_HOLD_MULTIPLE times ``minimum`` (the run's estimate), at least
    RUN_HOLD_FLOOR. The hold grows as the run spends (run_charge).

    Refused (InsufficientCreditsError) when less than ``minimum`` is
    available, so runs started at once against a balance that covers one
    cannot all start; the refusal rolls back the transaction it was called in
    (the caller's run with it). None, holding nothing, when credits are off.
    """
    if not credits_enabled():
        return None
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
                "%(available)s are available."
            )
            message = f"{message} {way_back()}"
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
    hold = min(amount, max(RUN_HOLD_MULTIPLE * needed, RUN_HOLD_FLOOR))
    CreditAccount.objects.filter(pk=account.pk).update(held=F("held") + hold)
    return RunBudget.objects.create(
        run=run, account=account, reserved=amount, held=hold
    )


@transaction.atomic
def run_reserve_again(*, run, user, amount: int, minimum: int = 1) -> RunBudget | None:
    """Give a run resuming after a pause (which released its hold) ``amount``
    more to spend: its budget becomes what it spent plus ``amount`` (less if
    less is available), and it holds part of it again, as run_reserve.
    Refused like run_reserve; None when credits are off."""
    if not credits_enabled():
        return None
    budget = RunBudget.objects.filter(run=run).first()
    if budget is None:
        return run_reserve(run=run, user=user, cap=amount, minimum=minimum)
    account = _locked_account(user)
    budget = RunBudget.objects.select_for_update().get(pk=budget.pk)
    # What it still holds (when not paused) is given back first.
    unused = 0 if budget.released_at else budget.held
    available = account.available + unused
    take = min(amount, available)
    needed = max(minimum, 1)
    if take < needed:
        raise InsufficientCreditsError(
            _(
                "Not enough credits to go on: it needs about %(needed)s and "
                "%(available)s are available."
            )
            % {
                "needed": f"{needed / MILLI:g}",
                "available": f"{available / MILLI:g}",
            }
            + f" {way_back()}"
        )
    hold = min(take, max(RUN_HOLD_MULTIPLE * needed, RUN_HOLD_FLOOR))
    CreditAccount.objects.filter(pk=account.pk).update(
        held=Greatest(F("held") - unused, 0) + hold
    )
    RunBudget.objects.filter(pk=budget.pk).update(
        reserved=budget.charged + take, held=hold, released_at=None
    )
    budget.refresh_from_db()
    return budget


def _locked_budget(run) -> tuple[CreditAccount, RunBudget] | tuple[None, None]:
    # The account first, as everywhere, then the budget; the account found
    # through the budget in the same statement (one round trip fewer on every
    # priced step).
    account = (
        CreditAccount.objects.select_for_update()
        .filter(pk=Subquery(RunBudget.objects.filter(run=run).values("account_id")[:1]))
        .first()
    )
    if account is None:
        return None, None
    return account, RunBudget.objects.select_for_update().get(run=run)


# No savepoint of its own (two statements on every priced step): it refuses
# nothing, and an error in it fails the step it charges, in the same
# transaction.
@transaction.atomic(savepoint=False)
def run_charge(
    *, run, amount: int, key: str, description: str = ""
) -> tuple[int, bool]:
    """Charge ``amount`` to the run from what it holds, holding more first
    when that is short: from what is available, up to its budget.

    Returns what was charged and whether it ran out (less than ``amount``
    could be charged: its budget is spent or nothing more is available; the
    caller stops the run). Idempotent on ``key``.
    """
    account, budget = _locked_budget(run)
    if budget is None:
        return 0, False  # a run from before metering, or with credits off
    existing = _existing(key, account=account, kind=EntryKind.RUN_CHARGE)
    if existing is not None:
        return -existing.amount, False
    if budget.released_at is not None:
        return 0, amount > 0
    short = amount - budget.held
    more = 0
    if short > 0:
        # ``available`` counts this run's hold as taken already.
        more = max(
            min(
                short,
                budget.reserved - budget.charged - budget.held,
                account.available,
            ),
            0,
        )
        account.held += more
        budget.held += more
    # The balance can be below the hold if credits expired meanwhile.
    take = min(amount, budget.held, account.balance)
    if take > 0:
        _take_from_lots(account, take)
        # The hold grows by what more was held and shrinks by what was
        # taken, in the balance's UPDATE.
        _post(
            account,
            kind=EntryKind.RUN_CHARGE,
            amount=-take,
            key=key,
            account_changes={"held": Greatest(F("held") + more - take, 0)},
            description=description[:300],
            run=run,
        )
    elif more > 0:
        CreditAccount.objects.filter(pk=account.pk).update(held=F("held") + more)
    if take > 0 or short > 0:
        RunBudget.objects.filter(pk=budget.pk).update(
            charged=F("charged") + take, held=budget.held - take
        )
    return take, take < amount


@transaction.atomic
def run_release(*, run) -> int:
    """Give back what the run holds; returns that amount."""
    account, budget = _locked_budget(run)
    if budget is None or budget.released_at is not None:
        return 0
    unused = budget.held
    CreditAccount.objects.filter(pk=account.pk).update(
        held=Greatest(F("held") - unused, 0)
    )
    RunBudget.objects.filter(pk=budget.pk).update(held=0, released_at=timezone.now())
    return unused


@transaction.atomic
def purchase_fulfil(*, purchase_id: int, payment_intent_id: str = "") -> Purchase:
    """Credit a paid pack, once: the ledger key is the Checkout Session, so
    ``checkout.session.completed`` and ``async_payment_succeeded``, each
    delivered any number of times, add its credits exactly once. Credits
    already refunded (a refund announced first) are not added."""
    purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
    if payment_intent_id and not purchase.payment_intent_id:
        purchase.payment_intent_id = payment_intent_id
    if purchase.paid_at is not None:
        purchase.save(update_fields=["payment_intent_id"])
        return purchase
    net = purchase.credits - purchase.credits_refunded
    if net > 0:
        purchase.entry = credit_add(
            user=purchase.user,
            amount=net,
            kind=EntryKind.PURCHASE,
            key=f"purchase:{purchase.checkout_session_id}",
            description=_("%(credits)s-credit pack")
            % {"credits": f"{purchase.credits / MILLI:g}"},
        )
    purchase.paid_at = timezone.now()
    if purchase.status == PurchaseStatus.PENDING:
        purchase.status = PurchaseStatus.PAID
    purchase.save()
    return purchase


@transaction.atomic
def purchase_refund(
    *, purchase_id: int, amount_refunded_cents: int, amount_cents: int
) -> LedgerEntry | None:
    """Apply a refund of a pack: ``amount_refunded_cents`` is Stripe's running
    total for the charge, so the same refund announced again changes nothing
    and a second partial refund takes only its own share.

    The credits the refunded money stands for are taken back from what is
    left of that purchase; credits already spent on runs stay spent.
    """
    purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
    if amount_cents <= 0 or amount_refunded_cents <= purchase.amount_refunded_cents:
        return None
    refunded = min(amount_refunded_cents, amount_cents)
    due = purchase.credits * refunded // amount_cents
    newly = due - purchase.credits_refunded
    purchase.amount_refunded_cents = refunded
    purchase.credits_refunded = due
    purchase.status = (
        PurchaseStatus.REFUNDED
        if refunded >= amount_cents
        else PurchaseStatus.PARTIALLY_REFUNDED
    )
    purchase.save()
    if purchase.entry_id is None or newly <= 0:
        return None  # not credited yet: purchase_fulfil adds only the rest
    if purchase.user_id is None:
        return None  # a closed account: what was left was forfeited at closing
    account = _locked_account(purchase.user)
    lot = CreditLot.objects.select_for_update().get(entry_id=purchase.entry_id)
    take = min(newly, lot.remaining, account.balance)
    if take <= 0:
        return None
    CreditLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
    return _post(
        account,
        kind=EntryKind.REFUND,
        amount=-take,
        key=f"refund:{purchase.checkout_session_id}:{refunded}",
        description=_("Refund of a %(credits)s-credit pack: unspent credits removed")
        % {"credits": f"{purchase.credits / MILLI:g}"},
    )


# Checkout Sessions expire after a day: until then a pending purchase may
# still be paid, and its credits would have no account to go to.
OPEN_CHECKOUT_WINDOW = timedelta(hours=24)


def account_close_problems(*, user) -> list[str]:
    """Why ``user``'s credits cannot be closed now (empty: they can)."""
    problems = []
    account = CreditAccount.objects.filter(user=user).first()
    if account is not None and account.held > 0:
        problems.append(
            _("Runs of yours are holding credits: wait for them to finish.")
        )
    if Purchase.objects.filter(
        user=user,
        status=PurchaseStatus.PENDING,
        created_at__gte=timezone.now() - OPEN_CHECKOUT_WINDOW,
    ).exists():
        problems.append(
            _(
                "A credit purchase you started is still open: finish or abandon "
                "it and try again tomorrow."
            )
        )
    return problems


@transaction.atomic
def account_close(*, user) -> CreditAccount | None:
    """Close ``user``'s credits as their account is deleted.

    The ledger is money history and stays: what is left of the balance is
    forfeited by one closing entry (so the entries still sum to the cached
    balance, now 0), and the account and the purchases are detached from
    the person. The rows keep their ids, idempotency keys and amounts but
    name nobody. Callers check ``account_close_problems`` first.
    """
    account = CreditAccount.objects.select_for_update().filter(user=user).first()
    if account is not None:
        if account.held:
            raise ValidationError(
                _("Runs of yours are holding credits: wait for them to finish.")
            )
        # No low-balance email for an account that is going away.
        account.low_balance_threshold = 0
        account.low_balance_warned_at = None
        account.save(update_fields=["low_balance_threshold", "low_balance_warned_at"])
        if account.balance > 0:
            CreditLot.objects.filter(account=account, remaining__gt=0).update(
                remaining=0
            )
            _post(
                account,
                kind=EntryKind.CLOSURE,
                amount=-account.balance,
                key=f"closure:{account.pk}",
                description=_("Account deleted: unused credits forfeited"),
            )
        account.user = None
        account.closed_at = timezone.now()
        account.save(update_fields=["user", "closed_at", "updated_at"])
    Purchase.objects.filter(user=user).update(user=None)
    return account
