"""Notification emails. Sent by a Celery task (community.tasks) after the
notification has committed."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from community.models import Notification, Profile


def notification_email_send(*, notification_id: int) -> bool:
    """Email a notification to its recipient; returns whether one went out.

    The row is read again: nothing is sent when it is gone, already read (seen
    on the site in the meantime), the recipient has turned email for its kind
    off since, or has no email address or no active account.
    """
    notification = (
        Notification.objects.select_related("recipient")
        .filter(pk=notification_id, read_at__isnull=True)
        .first()
    )
    if notification is None:
        return False
    recipient = notification.recipient
    if not recipient.is_active or not recipient.email:
        return False
    preferences = (
        Profile.objects.filter(user=recipient)
        .values_list("email_preferences", flat=True)
        .first()
    )
    if not Profile(email_preferences=preferences or {}).wants_email(notification.kind):
        return False
    site = settings.SITE_URL.rstrip("/")
    link = site + (notification.url or reverse("community:notifications"))
    subject = _("Agentry: %(text)s") % {"text": notification.text[:120]}
    body = _(
        "Hello %(name)s,\n\n"
        "%(text)s\n\n"
        "%(link)s\n\n"
        "You get this email because of your notification settings. Choose which "
        "notifications reach you by email here:\n%(settings)s\n"
    ) % {
        "name": recipient.get_username(),
        "text": notification.text,
        "link": link,
        "settings": site + reverse("community:profile_settings"),
    }
    send_mail(subject, body, None, [recipient.email])
    return True
