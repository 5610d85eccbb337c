"""allauth hooks."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_blacklisted": _(
            "That username is reserved for the site: choose another."
        ),
    }

    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            # Every new account starts with free credits (billing).
            from billing.services import credits_grant_signup

            credits_grant_signup(user=user)
        return user
