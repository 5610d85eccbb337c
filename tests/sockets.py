"""A person's /ws/events/ socket, opened in-process as a client with an API
key would open it."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from community.services import api_key_create
from config.asgi import application


async def events_socket(user) -> WebsocketCommunicator:
    _, secret = await sync_to_async(api_key_create)(user=user, name="socket")
    communicator = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[(b"authorization", f"Bearer {secret}".encode())],
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    return communicator
