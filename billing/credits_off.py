"""With ``CREDITS_MODE=off`` the pages and endpoints about credits do not
exist: they answer 404, the API's with a JSON reason."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound

from billing.selectors import credits_enabled


def reason() -> str:
    return _("Credits are off on this site: runs cost nothing.")


class CreditsOnMixin:
    """For a DRF view about credits: 404 when credits are off, before
    anything else is checked."""

    def initial(self, request, *args, **kwargs):
        if not credits_enabled():
            raise NotFound(reason())
        super().initial(request, *args, **kwargs)


def credits_on(view):
    """For a page about credits: 404 when credits are off."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not credits_enabled():
            raise Http404(reason())
        return view(request, *args, **kwargs)

    return wrapper
