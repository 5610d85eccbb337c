"""Receivers that turn sign-in, sign-out and password signals into audit log
entries and into notices to open websockets.

An interface like a view: each parses the signal and calls one service
(community.audit.audit_record, community.websocket_auth). Django and allauth
send these for every way in and out: the allauth pages and the headless API
(the admin sends staff to allauth's page to sign in; signing out of it sends
Django's signal). The admin's own password and activity edits are announced
by community.admin.UserAdmin.
"""

from __future__ import annotations

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from community.audit import audit_record
from community.models import AuditAction
from community.websocket_auth import (
    session_credential_name,
    websocket_credential_ended,
    websocket_credentials_changed,
)

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


@receiver(user_logged_out, dispatch_uid="community_sockets_signed_out")
def _signed_out(sender, request=None, user=None, **kwargs) -> None:
    # Sent before the session is flushed, so the socket is named rather than
    # asked to look: its session may still be in the database for a moment.
    # (An account deleted a moment ago has no pk: its deletion told them.)
    session_key = request.session.session_key if request is not None else None
    if user is None or user.pk is None or not session_key:
        return
    websocket_credential_ended(
        user_id=user.pk, name=session_credential_name(session_key)
    )


@receiver(password_changed, dispatch_uid="community_sockets_password_changed")
@receiver(password_set, dispatch_uid="community_sockets_password_set")
@receiver(password_reset, dispatch_uid="community_sockets_password_reset")
def _password_changed(sender, request=None, user=None, **kwargs) -> None:
    # Every session signed in with the old password is over (its auth hash no
    # longer matches); API keys are not.
    if user is not None:
        websocket_credentials_changed(user_id=user.pk)
