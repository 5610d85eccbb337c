"""allauth hooks."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django import forms
from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from config import throttles


class NoPhoneField(forms.CharField):
    """Refuses every phone number: they are not used on this site."""

    def validate(self, value):
        super().validate(value)
        raise forms.ValidationError(
            _("Phone numbers are not used on this site."), code="no_phones"
        )


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_blacklisted": _(
            "That username is reserved for the site: choose another."
        ),
    }

    def pre_authenticate(self, request, **credentials) -> None:
        # allauth's refusal after too many failed sign-ins says only "try
        # again later": say when, from its counters for this login.
        try:
            super().pre_authenticate(request, **credentials)
        except forms.ValidationError as error:
            if error.code != "too_many_login_attempts":
                raise
            seconds = throttles.allauth_wait(
                request,
                action="login_failed",
                key=self._get_login_attempts_cache_key(request, **credentials),
            )
            message = _("Too many failed sign-in attempts.")
            raise forms.ValidationError(
                f"{message} {throttles.try_again(seconds)}", code=error.code
            ) from None

    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP

    # Phone numbers are not a way to sign in here, but allauth's headless API
    # always serves /account/phone; its defaults raise NotImplementedError
    # (a 500) when asked for one. Nobody has a phone number, and none can be
    # added.
    def get_phone(self, user):
        return None

    def phone_form_field(self, **kwargs):
        return NoPhoneField(**kwargs)

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            # Every new account starts with free credits (billing).
            from billing.services import credits_grant_signup

            credits_grant_signup(user=user)
        return user


class SocialAppMissingError(SocialApp.DoesNotExist, Http404):
    """No keys are set for the provider. Still a SocialApp.DoesNotExist, which
    allauth catches where it expects one (the headless API's input checks), and
    a 404 wherever it does not (the provider's login and callback pages)."""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_app(self, request, provider, client_id=None):
        # The provider apps are always installed, so their URLs exist even
        # when their keys are not set (SOCIALACCOUNT_PROVIDERS is then empty).
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise SocialAppMissingError from None
