"""Emails about credits. Sent by Celery tasks (billing.tasks), after the
change that calls for them has committed."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from billing.models import MILLI, CreditAccount
from billing.selectors import way_back


def _credits(milli: int) -> str:
    return f"{milli / MILLI:g}"


def low_balance_email_send(*, account_id: int) -> bool:
    """Tell the account's owner their balance fell below their threshold.

    Returns whether an email went out. Nothing is sent when the dip is over by
    now (credits came in, or the threshold changed), the account is gone, or
    its owner has no email address.
    """
    account = (
        CreditAccount.objects.select_related("user")
        .filter(pk=account_id, low_balance_warned_at__isnull=False)
        .first()
    )
    if account is None or account.balance >= account.low_balance_threshold:
        return False
    if not account.user.email:
        return False
    link = settings.SITE_URL.rstrip("/") + reverse("billing:credits")
    subject = _("Your Agentry credits are running low")
    body = _(
        "Hello %(name)s,\n\n"
        "Your balance is %(balance)s credits, below the %(threshold)s you asked "
        "to be warned at. Runs stop when their credits run out.\n\n"
        "%(way_back)s You can change when you are warned there too:\n"
        "%(link)s\n\n"
        "You will not hear about this again until your balance is back above "
        "%(threshold)s credits and falls below it once more.\n"
    ) % {
        "name": account.user.get_username(),
        "balance": _credits(account.balance),
        "threshold": _credits(account.low_balance_threshold),
        "link": link,
        "way_back": way_back(),
    }
    send_mail(subject, body, None, [account.user.email])
    return True
