"""Rendered fragments kept between requests (CACHES["fragments"]).

A fragment's key names exactly what it shows: the language and time zone it
was rendered in and every value it displays (or a fingerprint of them), so a
change to any of them is a new key rather than an invalidation to remember.
An entry is never stale, only unused until it expires, which is why each
process may keep its own copy when there is no Redis.

Only what looks the same to every viewer belongs here: a signed-in person's
forms, marks and CSRF token are rendered for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.core.cache import caches
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

# Bump when a cached fragment's template changes: a shared cache (Redis)
# would otherwise serve the old markup until the entries expire.
VERSION = 1


def fragment_cache():
    return caches["fragments"]


def fragment_key(kind: str, *parts) -> str:
    digest = hashlib.blake2b(
        repr(
            (VERSION, get_language(), timezone.get_current_timezone_name(), parts)
        ).encode(),
        digest_size=16,
    ).hexdigest()
    return f"{kind}:{digest}"


def fragment(key: str, render: Callable[[], str]) -> SafeString:
    """The fragment kept under ``key``, or ``render()``'s output, kept."""
    cache = fragment_cache()
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, html)
    return mark_safe(html)  # noqa: S308 (our own templates' output)
