"""Live events to a person's open pages: the /ws/events/ stream.

It sits in config, the bottom layer, because every app above tells people
about their things (files, runs, notifications) while the consumer that
serves the stream lives in community, the top one.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


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
    async_to_sync(user_event_send)(user_id=user_id, event=event)
