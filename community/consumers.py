"""Websocket consumers of the community app."""

from community.websocket_auth import AuthenticatedConsumer
from config.live import user_events_group


class UserEventsConsumer(AuthenticatedConsumer):
    """A signed-in user's own live events (notifications and the like).

    The group name comes from the user's id, so nobody can listen to another
    user's stream.
    """

    async def connect(self):
        self.group_name = user_events_group(self.scope["user"].pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The stream is one-way; a ping gets a pong so clients can check liveness.
        if content == {"type": "ping"}:
            await self.send_json({"type": "pong"})

    async def user_event(self, message):
        await self.send_json(message["event"])
