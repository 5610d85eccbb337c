"""Rate limits on actions that cost something or can flood others (starting
runs, uploading files, commenting, messaging), per API key when the request
uses one, else per person.

Checked in the services, so the API, the pages and every other way in share
one limit. DRF's SimpleRateThrottle keeps each principal's recent actions in
the cache (the database cache by default, Redis with REDIS_URL). A refusal is
DRF's ``Throttled``: the API answers 429 with ``Retry-After``, and
``RateLimitMiddleware`` does the same for pages.
"""

from __future__ import annotations

import math
from contextvars import ContextVar

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import Throttled
from rest_framework.throttling import SimpleRateThrottle

# The API key the current request authenticated with (community.authentication).
_api_key: ContextVar[int | None] = ContextVar("agentry_api_key", default=None)

ACTIONS = {
    "run_start": lambda: _("runs started"),
    "upload": lambda: _("files uploaded"),
    "comment": lambda: _("comments posted"),
    "message": lambda: _("messages sent"),
}


class RateLimitedError(Throttled):
    def __init__(self, action: str, rate: str, wait: float | None) -> None:
        what = ACTIONS[action]()
        seconds = max(1, math.ceil(wait or 1))
        super().__init__(
            wait=seconds,
            detail=_("Too many %(what)s: at most %(rate)s. Try again in %(seconds)d s.")
            % {"what": what, "rate": rate, "seconds": seconds},
        )


def use_api_key(key_id: int | None) -> None:
    """The request authenticated with this API key: limits count per key."""
    _api_key.set(key_id)


class _ActionThrottle(SimpleRateThrottle):
    def __init__(self, action: str, ident: str, rate: str) -> None:
        self.scope, self.ident, self.rate = action, ident, rate
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def check(*, user, action: str) -> None:
    """Count one ``action`` by ``user`` (or the API key in use), or raise
    RateLimitedError when the configured rate (RATE_LIMITS) is used up."""
    rate = settings.RATE_LIMITS.get(action)
    if not rate:
        return
    key_id = _api_key.get()
    ident = f"key-{key_id}" if key_id else f"user-{user.pk}"
    throttle = _ActionThrottle(action, ident, rate)
    if not throttle.allow_request(None, None):
        raise RateLimitedError(action, rate, throttle.wait())


class RateLimitMiddleware:
    """Starts each request with no API key counted, and turns a rate limit
    met in a page into 429 with Retry-After (the API's own handler does that
    for API views)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = _api_key.set(None)
        try:
            return self.get_response(request)
        finally:
            _api_key.reset(token)

    def process_exception(self, request, exception):
        if not isinstance(exception, RateLimitedError):
            return None
        retry = str(exception.wait or 1)
        if getattr(request, "htmx", False):
            # htmx does not swap a 429: show the message on a fresh page.
            messages.error(request, exception.detail)
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
        else:
            response = render(
                request, "429.html", {"message": exception.detail}, status=429
            )
        response["Retry-After"] = retry
        return response
