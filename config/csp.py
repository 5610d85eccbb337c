"""The Content-Security-Policy middleware. The policy itself is in
config/settings/components/csp.py."""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with this host's websocket origins in connect-src.

    CSP Level 3 lets 'self' match ws: and wss: on the page's own host, but older
    browsers (Safari before 15.4 among them) do not, and the live run pages and
    notifications would lose their websocket there. The origin is taken from
    the request because one deployment may answer on several hosts; both
    schemes are named because behind a TLS-terminating proxy that is not
    trusted for X-Forwarded-Proto the request looks like plain HTTP while the
    browser connects with wss:.
    """

    def get_policy_parts(
        self, request, response, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:
            # The response is the 400 for this very host: name nothing.
            return parts
        update = dict(parts.update or {})
        # A view's csp_update may give one source as a string.
        added = update.get("connect-src") or []
        if isinstance(added, str):
            added = [added]
        update["connect-src"] = [*added, f"ws://{host}", f"wss://{host}"]
        parts.update = update
        return parts
