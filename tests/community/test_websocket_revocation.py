"""Revoking what a websocket was opened with closes it, on every stream.

Sockets opened with an API key or a session re-check it while they are open:
revoked in the database by any means, it closes them with code 4401 within
5 s.
"""

import asyncio
from dataclasses import dataclass

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from agents.services.steps import run_events_group
from community import services
from community.models import User
from config.asgi import application
from tests.agents.factories import make_calculator_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The bound: a revoked credential's sockets are closed within this.
CLOSE_WITHIN = 5


@dataclass
class Stream:
    """A websocket route, the group its consumer forwards, and how a message
    on that group looks to the client."""

    path: str
    group: str
    message_type: str

    def message(self, text: str) -> dict:
        if self.message_type == "user.event":
            return {"type": "user.event", "event": {"type": "test", "text": text}}
        return {"type": "run.delta", "text": text}

    def as_received(self, text: str) -> dict:
        if self.message_type == "user.event":
            return {"type": "test", "text": text}
        return {"event": "delta", "text": text}


@pytest.fixture
def member():
    return UserFactory()


@pytest.fixture(params=["events", "runs"])
def stream(request, member) -> Stream:
    if request.param == "events":
        return Stream(
            "/ws/events/", services.user_events_group(member.pk), "user.event"
        )
    run = make_run(make_calculator_agent(owner=member))
    # after=1: the run's first step (the request) is not replayed.
    return Stream(f"/ws/runs/{run.pk}/?after=1", run_events_group(run.pk), "run.delta")


def bearer(secret: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {secret}".encode())


def cookie_of(client: Client) -> tuple[bytes, bytes]:
    name = settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={client.cookies[name].value}".encode())


async def open_socket(stream: Stream, *headers) -> WebsocketCommunicator:
    """A connected socket that has been shown to hear its stream."""
    communicator = WebsocketCommunicator(application, stream.path, headers=headers)
    connected, code = await communicator.connect(timeout=10)
    assert connected, code
    await get_channel_layer().group_send(stream.group, stream.message("before"))
    assert await communicator.receive_json_from(timeout=10) == stream.as_received(
        "before"
    )
    return communicator


async def assert_closed_within_the_bound(communicator) -> None:
    """For revocations no service announces: closed with 4401 in time (what
    was forwarded before the check found out may come first)."""
    loop_time = asyncio.get_running_loop().time
    deadline = loop_time() + CLOSE_WITHIN
    while True:
        output = await communicator.receive_output(timeout=deadline - loop_time())
        if output["type"] == "websocket.close":
            assert output.get("code") == 4401
            break
    await communicator.disconnect()


async def test_an_account_switched_off_in_the_database_closes_its_sockets_in_time(
    stream, member
):
    _, secret = await sync_to_async(services.api_key_create)(user=member, name="bot")
    communicator = await open_socket(stream, bearer(secret))
    await sync_to_async(User.objects.filter(pk=member.pk).update)(is_active=False)
    await assert_closed_within_the_bound(communicator)


async def test_a_session_deleted_in_the_database_closes_its_sockets_in_time(
    stream, member
):
    """Expired sessions cleared, a session row deleted by hand: no service
    says so, the periodic check finds out."""
    browser = Client()
    await sync_to_async(browser.force_login)(member)
    communicator = await open_socket(stream, cookie_of(browser))
    await sync_to_async(
        Session.objects.filter(session_key=browser.session.session_key).delete
    )()
    await assert_closed_within_the_bound(communicator)
