"""Which models a server the operator runs offers: Ollama (``GET /api/tags``)
or any OpenAI-compatible server (``GET <base>/models``).

Asked while pages load, so a probe is short (``timeout`` per request, the
response capped at MAX_LISTING_BYTES) and says nothing when the server is not
there or answers something else: the answer is then simply no models. The
operator's URL is trusted as configured (localhost included); a redirect
elsewhere is checked like any outbound request (config/outbound.py).
"""

from __future__ import annotations

import json
from typing import Any

from config import outbound

# A long list of models is a few kilobytes; anything much larger is not one.
MAX_LISTING_BYTES = 256_000
# More than any server offers; the builder's picker stays usable.
MAX_MODELS = 200
MAX_NAME_CHARS = 100


def ollama_models(base_url: str, *, timeout: float) -> list[str]:
    """The names of the models an Ollama server at ``base_url`` has pulled."""
    data = _get_json(f"{base_url.rstrip('/')}/api/tags", {}, base_url, timeout)
    return _names(data, "models", "name")


def compatible_models(base_url: str, *, api_key: str, timeout: float) -> list[str]:
    """The ids an OpenAI-compatible server at ``base_url`` (…/v1) lists."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    data = _get_json(f"{base_url.rstrip('/')}/models", headers, base_url, timeout)
    return _names(data, "data", "id")


def _get_json(url: str, headers: dict, base_url: str, timeout: float) -> Any:
    try:
        response = outbound.request(
            "GET",
            url,
            headers=headers,
            trusted_urls=[base_url],
            timeout=timeout,
            max_bytes=MAX_LISTING_BYTES,
        )
    except (outbound.OutboundRefusedError, outbound.OutboundFailedError):
        return None
    if response.status != 200:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _names(data: Any, key: str, field: str) -> list[str]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    names = {
        item[field].strip()
        for item in items
        if isinstance(item, dict) and isinstance(item.get(field), str)
    }
    # A name becomes part of an identifier (`ollama/<name>`) and of a page.
    return sorted(
        name
        for name in names
        if name and len(name) <= MAX_NAME_CHARS and name.isprintable()
    )[:MAX_MODELS]
