"""A user's own provider keys: saved encrypted, shown masked, tested on demand."""

from __future__ import annotations

import openai
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Provider, ProviderKey
from config import crypto

MAX_KEY_CHARS = 500
TEST_TIMEOUT = 10.0


@transaction.atomic
def provider_key_save(*, owner, provider: str, key) -> ProviderKey:
    """Save (or replace) ``owner``'s key for ``provider``; only a token is stored."""
    errors = {}
    if provider not in Provider.values:
        errors["provider"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(Provider.values)}
        ]
    key = key.strip() if isinstance(key, str) else ""
    if not key:
        errors["key"] = [_("Paste the API key.")]
    elif len(key) > MAX_KEY_CHARS or any(c.isspace() for c in key):
        errors["key"] = [
            _("That does not look like an API key (no spaces, at most 500 characters).")
        ]
    if errors:
        raise ValidationError(errors)
    provider_key, _created = ProviderKey.objects.update_or_create(
        owner=owner,
        provider=provider,
        defaults={
            "encrypted_key": crypto.encrypt(key),
            "masked": crypto.mask(key),
            "tested_at": None,
            "test_ok": None,
            "test_message": "",
        },
    )
    return provider_key


@transaction.atomic
def provider_key_delete(*, provider_key: ProviderKey) -> None:
    provider_key.delete()


def _client(key: str) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=key,
        base_url=settings.OPENAI_BASE_URL or None,
        max_retries=0,
        timeout=TEST_TIMEOUT,
    )


def provider_key_test(*, provider_key: ProviderKey) -> ProviderKey:
    """Make one cheap call with the key (list the models) and record the answer."""
    try:
        key = crypto.decrypt(provider_key.encrypted_key)
        count = sum(1 for _model in _client(key).models.list())
        ok, message = True, _("The key works: %(n)d models available.") % {"n": count}
    except crypto.DecryptionError as error:
        ok, message = False, str(error)
    except openai.AuthenticationError:
        ok, message = False, _("The provider rejected this key (401).")
    except openai.PermissionDeniedError:
        ok, message = False, _("The key may not list models (403).")
    except openai.APIStatusError as error:
        ok, message = (
            False,
            _("The provider answered %(status)d: %(detail)s")
            % {
                "status": error.status_code,
                "detail": str(error.message)[:200],
            },
        )
    except openai.APIConnectionError as error:
        ok, message = (
            False,
            _("Could not reach the provider: %(error)s") % {"error": str(error)[:200]},
        )
    ProviderKey.objects.filter(pk=provider_key.pk).update(
        tested_at=timezone.now(), test_ok=ok, test_message=message[:300]
    )
    provider_key.refresh_from_db()
    return provider_key
