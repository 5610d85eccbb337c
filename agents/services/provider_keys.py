"""A user's own provider keys: saved encrypted, shown masked, tested on demand."""

from __future__ import annotations

import json
import re

import openai
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Provider, ProviderKey
from community.audit import audit_record
from community.models import AuditAction
from config import crypto, outbound

MAX_KEY_CHARS = 500
TEST_TIMEOUT = 10.0
MAX_DEPLOYMENTS = 50
# What Azure allows in a deployment name (letters, digits, - _ .), 64 at most.
AZURE_DEPLOYMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


ANTHROPIC_DEFAULT_URL = "https://api.anthropic.com"
GEMINI_DEFAULT_URL = "https://generativelanguage.googleapis.com/v1beta"


def _clean_base_url(value, errors: dict, *, example: str) -> str:
    """An endpoint's URL, refused unless it leads to a public address (or a
    network the site allows, OUTBOUND_ALLOWED_NETWORKS)."""
    url = value.strip().rstrip("/") if isinstance(value, str) else ""
    if not url:
        errors["base_url"] = [
            _("Give the endpoint's base URL, e.g. %(example)s.") % {"example": example}
        ]
        return ""
    if len(url) > 500:
        errors["base_url"] = [_("Keep the URL to 500 characters or fewer.")]
        return ""
    try:
        _scheme, host, port = outbound.check_url(url)
        outbound.resolve(host, port)
    except outbound.OutboundRefusedError as error:
        errors["base_url"] = [str(error)]
    except outbound.OutboundFailedError as error:
        errors["base_url"] = [str(error)]
    return url


def _clean_deployments(value, errors: dict) -> list[str]:
    """Azure OpenAI deployment names, as a list or separated by commas."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        value = []
    names = [name.strip() for name in value if isinstance(name, str)]
    names = list(dict.fromkeys(name for name in names if name))
    if not names:
        errors["deployments"] = [
            _("Name at least one deployment of your Azure OpenAI resource.")
        ]
    elif len(names) > MAX_DEPLOYMENTS:
        errors["deployments"] = [
            _("Name at most %(n)d deployments.") % {"n": MAX_DEPLOYMENTS}
        ]
    elif not all(AZURE_DEPLOYMENT.match(name) for name in names):
        errors["deployments"] = [
            _(
                "Deployment names are letters, digits, '-', '_' and '.', "
                "64 characters at most."
            )
        ]
    return names


@transaction.atomic
def provider_key_save(
    *, owner, provider: str, key, base_url="", deployments=()
) -> ProviderKey:
    """Save (or replace) ``owner``'s key for ``provider``; only a token is stored.

    An OpenAI-compatible endpoint also needs its base URL, and its key may be
    empty (local servers such as Ollama take none). Azure OpenAI needs the
    resource's endpoint (``base_url``) and the ``deployments`` to offer.
    """
    errors = {}
    if provider not in Provider.values:
        errors["provider"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(Provider.values)}
        ]
    key = key.strip() if isinstance(key, str) else ""
    key_optional = provider == Provider.COMPATIBLE
    if not key and not key_optional:
        errors["key"] = [_("Paste the API key.")]
    elif len(key) > MAX_KEY_CHARS or any(c.isspace() for c in key):
        errors["key"] = [
            _("That does not look like an API key (no spaces, at most 500 characters).")
        ]
    cleaned_url = ""
    model_names = []
    if provider == Provider.COMPATIBLE:
        cleaned_url = _clean_base_url(
            base_url, errors, example="https://api.groq.com/openai/v1"
        )
    elif provider == Provider.AZURE:
        cleaned_url = _clean_base_url(
            base_url, errors, example="https://my-resource.openai.azure.com"
        )
        model_names = _clean_deployments(deployments, errors)
    elif base_url:
        errors["base_url"] = [
            _("Only an OpenAI-compatible endpoint or Azure OpenAI takes a base URL.")
        ]
    if deployments and provider != Provider.AZURE:
        errors["deployments"] = [_("Only Azure OpenAI takes deployments.")]
    if errors:
        raise ValidationError(errors)
    provider_key, created = ProviderKey.objects.update_or_create(
        owner=owner,
        provider=provider,
        defaults={
            "encrypted_key": crypto.encrypt(key),
            "masked": crypto.mask(key) if key else _("(no key)"),
            "base_url": cleaned_url,
            "model_names": model_names,
            "tested_at": None,
            "test_ok": None,
            "test_message": "",
        },
    )
    audit_record(
        action=AuditAction.PROVIDER_KEY_ADDED,
        actor=owner,
        target=("provider_key", provider_key.pk, provider),
        details={"provider": provider, "replaced": not created},
    )
    return provider_key


@transaction.atomic
def provider_key_delete(*, provider_key: ProviderKey, staff=None) -> None:
    """Remove a key (by its owner, or by ``staff`` in the admin)."""
    details = {"provider": provider_key.provider}
    if staff is not None:
        details["owner"] = provider_key.owner.username
    audit_record(
        action=AuditAction.PROVIDER_KEY_REMOVED,
        actor=staff or provider_key.owner,
        target=("provider_key", provider_key.pk, provider_key.provider),
        details=details,
    )
    provider_key.delete()


class _ProbeError(Exception):
    pass


def _openai_models(key: str) -> list[str]:
    client = openai.OpenAI(
        api_key=key,
        base_url=settings.OPENAI_BASE_URL or None,
        max_retries=0,
        timeout=TEST_TIMEOUT,
        # The site's base URL as configured; redirects elsewhere are checked.
        http_client=openai.DefaultHttpxClient(
            transport=outbound.transport(trusted_urls=[settings.OPENAI_BASE_URL])
        ),
    )
    try:
        with client:
            return [model.id for model in client.models.list()]
    except outbound.OutboundRefusedError as error:
        raise _ProbeError(str(error)) from None
    except openai.AuthenticationError:
        raise _ProbeError(_("The provider rejected this key (401).")) from None
    except openai.PermissionDeniedError:
        raise _ProbeError(_("The key may not list models (403).")) from None
    except openai.APIStatusError as error:
        raise _ProbeError(
            _("The provider answered %(status)d: %(detail)s")
            % {"status": error.status_code, "detail": str(error.message)[:200]}
        ) from None
    except openai.APIConnectionError as error:
        raise _ProbeError(
            _("Could not reach the provider: %(error)s") % {"error": str(error)[:200]}
        ) from None


def _get_json(url: str, headers: dict, *, trusted_url: str = "") -> dict:
    """GET ``url`` through the outbound rules; ``trusted_url`` is a base URL
    the site's operator configured (see config/outbound.py)."""
    try:
        response = outbound.request(
            "GET",
            url,
            headers=headers,
            timeout=TEST_TIMEOUT,
            trusted_urls=[trusted_url],
        )
    except outbound.OutboundRefusedError as error:
        raise _ProbeError(str(error)) from None
    except outbound.OutboundFailedError as error:
        raise _ProbeError(
            _("Could not reach the provider: %(error)s") % {"error": str(error)[:200]}
        ) from None
    status, body = response.status, response.body
    if status == 401:
        raise _ProbeError(_("The provider rejected this key (401)."))
    if status == 403:
        raise _ProbeError(_("The key may not list models (403)."))
    if status >= 400:
        raise _ProbeError(
            _("The provider answered %(status)d: %(detail)s")
            % {"status": status, "detail": body[:200].decode(errors="replace")}
        )
    try:
        return json.loads(body)
    except ValueError:
        raise _ProbeError(
            _("The provider's answer was not JSON; is the URL right?")
        ) from None


def _model_ids(data: dict, key: str, field: str) -> list[str]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise _ProbeError(_("The provider's answer did not list models."))
    return [
        str(item[field]) for item in items if isinstance(item, dict) and field in item
    ]


def _probe(provider_key: ProviderKey, key: str) -> list[str]:
    """The models the provider lists for ``key``: one cheap, free call."""
    provider = provider_key.provider
    if provider == Provider.OPENAI:
        return _openai_models(key)
    if provider == Provider.COMPATIBLE:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        data = _get_json(f"{provider_key.base_url}/models", headers)
        return _model_ids(data, "data", "id")
    if provider == Provider.AZURE:
        version = settings.AZURE_OPENAI_API_VERSION
        data = _get_json(
            f"{provider_key.base_url}/openai/models?api-version={version}",
            {"api-key": key},
        )
        return _model_ids(data, "data", "id")
    if provider == Provider.ANTHROPIC:
        base = (settings.ANTHROPIC_BASE_URL or ANTHROPIC_DEFAULT_URL).rstrip("/")
        headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
        data = _get_json(
            f"{base}/v1/models", headers, trusted_url=settings.ANTHROPIC_BASE_URL
        )
        return _model_ids(data, "data", "id")
    base = (settings.GEMINI_BASE_URL or GEMINI_DEFAULT_URL).rstrip("/")
    data = _get_json(
        f"{base}/models",
        {"x-goog-api-key": key},
        trusted_url=settings.GEMINI_BASE_URL,
    )
    return [name.removeprefix("models/") for name in _model_ids(data, "models", "name")]


def provider_key_test(*, provider_key: ProviderKey) -> ProviderKey:
    """Make one cheap call with the key (list the models) and record the answer.

    An OpenAI-compatible endpoint's models are kept: they become the models
    its owner's agents can use (``compatible/<name>``).
    """
    names = None
    try:
        names = _probe(provider_key, crypto.decrypt(provider_key.encrypted_key))
        ok = True
        message = _("The key works: %(n)d models available.") % {"n": len(names)}
    except crypto.DecryptionError as error:
        ok, message = False, str(error)
    except _ProbeError as error:
        ok, message = False, str(error)
    changes = {
        "tested_at": timezone.now(),
        "test_ok": ok,
        "test_message": message[:300],
    }
    if names is not None and provider_key.provider == Provider.COMPATIBLE:
        changes["model_names"] = sorted(set(names))[:200]
    ProviderKey.objects.filter(pk=provider_key.pk).update(**changes)
    provider_key.refresh_from_db()
    return provider_key
