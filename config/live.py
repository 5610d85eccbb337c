"""Live events to a person's open pages: the /ws/events/ stream.

It sits in config, the bottom layer, because every app above tells people
about their things (files, runs, notifications) while the consumer that
serves the stream lives in community, the top one.
"""

from __future__ import annotations

import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

# channels_postgres guards its connection pool with one module-level
# asyncio.Lock, which binds to the first event loop that waits on it. Sync
# code publishing from several threads at once gets an event loop per thread
# from async_to_sync: a second loop waiting on that lock raises, and the lock
# stays held for good, so every later publish in the process hangs (seen with
# five runs started at once: each start publishes `queued` on commit).
# Publishes from sync code take turns within a process; they are short.
_sync_publishes = threading.Lock()


def publish_from_sync(send, /, *args, **kwargs):
    """Call the channel layer coroutine function ``send`` from sync code."""
    with _sync_publishes:
        return async_to_sync(send)(*args, **kwargs)


def user_events_group(user_id: int) -> str:
    return f"user.{user_id}"


async def user_event_send(*, user_id: int, event: dict, layer=None) -> None:
    """`user_event_push` from async code (a worker's event loop), on ``layer``
    when the caller holds one already."""
    layer = layer or get_channel_layer()
    await layer.group_send(
        user_events_group(user_id), {"type": "user.event", "event": event}
    )


def user_event_push(*, user_id: int, event: dict) -> None:
    """Send a live event to every open websocket of a user (/ws/events/).

    Callers inside a transaction should wrap this in `transaction.on_commit`, so
    that clients never hear of something that was rolled back.
    """
    publish_from_sync(user_event_send, user_id=user_id, event=event)
