"""What every JSON websocket consumer of the site shares."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext as _

from config import jsoninput


class JsonConsumer(AsyncJsonWebsocketConsumer):
    """Channels' JSON consumer, answering a frame it cannot read with
    ``{"type": "error", "detail": ...}`` and staying open.

    Channels' own raises on such a frame (a binary one, text that is not JSON
    or is nested too deeply to parse), which ends the connection with a
    server error logged for what is the client's mistake.
    """

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self._refuse(_("Send JSON in text frames."))
            return
        try:
            content = jsoninput.loads(text_data)
        except jsoninput.NestedTooDeeplyError as error:
            await self._refuse(str(error))
            return
        except ValueError as error:
            await self._refuse(_("The frame is not JSON: %(error)s") % {"error": error})
            return
        await self.receive_json(content, **kwargs)

    async def _refuse(self, detail: str) -> None:
        await self.send_json({"type": "error", "detail": detail})
