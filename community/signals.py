"""Receivers that turn Django's sign-in signals into audit log entries.

An interface like a view: it parses the signal and calls the one service
(community.audit.audit_record). Django sends these for every way in: the
allauth pages and the headless API (the admin sends staff to allauth's page).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from community.audit import audit_record
from community.models import AuditAction

# What a sign-in form calls the person's name (allauth: username or email;
# Django's own forms: username). Never the password, which Django has
# already replaced with stars in ``credentials``.
IDENTIFIER_FIELDS = ("username", "email", "login")


@receiver(user_logged_in, dispatch_uid="community_audit_signed_in")
def _signed_in(sender, request=None, user=None, **kwargs) -> None:
    if user is None:
        return
    backend = getattr(user, "backend", "") or ""
    audit_record(
        action=AuditAction.SIGNED_IN,
        actor=user,
        target=user,
        details={"backend": backend.rsplit(".", 1)[-1]},
    )


@receiver(user_login_failed, dispatch_uid="community_audit_sign_in_failed")
def _sign_in_failed(sender, credentials=None, request=None, **kwargs) -> None:
    credentials = credentials or {}
    tried = next(
        (
            str(credentials[field])
            for field in IDENTIFIER_FIELDS
            if credentials.get(field)
        ),
        "",
    )
    audit_record(
        action=AuditAction.SIGN_IN_FAILED,
        actor=None,
        target=("login", "", tried[:150]),
    )
