"""The run websocket (/ws/runs/<id>/): who may watch, and that nothing is missed."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from agents import services
from agents.models import RunStep
from agents.payloads import step_to_dict
from agents.services.steps import run_events_group, run_step_save
from community.services import api_key_create
from config.asgi import application
from tests.agents.factories import make_calculator_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FINAL = {"completed", "failed", "cancelled"}


def bearer(user) -> tuple[bytes, bytes]:
    _, secret = api_key_create(user=user, name="socket")
    return (b"authorization", f"Bearer {secret}".encode())


def cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={client.cookies[name].value}".encode())


async def connect(run_id, *headers, query=""):
    communicator = WebsocketCommunicator(
        application, f"/ws/runs/{run_id}/{query}", headers=list(headers)
    )
    connected, code = await communicator.connect(timeout=10)
    return communicator, connected, code


async def receive_until_final(communicator, timeout=30) -> list[dict]:
    messages = []
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        messages.append(message)
        if message["event"] == "status" and message["status"] in FINAL:
            return messages


@pytest.fixture
def queued_run():
    return make_run(make_calculator_agent())


async def test_anonymous_visitors_are_refused(queued_run):
    _, connected, code = await connect(queued_run.pk)
    assert not connected
    assert code == 4401


async def test_strangers_cannot_watch_a_run_and_cannot_tell_it_exists(queued_run):
    stranger = await sync_to_async(UserFactory)()
    header = await sync_to_async(bearer)(stranger)
    _, connected, code = await connect(queued_run.pk, header)
    assert not connected
    assert code == 4404
    _, connected, code = await connect(999999, header)
    assert not connected
    assert code == 4404


async def test_staff_can_watch_any_run(queued_run):
    staff = await sync_to_async(UserFactory)(is_staff=True)
    communicator, connected, _ = await connect(
        queued_run.pk, await sync_to_async(bearer)(staff)
    )
    assert connected
    first = await communicator.receive_json_from(timeout=10)
    assert first["step"]["type"] == "user-request"
    await communicator.disconnect()


async def test_a_browser_on_another_site_cannot_watch_with_the_owners_cookie(
    queued_run,
):
    header = await sync_to_async(cookie)(queued_run.owner)
    _, connected, _ = await connect(
        queued_run.pk, header, (b"origin", b"https://evil.example")
    )
    assert not connected
    communicator, connected, _ = await connect(
        queued_run.pk, header, (b"origin", b"http://localhost:8000")
    )
    assert connected
    await communicator.disconnect()


async def test_a_live_run_streams_steps_deltas_and_the_final_status_in_order(
    queued_run,
):
    """Connected before the run starts: every step once, in order, text deltas
    along the way, then the completed status with the run."""
    header = await sync_to_async(bearer)(queued_run.owner)
    communicator, connected, _ = await connect(queued_run.pk, header)
    assert connected
    execution = asyncio.create_task(
        sync_to_async(services.run_execute, thread_sensitive=False)(
            run_id=queued_run.pk, worker="test"
        )
    )
    messages = await receive_until_final(communicator)
    await execution
    steps = [m["step"] for m in messages if m["event"] == "step"]
    assert [s["order"] for s in steps] == list(range(1, len(steps) + 1))
    assert [s["type"] for s in steps] == [
        "user-request",
        "agent-thought",
        "tool-call",
        "tool-result",
        "agent-thought",
        "tool-call",
        "tool-result",
        "agent-response",
    ]
    saved = await sync_to_async(
        lambda: [step_to_dict(s) for s in RunStep.objects.filter(run=queued_run)]
    )()
    assert steps == saved
    assert any(m["event"] == "delta" for m in messages)
    final = messages[-1]
    assert final["status"] == "completed"
    assert final["run"]["final_output"]["answer"] == 45
    await communicator.disconnect()


async def test_a_late_client_gets_the_whole_timeline_and_the_final_status_at_once(
    queued_run,
):
    await sync_to_async(services.run_execute, thread_sensitive=False)(
        run_id=queued_run.pk, worker="test"
    )
    header = await sync_to_async(bearer)(queued_run.owner)
    communicator, connected, _ = await connect(queued_run.pk, header)
    assert connected
    messages = await receive_until_final(communicator, timeout=10)
    assert [m["event"] for m in messages].count("step") == 8
    assert messages[-1]["run"]["status"] == "completed"
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_step_heard_both_from_the_database_and_the_group_is_sent_once(
    queued_run,
):
    """The race of a late join: a step saved before connecting may still be
    pushed after; the client sees it once."""
    header = await sync_to_async(bearer)(queued_run.owner)
    communicator, connected, _ = await connect(queued_run.pk, header)
    assert connected
    first = await communicator.receive_json_from(timeout=10)
    assert first["step"]["order"] == 1
    group = run_events_group(queued_run.pk)
    layer = get_channel_layer()
    await layer.group_send(group, {"type": "run.step", "step": first["step"]})
    step = await sync_to_async(run_step_save)(
        run=queued_run, order=2, type="agent-thought", payload={"text": "hm"}
    )
    await layer.group_send(group, {"type": "run.step", "step": step_to_dict(step)})
    second = await communicator.receive_json_from(timeout=10)
    assert second["step"]["order"] == 2
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_browsers_can_ask_for_html_fragments(queued_run):
    header = await sync_to_async(cookie)(queued_run.owner)
    communicator, connected, _ = await connect(
        queued_run.pk,
        header,
        (b"origin", b"http://localhost:8000"),
        query="?format=html",
    )
    assert connected
    fragment = await communicator.receive_from(timeout=10)
    assert 'id="step-1"' in fragment
    assert "What is 5 + 10" in fragment
    await communicator.disconnect()


async def test_a_client_that_has_some_steps_asks_only_for_the_rest(queued_run):
    await sync_to_async(run_step_save)(
        run=queued_run, order=2, type="agent-thought", payload={"text": "hm"}
    )
    header = await sync_to_async(bearer)(queued_run.owner)
    communicator, connected, _ = await connect(queued_run.pk, header, query="?after=1")
    assert connected
    message = await communicator.receive_json_from(timeout=10)
    assert message["step"]["order"] == 2
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_step_whose_push_was_lost_is_filled_in_from_the_database(queued_run):
    """A worker killed between saving a step and pushing it leaves a gap: the
    next step pushed (or the final status) makes the socket send the saved
    steps it missed first, so a watcher still sees the whole timeline."""
    header = await sync_to_async(bearer)(queued_run.owner)
    communicator, connected, _ = await connect(queued_run.pk, header)
    assert connected
    first = await communicator.receive_json_from(timeout=10)
    assert first["step"]["order"] == 1

    @sync_to_async
    def save(order):
        return run_step_save(
            run=queued_run, order=order, type="agent-thought", payload={"n": order}
        )

    await save(2)  # saved, never pushed
    third = await save(3)
    layer = get_channel_layer()
    group = run_events_group(queued_run.pk)
    await layer.group_send(group, {"type": "run.step", "step": step_to_dict(third)})
    await save(4)  # saved, never pushed, then the run ends
    await sync_to_async(type(queued_run).objects.filter(pk=queued_run.pk).update)(
        status="failed"
    )
    await layer.group_send(
        group,
        {
            "type": "run.status",
            "status": "failed",
            "run": {"id": queued_run.pk, "status": "failed"},
        },
    )

    messages = await receive_until_final(communicator)
    steps = [m["step"]["order"] for m in messages if m["event"] == "step"]
    assert steps == [2, 3, 4]
    await communicator.disconnect()


async def test_a_frame_nested_too_deeply_is_answered_with_an_error_and_it_stays_open(
    queued_run,
):
    header = await sync_to_async(bearer)(queued_run.owner)
    communicator, connected, _ = await connect(queued_run.pk, header)
    assert connected
    first = await communicator.receive_json_from(timeout=10)
    assert first["step"]["type"] == "user-request"
    await communicator.send_to(text_data='{"a":' * 10_000 + "1" + "}" * 10_000)
    assert await communicator.receive_json_from(timeout=10) == {
        "type": "error",
        "detail": "Nested too deeply: at most 64 levels of arrays and objects.",
    }
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=10) == {"type": "pong"}
    await communicator.disconnect()
