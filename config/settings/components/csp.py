"""Content-Security-Policy (django-csp 4), on every response.

Pages load scripts and styles only from this site (static/, the vendored
htmx, its websocket extension and Cytoscape): no inline script, no event
handler attribute, no eval, no style attribute. The same policy holds for the
Django admin and the Swagger UI at /api/docs/ (its start-up script and styles
are files too: config/urls.py). Should a view ever need more, django-csp's
csp_update decorator widens its policy alone.
config.csp.ContentSecurityPolicyMiddleware adds this host's ws:/wss: origins
to connect-src per request.

CSP_REPORT_ONLY=true sends the same policy as Content-Security-Policy-Report-Only
instead: browsers report what it would block (to CSP_REPORT_URI, if set, and in
their console) but block nothing, for trying a change of policy on a live site.
"""

from config.env import env
from config.settings.components.allauth import SOCIALACCOUNT_PROVIDERS

# A form may post here and be redirected off-site: buying credits (Stripe
# Checkout), the billing portal, and social login (allauth posts to its own
# URL, which redirects to the provider). Browsers apply form-action to those
# redirects too, so each destination is named.
_OAUTH_AUTHORIZE_ORIGINS = {
    "github": "https://github.com",
    "google": "https://accounts.google.com",
}
_FORM_ACTIONS = [
    "'self'",
    "https://checkout.stripe.com",
    "https://billing.stripe.com",
    *(
        origin
        for provider, origin in _OAUTH_AUTHORIZE_ORIGINS.items()
        if provider in SOCIALACCOUNT_PROVIDERS
    ),
]

_DIRECTIVES: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # data: for the inline SVG favicon and images the Swagger UI draws.
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": _FORM_ACTIONS,
}
_REPORT_URI = env.str("CSP_REPORT_URI", default="")
if _REPORT_URI:
    _DIRECTIVES["report-uri"] = [_REPORT_URI]

if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY = None
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _DIRECTIVES}
    CONTENT_SECURITY_POLICY_REPORT_ONLY = None
