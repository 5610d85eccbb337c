"""Websocket authentication for programs, on top of the browser session.

Browsers authenticate websockets with their session cookie (Channels'
AuthMiddlewareStack). Programs can send `Authorization: Bearer <key>` or
`X-Session-Token: <token>` headers instead; an invalid one is ignored (the
cookie's session, if any, applies), and consumers refuse anonymous users.

Besides `scope["user"]` this puts what the socket was opened with in
`scope["credential"]` (community.websocket_auth.SocketCredential), which the
consumers re-check for as long as the socket is open.
"""

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from community.authentication import bearer_key_from_header
from community.selectors import api_key_get_usable
from community.websocket_auth import SocketCredential


@database_sync_to_async
def _authenticate_api_key(key: str):
    api_key = api_key_get_usable(key=key)
    if api_key is None:
        return None
    return api_key.user, SocketCredential(
        user_id=api_key.user_id, api_key_id=api_key.pk
    )


@database_sync_to_async
def _authenticate_session_token(token: str):
    from allauth.headless.internal.sessionkit import authenticate_by_x_session_token

    result = authenticate_by_x_session_token(token)
    if not result:
        return None
    user, session = result
    return user, SocketCredential(user_id=user.pk, session_key=session.session_key)


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or [])
        authenticated = None
        key = bearer_key_from_header(headers.get(b"authorization", b""))
        if key:
            authenticated = await _authenticate_api_key(key)
        elif token := headers.get(b"x-session-token", b"").decode("latin-1"):
            authenticated = await _authenticate_session_token(token)
        if authenticated is None and scope["user"].is_authenticated:
            user = scope["user"]
            authenticated = (
                user,
                SocketCredential(
                    user_id=user.pk, session_key=scope["session"].session_key
                ),
            )
        if authenticated is not None:
            user, credential = authenticated
            scope = dict(scope, user=user, credential=credential)
        return await super().__call__(scope, receive, send)


def TokenAuthMiddlewareStack(inner):  # noqa: N802 (named like Channels' stacks)
    # The session stack runs first and sets scope["user"]; a valid token wins.
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
