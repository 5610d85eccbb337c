"""A run's status changes reach its owner's /ws/events/ socket, and nobody else's."""

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from agents import services
from agents.models import Run
from tests.agents.factories import make_calculator_agent, make_run
from tests.community.factories import UserFactory
from tests.sockets import events_socket

pytestmark = pytest.mark.django_db(transaction=True)


class RolledBackError(Exception):
    pass


async def run_to_the_end(run: Run) -> None:
    await sync_to_async(services.run_execute, thread_sensitive=False)(
        run_id=run.pk, worker="test"
    )


async def test_the_owner_hears_the_run_queued_running_and_how_it_ended_but_no_steps():
    agent = await sync_to_async(make_calculator_agent)()
    socket = await events_socket(agent.owner)
    run = await sync_to_async(make_run)(agent)
    await run_to_the_end(run)
    events = [await socket.receive_json_from(timeout=10) for _ in range(3)]
    assert [event["type"] for event in events] == ["run", "run", "run"]
    assert [event["run"]["status"] for event in events] == [
        "queued",
        "running",
        "completed",
    ]
    assert {event["run"]["id"] for event in events} == {run.pk}
    assert events[-1]["run"]["agent"] == agent.pk
    assert events[-1]["run"]["workflow"] is None
    assert events[-1]["run"]["conversation"] == run.conversation_id
    assert events[-1]["run"]["finished_at"] is not None
    # The run's eight steps and its text went to the run's own socket only.
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_another_persons_events_socket_hears_nothing_of_the_run():
    agent = await sync_to_async(make_calculator_agent)()
    stranger = await sync_to_async(UserFactory)()
    owners = await events_socket(agent.owner)
    strangers = await events_socket(stranger)
    run = await sync_to_async(make_run)(agent)
    await run_to_the_end(run)
    statuses = [(await owners.receive_json_from(timeout=10)) for _ in range(3)]
    assert statuses[-1]["run"]["status"] == "completed"
    assert await strangers.receive_nothing(timeout=0.5)
    await owners.disconnect()
    await strangers.disconnect()


async def test_nothing_is_sent_for_a_start_that_was_rolled_back():
    agent = await sync_to_async(make_calculator_agent)()
    socket = await events_socket(agent.owner)

    @sync_to_async
    def start_then_roll_back() -> int:
        try:
            with transaction.atomic():
                run_id = make_run(agent).pk
                raise RolledBackError
        except RolledBackError:
            return run_id

    run_id = await start_then_roll_back()
    assert not await sync_to_async(Run.objects.filter(pk=run_id).exists)()
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_a_queued_run_that_is_cancelled_reaches_the_owner_as_cancelled():
    agent = await sync_to_async(make_calculator_agent)()
    socket = await events_socket(agent.owner)
    run = await sync_to_async(make_run)(agent)
    queued = await socket.receive_json_from(timeout=10)
    assert queued["run"]["status"] == "queued"
    await sync_to_async(services.run_cancel)(run=run)
    cancelled = await socket.receive_json_from(timeout=10)
    assert (cancelled["run"]["id"], cancelled["run"]["status"]) == (
        run.pk,
        "cancelled",
    )
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
