"""Revoking what a websocket was opened with closes it, on every stream.

An API key revoked, a session signed out, a password changed or an account
deactivated: the sockets opened with it are closed with code 4401 within 5 s,
and a message sent to their streams after the revocation never reaches them.
Revocations that bypass the site's own paths (a session row deleted, an
account switched off in the database) close them within 5 s too.
"""

import asyncio
import os
from dataclasses import dataclass

import httpx
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agents.services.steps import run_events_group
from community import services
from community.models import User
from config.asgi import application
from config.live import user_events_group
from tests.agents.factories import make_calculator_agent, make_run
from tests.community.factories import PASSWORD, UserFactory
from tests.worker import WebProcess, free_port

pytestmark = pytest.mark.django_db(transaction=True)

# The bound: a revoked credential's sockets are closed within this.
CLOSE_WITHIN = 5
NEW_PASSWORD = "a-brand-new-passphrase-42"
HEADLESS = "/_allauth/app/v1"


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
        return Stream("/ws/events/", user_events_group(member.pk), "user.event")
    run = make_run(make_calculator_agent(owner=member))
    # after=1: the run's first step (the request) is not replayed.
    return Stream(f"/ws/runs/{run.pk}/?after=1", run_events_group(run.pk), "run.delta")


def bearer(secret: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {secret}".encode())


def cookie_of(client: Client) -> tuple[bytes, bytes]:
    name = settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={client.cookies[name].value}".encode())


def session_token(client: Client, user) -> str:
    response = client.post(
        f"{HEADLESS}/auth/login",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def staff_deactivates(user) -> None:
    """Staff untick "active" on the person's admin page and save."""
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    user.refresh_from_db()
    response = staff.post(
        f"/admin/community/user/{user.pk}/change/",
        {
            "username": user.username,
            "email": user.email,
            "first_name": "",
            "last_name": "",
            # is_active left out: an unticked box.
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert not user.is_active


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


async def assert_closed_and_deaf(communicator, stream: Stream) -> None:
    """Right after a revocation: a message sent to the stream now is not
    delivered; the next thing the client gets is the 4401 close."""
    await get_channel_layer().group_send(stream.group, stream.message("after"))
    output = await communicator.receive_output(timeout=CLOSE_WITHIN)
    assert output == {"type": "websocket.close", "code": 4401}
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


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


# ---------- API keys ----------


async def test_revoking_an_api_key_closes_the_sockets_opened_with_it(stream, member):
    _, secret = await sync_to_async(services.api_key_create)(user=member, name="bot")
    communicator = await open_socket(stream, bearer(secret))

    def revoke_through_the_api():
        prefix = secret.partition(".")[0]
        client = Client(headers={"Authorization": f"Bearer {secret}"})
        assert client.delete(f"/api/v1/tokens/{prefix}/").status_code == 204

    await sync_to_async(revoke_through_the_api)()
    await assert_closed_and_deaf(communicator, stream)


async def test_revoking_one_key_leaves_sockets_of_the_persons_other_keys_open(
    stream, member
):
    revoked, revoked_secret = await sync_to_async(services.api_key_create)(
        user=member, name="old"
    )
    _, kept_secret = await sync_to_async(services.api_key_create)(
        user=member, name="new"
    )
    closing = await open_socket(stream, bearer(revoked_secret))
    staying = await open_socket(stream, bearer(kept_secret))
    assert await closing.receive_json_from(timeout=10) == stream.as_received("before")

    await sync_to_async(services.api_key_revoke)(api_key=revoked)
    await assert_closed_and_deaf(closing, stream)
    assert await staying.receive_json_from(timeout=10) == stream.as_received("after")
    await staying.disconnect()


async def test_deactivating_an_account_closes_its_api_key_sockets(stream, member):
    _, secret = await sync_to_async(services.api_key_create)(user=member, name="bot")
    communicator = await open_socket(stream, bearer(secret))

    await sync_to_async(staff_deactivates)(member)
    await assert_closed_and_deaf(communicator, stream)


async def test_an_account_switched_off_in_the_database_closes_its_sockets_in_time(
    stream, member
):
    _, secret = await sync_to_async(services.api_key_create)(user=member, name="bot")
    communicator = await open_socket(stream, bearer(secret))
    await sync_to_async(User.objects.filter(pk=member.pk).update)(is_active=False)
    await assert_closed_within_the_bound(communicator)


async def test_deleting_the_account_closes_its_sockets(member):
    """Account deletion refuses while runs are unfinished, so on /ws/events/."""
    stream = Stream("/ws/events/", user_events_group(member.pk), "user.event")
    _, secret = await sync_to_async(services.api_key_create)(user=member, name="bot")
    communicator = await open_socket(stream, bearer(secret))

    def delete_through_the_api():
        client = Client(headers={"Authorization": f"Bearer {secret}"})
        response = client.post(
            "/api/v1/account/delete/",
            {
                "shared_items": "remove",
                "password": PASSWORD,
                "confirmation": member.username,
            },
            content_type="application/json",
        )
        assert response.status_code == 204, response.content

    await sync_to_async(delete_through_the_api)()
    await assert_closed_and_deaf(communicator, stream)


# ---------- Browser sessions ----------


async def test_signing_out_closes_the_sockets_opened_with_that_session(stream, member):
    browser, other_browser = Client(), Client()
    await sync_to_async(browser.force_login)(member)
    await sync_to_async(other_browser.force_login)(member)
    communicator = await open_socket(stream, cookie_of(browser))
    elsewhere = await open_socket(stream, cookie_of(other_browser))
    assert await communicator.receive_json_from(timeout=10) == stream.as_received(
        "before"
    )

    response = await sync_to_async(browser.post)("/accounts/logout/")
    assert response.status_code == 302
    await assert_closed_and_deaf(communicator, stream)
    # The person's session in another browser goes on.
    assert await elsewhere.receive_json_from(timeout=10) == stream.as_received("after")
    await elsewhere.disconnect()


async def test_changing_the_password_closes_the_sockets_of_every_session(
    stream, member
):
    browser, other_browser = Client(), Client()
    await sync_to_async(browser.force_login)(member)
    await sync_to_async(other_browser.force_login)(member)
    here = await open_socket(stream, cookie_of(browser))
    elsewhere = await open_socket(stream, cookie_of(other_browser))
    assert await here.receive_json_from(timeout=10) == stream.as_received("before")

    response = await sync_to_async(browser.post)(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content
    await assert_closed_and_deaf(elsewhere, stream)
    # The page's own socket too: its session was replaced by a new one (a new
    # cookie), with which the next page connects again.
    output = await here.receive_output(timeout=CLOSE_WITHIN)
    assert output == {"type": "websocket.close", "code": 4401}
    await here.disconnect()
    again = await open_socket(stream, cookie_of(browser))
    await again.disconnect()


async def test_staff_setting_a_new_password_closes_the_persons_browser_sockets(
    stream, member
):
    browser = Client()
    await sync_to_async(browser.force_login)(member)
    communicator = await open_socket(stream, cookie_of(browser))

    def staff_sets_a_password():
        staff = Client()
        staff.force_login(UserFactory(is_staff=True, is_superuser=True))
        response = staff.post(
            f"/admin/community/user/{member.pk}/password/",
            {
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
                "set_usable_password": "true",
            },
        )
        assert response.status_code == 302, response.content

    await sync_to_async(staff_sets_a_password)()
    await assert_closed_and_deaf(communicator, stream)


async def test_deactivating_an_account_closes_its_browser_sockets(stream, member):
    browser = Client()
    await sync_to_async(browser.force_login)(member)
    communicator = await open_socket(stream, cookie_of(browser))

    await sync_to_async(staff_deactivates)(member)
    await assert_closed_and_deaf(communicator, stream)


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


# ---------- allauth session tokens ----------


async def test_logging_out_a_session_token_closes_its_sockets(stream, member):
    app = Client()
    token = await sync_to_async(session_token)(app, member)
    communicator = await open_socket(stream, (b"x-session-token", token.encode()))

    response = await sync_to_async(app.delete)(
        f"{HEADLESS}/auth/session", headers={"X-Session-Token": token}
    )
    assert response.status_code == 401  # allauth: "not signed in any more"
    await assert_closed_and_deaf(communicator, stream)


async def test_changing_the_password_closes_session_token_sockets(stream, member):
    app = Client()
    token = await sync_to_async(session_token)(app, member)
    communicator = await open_socket(stream, (b"x-session-token", token.encode()))

    response = await sync_to_async(app.post)(
        f"{HEADLESS}/account/password/change",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
        headers={"X-Session-Token": token},
    )
    assert response.status_code == 200, response.content
    await assert_closed_and_deaf(communicator, stream)


# ---------- Between processes ----------


@pytest.mark.multiprocess
def test_a_key_revoked_on_one_web_process_closes_its_socket_on_another(
    member, test_database_url, tmp_path
):
    """Two Daphnes on one channel layer (this run's): the revocation is
    announced by the process that served it and heard by the one holding the
    socket, which a real client sees closed with 4401."""
    api_key, secret = services.api_key_create(user=member, name="two webs")
    webs = [
        WebProcess(
            database_url=test_database_url,
            redis_url=os.environ.get("REDIS_URL", ""),
            port=free_port(),
            log_path=tmp_path / f"web-{name}.log",
        ).start()
        for name in ("a", "b")
    ]
    headers = {"Authorization": f"Bearer {secret}"}

    async def watch_then_revoke() -> int:
        url = webs[1].url.replace("http://", "ws://") + "/ws/events/"
        async with connect(url, additional_headers=headers) as socket:
            async with httpx.AsyncClient(headers=headers) as http:
                response = await http.delete(
                    f"{webs[0].url}/api/v1/tokens/{api_key.prefix}/", timeout=30
                )
                assert response.status_code == 204
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), timeout=CLOSE_WITHIN)
            return closed.value.rcvd.code

    try:
        assert asyncio.run(watch_then_revoke()) == 4401
    finally:
        for web in webs:
            web.discard()
