"""A websocket stays open only while what opened it is still valid.

Each socket remembers its credential (``SocketCredential``, which
community.middleware puts in the scope): the API key it was opened with, or
the session (the browser's cookie, or the allauth session behind an
``X-Session-Token``). Every consumer derives from ``AuthenticatedConsumer``,
which closes the socket with code 4401 once that credential is revoked, and
sends nothing more from then on.

How a socket learns of a revocation:

- The code paths that revoke tell the person's open sockets once the change
  commits, through the channel-layer group ``credentials.<user id>``.
  ``credential.ended`` names one credential (a revoked key, a session signed
  out): sockets opened with it close without a query. ``credentials.changed``
  (a new password, a deactivated or deleted account) makes every socket of
  the person re-check its credential against the database.
- A consumer handles the messages of its channel one at a time, in the order
  they were sent. A message its stream receives after the revocation's
  announcement is handled after it, and dropped.
- As a safety net every socket re-checks its credential every
  ``RECHECK_SECONDS`` (one or two primary-key lookups), so revocations nobody
  announces (an expired session or key, rows edited or deleted by hand, an
  announcement lost with the channel layer) close it within that time too.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from dataclasses import dataclass
from importlib import import_module

from asgiref.sync import async_to_sync
from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import Error as DatabaseError
from django.db import transaction

from community.selectors import api_key_is_usable
from config.consumers import JsonConsumer

logger = logging.getLogger(__name__)

# Below the 5 s within which a revocation must close a socket, with room for
# the check itself.
RECHECK_SECONDS = 3.0


def credentials_group(user_id: int) -> str:
    """The group of every open socket of one person, whatever its stream."""
    return f"credentials.{user_id}"


def api_key_credential_name(api_key_id: int) -> str:
    return f"api-key:{api_key_id}"


def session_credential_name(session_key: str) -> str:
    # A hash: the channel layer stores its messages (in Redis or a table), and
    # a session key signs its holder in.
    return "session:" + hashlib.sha256(session_key.encode()).hexdigest()


@dataclass(frozen=True)
class SocketCredential:
    """What a websocket was opened with: an API key, or a session."""

    user_id: int
    api_key_id: int | None = None
    session_key: str = ""

    @property
    def name(self) -> str:
        if self.api_key_id is not None:
            return api_key_credential_name(self.api_key_id)
        return session_credential_name(self.session_key)

    async def is_valid(self) -> bool:
        if self.api_key_id is not None:
            return await database_sync_to_async(api_key_is_usable)(
                api_key_id=self.api_key_id
            )
        # The check Channels' AuthMiddleware made when the socket opened: the
        # session exists and has not expired, its user is active, and the
        # user's session auth hash (which a new password changes) still
        # matches the one the session was signed in with.
        session = import_module(settings.SESSION_ENGINE).SessionStore(self.session_key)
        user = await get_user({"session": session})
        return user.pk == self.user_id


def _announce(user_id: int, message: dict) -> None:
    # robust: the change is committed whatever happens to the announcement;
    # without it, the periodic re-check closes the sockets a little later.
    transaction.on_commit(
        lambda: async_to_sync(get_channel_layer().group_send)(
            credentials_group(user_id), message
        ),
        robust=True,
    )


def websocket_credential_ended(*, user_id: int, name: str) -> None:
    """Close, once the current transaction commits, the person's sockets
    opened with the credential called ``name`` (SocketCredential.name)."""
    _announce(user_id, {"type": "credential.ended", "credential": name})


def websocket_credentials_changed(*, user_id: int) -> None:
    """Make, once the current transaction commits, every open socket of the
    person re-check its credential, and close those no longer valid."""
    _announce(user_id, {"type": "credentials.changed"})


class AuthenticatedConsumer(JsonConsumer):
    """The base of every consumer: refuses a socket without a credential
    (4401), and closes it with 4401 once its credential is revoked. Frames it
    cannot read are answered as JsonConsumer answers them.

    ``closing`` is set before that close: from then on the consumer handles
    nothing but the client's disconnect, and no frame leaves, not even one a
    handler had under way.
    """

    closing = False
    _rechecks: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        async def send_unless_closing(message):
            if self.closing and message["type"] == "websocket.send":
                return
            await send(message)

        try:
            await super().__call__(scope, receive, send_unless_closing)
        finally:
            if self._rechecks is not None:
                self._rechecks.cancel()

    async def websocket_connect(self, message):
        self.credential: SocketCredential | None = self.scope.get("credential")
        if self.credential is None:
            await self.close(code=4401)
            return
        # Joined before connect() reads anything, left on disconnect, like the
        # consumer's own groups.
        self.groups = [*self.groups, credentials_group(self.credential.user_id)]
        self._rechecks = asyncio.create_task(self._recheck_periodically())
        await super().websocket_connect(message)

    async def dispatch(self, message):
        if self.closing and message["type"] != "websocket.disconnect":
            return
        await super().dispatch(message)

    async def credential_ended(self, message):
        if message["credential"] == self.credential.name:
            await self._close(4401)

    async def credentials_changed(self, message):
        await self._recheck()

    async def _recheck_periodically(self) -> None:
        # Sockets opened together do not all query at the same moment.
        await asyncio.sleep(random.uniform(0, RECHECK_SECONDS))  # noqa: S311 (not a secret)
        while not self.closing:
            await self._recheck()
            await asyncio.sleep(RECHECK_SECONDS)

    async def _recheck(self) -> None:
        try:
            valid = await self.credential.is_valid()
        except DatabaseError:
            # Unverifiable is not revoked: 1011 tells clients to connect again,
            # which authenticates them afresh.
            logger.exception("Could not re-check a websocket's credential")
            await self._close(1011)
            return
        if not valid:
            await self._close(4401)

    async def _close(self, code: int) -> None:
        if self.closing:
            return
        self.closing = True
        await self.close(code=code)
