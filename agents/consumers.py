"""The live stream of one run: /ws/runs/<id>/.

On connect the consumer joins the run's group first and only then reads the
steps saved so far, so a step committed in between arrives either from the
database or from the group; orders already sent are skipped, so nothing is
missed and nothing is repeated. A finished run's final status is sent at once.

A client that already has steps 1..n may pass ``?after=n``. If a push is lost
(a worker killed between saving a step and pushing it), the next step or the
final status fills the gap from the database first.

JSON events carry ``request_id`` when a request caused them: the id of the
request that started (or cancelled) the run, also found in the web's and the
worker's log lines.

Programs get JSON. Browsers ask for ``?format=html`` and get HTML fragments with
stable ids that the htmx websocket extension swaps into the page.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.template.loader import render_to_string

from agents import selectors
from agents.payloads import run_to_dict, step_to_dict
from agents.services.steps import run_events_group
from community.websocket_auth import AuthenticatedConsumer


@database_sync_to_async
def _load(user, run_id):
    run = selectors.run_get_visible(user=user, run_id=run_id)
    if run is None:
        return None, []
    return run, list(selectors.step_list(run=run))


@database_sync_to_async
def _missing(run_id: int, after: int, before: int | None = None) -> list[dict]:
    steps = selectors.step_list_by_run_id(run_id=run_id, after=after, before=before)
    return [step_to_dict(step) for step in steps]


def _event(name: str, request_id: str, **data) -> dict:
    """A JSON event; ``request_id`` names the request whose work it reports
    (absent for what the database filled in)."""
    event = {"event": name, **data}
    if request_id:
        event["request_id"] = request_id
    return event


class RunConsumer(AuthenticatedConsumer):
    async def connect(self):
        user = self.scope["user"]
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.html = query.get("format") == ["html"]
        # A page that already shows steps 1..n asks for the rest: ?after=n.
        after = query.get("after", ["0"])[0]
        self.last_order = int(after) if after.isdigit() else 0
        self.finished = False
        # Join before reading, so a step saved meanwhile is not missed; the
        # group's name comes from the URL, and nothing is sent until the
        # permission check below passes.
        self.group_name = run_events_group(self.run_id)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        run, steps = await _load(user, self.run_id)
        if run is None:
            # Not found and not allowed look the same: no probing for ids.
            await self.close(code=4404)
            return
        await self.accept()
        self.accepted = True
        for step in steps:
            await self._send_step(step_to_dict(step))
        if run.is_finished:
            await self._send_status(run_to_dict(run))

    async def disconnect(self, code):
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content == {"type": "ping"}:
            await self.send_json({"type": "pong"})

    # Group messages can arrive for a socket refused in connect(): drop them.
    accepted = False

    async def run_step(self, message):
        if self.accepted:
            await self._send_step(message["step"], message.get("request_id", ""))

    async def run_delta(self, message):
        if self.finished or not self.accepted:
            return
        if self.html:
            await self.send(
                text_data=render_to_string(
                    "agents/partials/live_delta.html", {"text": message["text"]}
                )
            )
        else:
            await self.send_json({"event": "delta", "text": message["text"]})

    async def run_status(self, message):
        if self.accepted:
            await self._send_status(message["run"], message.get("request_id", ""))

    async def _send_step(self, step: dict, request_id: str = "") -> None:
        if step["order"] <= self.last_order:
            return
        if step["order"] > self.last_order + 1:
            # A push was lost (its worker died between saving the step and
            # pushing it): the saved steps in between come from the database.
            for missing in await _missing(self.run_id, self.last_order, step["order"]):
                await self._send_one(missing)
        await self._send_one(step, request_id)

    async def _send_one(self, step: dict, request_id: str = "") -> None:
        self.last_order = step["order"]
        if self.html:
            await self.send(
                text_data=render_to_string(
                    "agents/partials/live_step.html", {"step": step}
                )
            )
        else:
            await self.send_json(_event("step", request_id, step=step))

    async def _send_status(self, run: dict, request_id: str = "") -> None:
        if self.finished:
            return
        self.finished = run["status"] in ("completed", "failed", "cancelled")
        if self.finished:
            # The last steps' pushes may have been lost; the run is over, so
            # what the database holds now is the whole timeline.
            for missing in await _missing(self.run_id, self.last_order):
                await self._send_one(missing)
        if self.html:
            await self.send(
                text_data=render_to_string(
                    "agents/partials/live_status.html", {"run": run}
                )
            )
        else:
            await self.send_json(
                _event("status", request_id, status=run["status"], run=run)
            )
