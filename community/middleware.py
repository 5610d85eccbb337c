"""Websocket authentication for programs, on top of the browser session.

Browsers authenticate websockets with their session cookie (Channels'
AuthMiddlewareStack). Programs can send `Authorization: Bearer <key>` or
`X-Session-Token: <token>` headers instead; an invalid credential leaves the
connection anonymous, and consumers refuse anonymous users.
"""

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from community.authentication import bearer_key_from_header
from community.selectors import api_key_get_usable


@database_sync_to_async
def _user_for_api_key(key: str):
    api_key = api_key_get_usable(key=key)
    return api_key.user if api_key else None


@database_sync_to_async
def _user_for_session_token(token: str):
    from allauth.headless.internal.sessionkit import authenticate_by_x_session_token

    result = authenticate_by_x_session_token(token)
    return result[0] if result else None


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or [])
        user = None
        key = bearer_key_from_header(headers.get(b"authorization", b""))
        if key:
            user = await _user_for_api_key(key)
        elif token := headers.get(b"x-session-token", b"").decode("latin-1"):
            user = await _user_for_session_token(token)
        if user is not None:
            scope = dict(scope, user=user)
        return await super().__call__(scope, receive, send)


def TokenAuthMiddlewareStack(inner):  # noqa: N802 (named like Channels' stacks)
    # The session stack runs first and sets scope["user"]; a valid token wins.
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
