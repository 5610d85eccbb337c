"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets accept the browser's session cookie, a personal API key
(`Authorization: Bearer <key>`) or an allauth session token (`X-Session-Token`).
A browser's Origin must be one of ALLOWED_HOSTS (community/websocket.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from community.middleware import TokenAuthMiddlewareStack  # noqa: E402
from community.websocket import BrowserOriginValidatorStack  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": BrowserOriginValidatorStack(
            TokenAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
