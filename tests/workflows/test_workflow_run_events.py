"""A workflow's run tells its owner's /ws/events/ socket its status changes,
as an agent's run does."""

import pytest
from asgiref.sync import sync_to_async

from tests.agents.factories import make_agent
from tests.community.factories import UserFactory
from tests.sockets import events_socket
from workflows.runs import workflow_run_execute, workflow_run_start
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True)


def one_agent_workflow():
    owner = UserFactory(credits=100)
    writer = make_agent(owner, name="Writer", instructions="Summarize what you get.")
    graph = {
        "entry": "w",
        "nodes": [{"id": "w", "kind": "agent", "agent": writer.pk}],
        "edges": [],
    }
    return workflow_create(owner=owner, data={"name": "Flow", "graph": graph})


async def test_the_owner_hears_a_workflow_run_queued_running_and_completed():
    flow = await sync_to_async(one_agent_workflow)()
    socket = await events_socket(flow.owner)
    run = await sync_to_async(workflow_run_start)(
        workflow=flow, user=flow.owner, input="Tides follow the moon."
    )
    await sync_to_async(workflow_run_execute, thread_sensitive=False)(
        run_id=run.pk, worker="test"
    )
    events = [await socket.receive_json_from(timeout=10) for _ in range(3)]
    assert [(e["type"], e["run"]["status"]) for e in events] == [
        ("run", "queued"),
        ("run", "running"),
        ("run", "completed"),
    ]
    assert {(e["run"]["id"], e["run"]["workflow"]) for e in events} == {
        (run.pk, flow.pk)
    }
    assert events[0]["run"]["agent"] is None
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
