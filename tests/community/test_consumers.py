"""The user events websocket (/ws/events/): who may connect, what they hear."""

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from community import services
from config.asgi import application
from config.live import user_events_group
from tests.community.factories import UserFactory


@pytest.fixture
def member(transactional_db):
    return UserFactory()


@pytest.fixture
def api_key(member):
    return services.api_key_create(user=member, name="socket")


@pytest.fixture
def session_cookie(member):
    client = Client()
    client.force_login(member)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


async def connect(*headers):
    communicator = WebsocketCommunicator(
        application, "/ws/events/", headers=list(headers)
    )
    connected, _ = await communicator.connect(timeout=10)
    return communicator, connected


async def test_anonymous_visitors_are_refused(transactional_db):
    _communicator, connected = await connect()
    assert not connected


async def test_a_browser_session_connects_and_hears_its_own_events(
    member, session_cookie
):
    communicator, connected = await connect(
        (b"cookie", session_cookie.encode()), (b"origin", b"http://127.0.0.1:8000")
    )
    assert connected
    await get_channel_layer().group_send(
        user_events_group(member.pk),
        {"type": "user.event", "event": {"type": "hello"}},
    )
    assert await communicator.receive_json_from(timeout=10) == {"type": "hello"}
    await communicator.disconnect()


async def test_a_page_on_another_site_cannot_open_a_members_socket(session_cookie):
    """Cross-site websocket hijacking: the cookie rides along, the Origin
    gives it away."""
    _communicator, connected = await connect(
        (b"cookie", session_cookie.encode()), (b"origin", b"https://evil.example")
    )
    assert not connected


async def test_a_program_connects_with_its_api_key_and_pings(api_key):
    _, secret = api_key
    communicator, connected = await connect(
        (b"authorization", f"Bearer {secret}".encode())
    )
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=10) == {"type": "pong"}
    await communicator.disconnect()


async def test_a_revoked_or_wrong_key_is_refused(api_key):
    from channels.db import database_sync_to_async

    record, secret = api_key
    _, connected = await connect((b"authorization", b"Bearer abcdefgh.wrong"))
    assert not connected
    await database_sync_to_async(services.api_key_revoke)(api_key=record)
    _, connected = await connect((b"authorization", f"Bearer {secret}".encode()))
    assert not connected


async def test_members_do_not_hear_each_others_events(member, api_key):
    from channels.db import database_sync_to_async

    other = await database_sync_to_async(UserFactory)()
    _, secret = api_key
    communicator, connected = await connect(
        (b"authorization", f"Bearer {secret}".encode())
    )
    assert connected
    await get_channel_layer().group_send(
        user_events_group(other.pk),
        {"type": "user.event", "event": {"type": "secret"}},
    )
    await get_channel_layer().group_send(
        user_events_group(member.pk),
        {"type": "user.event", "event": {"type": "mine"}},
    )
    assert await communicator.receive_json_from(timeout=10) == {"type": "mine"}
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        (
            {"text_data": "[" * 10_000 + "]" * 10_000},
            "Nested too deeply: at most 64 levels of arrays and objects.",
        ),
        (
            {"text_data": "ping"},
            "The frame is not JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        ({"bytes_data": b"\x00\x01"}, "Send JSON in text frames."),
    ],
    ids=["nested-too-deeply", "not-json", "binary"],
)
async def test_a_frame_it_cannot_read_is_answered_with_an_error_and_it_stays_open(
    api_key, frame, detail
):
    _, secret = api_key
    communicator, connected = await connect(
        (b"authorization", f"Bearer {secret}".encode())
    )
    assert connected
    await communicator.send_to(**frame)
    assert await communicator.receive_json_from(timeout=10) == {
        "type": "error",
        "detail": detail,
    }
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=10) == {"type": "pong"}
    await communicator.disconnect()
