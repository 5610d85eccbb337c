"""A real Celery worker process pushes to websocket clients, on both stacks."""

import os

import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from kombu import Connection

from community import services
from community.tasks import user_event_push_task
from config.asgi import application
from config.live import user_events_group
from config.settings.components.celery import broker_url_for
from config.settings.components.channels import channel_layers_for

REDIS_URL = os.environ.get("REDIS_URL", "")

BACKENDS = [
    pytest.param("", id="postgres"),
    pytest.param(
        REDIS_URL,
        id="redis",
        marks=pytest.mark.skipif(
            not REDIS_URL, reason="REDIS_URL is not set (CI sets it)"
        ),
    ),
]


@pytest.fixture
def use_backend(test_database_url):
    """Switch this process's channel layer to the stack under test."""
    original = settings.CHANNEL_LAYERS

    def use(redis_url: str) -> str:
        settings.CHANNEL_LAYERS = channel_layers_for(redis_url, test_database_url)
        channel_layers.backends.clear()
        return broker_url_for(redis_url, test_database_url)

    yield use
    settings.CHANNEL_LAYERS = original
    channel_layers.backends.clear()


@pytest.fixture
def api_key_header(transactional_db, user):
    _, secret = services.api_key_create(user=user, name="websocket test")
    return (b"authorization", f"Bearer {secret}".encode())


@pytest.mark.worker
@pytest.mark.parametrize("redis_url", BACKENDS)
async def test_a_worker_task_reaches_the_users_websocket(
    redis_url, use_backend, start_worker, user, api_key_header
):
    """Events enqueued on the broker are pushed by a separate worker process and
    arrive, in order, at the user's open websocket."""
    broker_url = use_backend(redis_url)
    start_worker(redis_url)
    communicator = WebsocketCommunicator(
        application, "/ws/events/", headers=[api_key_header]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected

    with Connection(broker_url) as broker:
        for number in range(5):
            user_event_push_task.apply_async(
                args=[user.pk, {"type": "test", "number": number}], connection=broker
            )

    received = [await communicator.receive_json_from(timeout=20) for _ in range(5)]
    assert [event["number"] for event in received] == [0, 1, 2, 3, 4]
    await communicator.disconnect()


@pytest.mark.worker
def test_the_postgres_broker_deletes_what_it_delivered(
    use_backend, start_worker, transactional_db
):
    """The embedded broker does not keep delivered messages forever (upstream
    kombu does), so its table stays small."""
    broker_url = use_backend("")
    start_worker("")
    with Connection(broker_url) as broker:
        for _ in range(3):
            user_event_push_task.apply_async(
                args=[0, {"type": "noop"}], connection=broker
            )

    from tests.worker import wait_for

    def queue_is_empty():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM kombu_message")
            return cursor.fetchone()[0] == 0

    assert wait_for(queue_is_empty, timeout=20)


@pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set (CI sets it)")
async def test_an_idle_websocket_on_redis_still_hears_events_after_a_silence(
    use_backend, api_key_header, user
):
    """channels_redis blocks 5 s waiting for messages; redis-py 8 used to give up
    reading after 5 s too, which killed idle consumers (and lost what was sent
    while the browser reconnected)."""
    import asyncio

    from channels.layers import get_channel_layer

    use_backend(REDIS_URL)
    communicator = WebsocketCommunicator(
        application, "/ws/events/", headers=[api_key_header]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    await asyncio.sleep(7)
    await get_channel_layer().group_send(
        user_events_group(user.pk),
        {"type": "user.event", "event": {"type": "after-silence"}},
    )
    assert await communicator.receive_json_from(timeout=10) == {"type": "after-silence"}
    await communicator.disconnect()
