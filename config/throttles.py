"""Rate limits on actions that cost something or can flood others (starting
runs, uploading files, commenting, messaging), per API key when the request
uses one, else per person.

Checked in the services, so the API, the pages and every other way in share
one limit. DRF's SimpleRateThrottle keeps each principal's recent actions in
the cache (the database cache by default, Redis with REDIS_URL). A refusal is
DRF's ``Throttled``: the API answers 429 with ``Retry-After``, and
``RateLimitMiddleware`` does the same for pages.

allauth limits signing up and signing in itself (ACCOUNT_RATE_LIMITS) and
hands its 429 to ``config.views.too_many_requests``; ``allauth_wait`` reads
from allauth's counters how long that refusal lasts. Every 429 page says how
long to wait, in words, and sends the same wait in ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar

from allauth.core.internal import ratelimit as allauth_ratelimit
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
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


def wait_in_words(seconds: int) -> str:
    """A wait for people to read ("40 seconds", "3 minutes", "2 hours"),
    rounded up, so that trying again when it says is never too early."""
    if seconds < 100:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {
            "count": seconds
        }
    minutes = math.ceil(seconds / 60)
    if minutes <= 100:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {
            "count": minutes
        }
    hours = math.ceil(seconds / 3600)
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def try_again(seconds: int) -> str:
    return _("Try again in %(wait)s.") % {"wait": wait_in_words(seconds)}


def rate_limited_page(request, *, reason: str, seconds: int) -> HttpResponse:
    """The 429 page: what was limited, how long to wait, and Retry-After."""
    response = render(
        request,
        "429.html",
        {"reason": reason, "wait": wait_in_words(seconds)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class RateLimitedError(Throttled):
    def __init__(self, action: str, rate: str, wait: float | None) -> None:
        what = ACTIONS[action]()
        seconds = max(1, math.ceil(wait or 1))
        self.reason = _("Too many %(what)s: at most %(rate)s.") % {
            "what": what,
            "rate": rate,
        }
        # The wait is in the detail in words already: DRF would add "Expected
        # available in N seconds." given ``wait``, so it is set afterwards
        # (Retry-After is read from it).
        super().__init__(detail=f"{self.reason} {try_again(seconds)}")
        self.wait = seconds


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
            response = self.get_response(request)
        finally:
            _api_key.reset(token)
        if response.status_code == 429 and "Retry-After" not in response:
            # allauth's headless API answers its own 429 (no page, no
            # handler429): programs get the wait in Retry-After all the same.
            resolved = request.resolver_match
            action = HEADLESS_ACTIONS.get(resolved.url_name if resolved else "")
            if action:
                response["Retry-After"] = str(allauth_wait(request, action=action))
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, RateLimitedError):
            return None
        if not getattr(request, "htmx", False):
            return rate_limited_page(
                request, reason=exception.reason, seconds=exception.wait
            )
        # htmx does not swap a 429: show the message on a fresh page.
        messages.error(request, exception.detail)
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        response["Retry-After"] = str(exception.wait)
        return response


# The action each of allauth's rate-limited pages counts (allauth.account's
# views), by URL name: allauth's 429 handler is told only the request.
ALLAUTH_PAGE_ACTIONS = {
    "account_login": "login",
    "account_signup": "signup",
    "account_reset_password": "reset_password",
    "account_reset_password_from_key": "reset_password_from_key",
    "account_change_password": "change_password",
    "account_set_password": "change_password",
    "account_email": "manage_email",
    "account_reauthenticate": "reauthenticate",
}
# The same for allauth's headless API (/_allauth/browser|app/v1/...).
HEADLESS_ACTIONS = {
    "login": "login",
    "signup": "signup",
    "request_password_reset": "reset_password",
    "reset_password": "reset_password_from_key",
    "change_password": "change_password",
    "manage_email": "manage_email",
    "reauthenticate": "reauthenticate",
}


def allauth_wait(request, *, action: str = "", key: str | None = None) -> int:
    """Seconds until allauth's limits on ``action`` (by default, the one this
    request's page counts) let the request through again.

    allauth keeps, per rate, the times of the attempts it counted, newest
    first; a used-up rate frees a place when the oldest attempt that fills it
    leaves the window. A rate it cannot be read for here (per key, with no
    key) counts as its whole window, which is never too short. Reads
    allauth's internals (``allauth.core.internal.ratelimit``), which the
    tests of 429 pages pin down.
    """
    resolved = request.resolver_match
    action = action or ALLAUTH_PAGE_ACTIONS.get(resolved.url_name if resolved else "")
    if not action:
        return 1
    now = time.time()
    counted: list[float] = []
    unreadable: list[float] = []
    for rate in allauth_ratelimit.get_rates(app="allauth.account", action=action):
        if (rate.per == "key" and key is None) or (
            rate.per == "user" and not request.user.is_authenticated
        ):
            unreadable.append(rate.duration)
            continue
        cache_key = allauth_ratelimit.get_cache_key(
            request, app="allauth.account", action=action, rate=rate, key=key
        )
        history = [
            moment
            for moment in cache.get(cache_key, [])
            if moment > now - rate.duration
        ]
        if len(history) >= rate.amount:
            counted.append(history[rate.amount - 1] + rate.duration - now)
    # A refusal with no used-up rate in sight came from one that could not be
    # read, or from allauth failing to lock its counter (try again soon).
    return max(1, math.ceil(max(counted or unreadable or [1])))
