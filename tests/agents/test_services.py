"""Agent and run services against the real database."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents import services
from agents.models import Agent, AgentVersion, Run, RunStatus
from agents.services.runs import DatabaseRecorder
from config import heartbeat
from tests.agents.factories import (
    CALCULATOR_QUESTION,
    SUM_SCHEMA,
    make_agent,
    make_calculator_agent,
    make_run,
)
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_creating_an_agent_saves_version_one_with_its_definition():
    agent = make_calculator_agent()
    assert agent.visibility == "private"
    assert agent.version_number == 1
    version = agent.versions.get()
    assert version.number == 1
    assert version.definition["tools"] == ["calculator"]
    assert version.definition["output_type"] == SUM_SCHEMA
    assert version.definition["model"] == "local/demo"


def test_slugs_are_unique_per_owner():
    owner = UserFactory()
    first = make_agent(owner, name="My Helper")
    second = make_agent(owner, name="My Helper")
    other = make_agent(name="My Helper")
    assert (first.slug, second.slug, other.slug) == (
        "my-helper",
        "my-helper-2",
        "my-helper",
    )


def test_changing_the_definition_creates_a_new_immutable_version():
    agent = make_agent(instructions="Be brief.")
    services.agent_update(
        agent=agent, user=agent.owner, data={"instructions": "Be thorough."}
    )
    agent.refresh_from_db()
    assert agent.version_number == 2
    assert agent.versions.get(number=1).definition["instructions"] == "Be brief."
    assert agent.versions.get(number=2).definition["instructions"] == "Be thorough."


def test_changing_only_tags_or_visibility_or_nothing_makes_no_version():
    agent = make_agent()
    services.agent_update(
        agent=agent, user=agent.owner, data={"tags": ["x"], "visibility": "public"}
    )
    services.agent_update(agent=agent, user=agent.owner, data={"name": agent.name})
    agent.refresh_from_db()
    assert agent.visibility == "public"
    assert agent.tags == ["x"]
    assert agent.versions.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the agent a name"),
        ({"model": "acme/turbo"}, "model", "Unknown model"),
        ({"tools": ["calculator", "teleport"]}, "tools", "Unknown tool: teleport"),
        ({"output_type": {"type": "objekt"}}, "output_type", "not a valid JSON schema"),
        ({"output_type": {"type": "string"}}, "output_type", "top level"),
        ({"output_type": "{nope"}, "output_type", "not valid JSON"),
        ({"model_settings": {"temperature": 5}}, "model_settings", "between 0 and 2"),
        ({"model_settings": {"tool_choice": "x"}}, "model_settings", "tool_choice"),
        ({"model_settings": {"speed": 1}}, "model_settings", "Unknown model settings"),
        (
            {"guardrails": {"input": {"blocked_patterns": ["(unclosed"]}}},
            "guardrails",
            "not a valid regular expression",
        ),
        ({"guardrails": {"middle": {}}}, "guardrails", "Unknown guardrail stage"),
        ({"visibility": "secret"}, "visibility", "Visibility must be one of"),
        ({"colour": "red"}, "non_field_errors", "Unknown fields: colour"),
    ],
)
def test_bad_definitions_are_refused_by_field_and_nothing_is_saved(
    data, field, message
):
    agent = make_agent(instructions="Original.")
    with pytest.raises(ValidationError) as caught:
        services.agent_update(agent=agent, user=agent.owner, data=data)
    assert message in " ".join(caught.value.message_dict[field])
    agent.refresh_from_db()
    assert agent.instructions == "Original."
    assert agent.versions.count() == 1
    with pytest.raises(ValidationError):
        services.agent_create(owner=agent.owner, data={"name": "New", **data})
    assert Agent.objects.filter(owner=agent.owner).count() == 1


def test_a_guard_agent_must_be_one_the_owner_can_run():
    owner = UserFactory()
    agent = make_agent(owner)
    strangers_private = make_agent(name="Private guard")
    strangers_public = make_agent(name="Public guard", visibility="public")
    with pytest.raises(ValidationError) as caught:
        services.agent_update(
            agent=agent,
            user=owner,
            data={"guardrails": {"input": {"guard_agent": strangers_private.pk}}},
        )
    assert "guardrails" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.agent_update(
            agent=agent,
            user=owner,
            data={"guardrails": {"input": {"guard_agent": agent.pk}}},
        )
    services.agent_update(
        agent=agent,
        user=owner,
        data={"guardrails": {"input": {"guard_agent": strangers_public.pk}}},
    )
    agent.refresh_from_db()
    assert agent.guardrails == {"input": {"guard_agent": strangers_public.pk}}


def test_starting_a_run_queues_it_with_the_request_step_and_enqueues_on_commit(
    django_capture_on_commit_callbacks, monkeypatch
):
    from agents import tasks

    enqueued = []
    monkeypatch.setattr(tasks.run_execute_task, "delay", enqueued.append)
    agent = make_calculator_agent()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = make_run(agent)
        assert enqueued == []
    for callback in callbacks:
        callback()
    assert enqueued == [run.pk]
    assert run.status == RunStatus.QUEUED
    assert run.version.number == 1
    step = run.steps.get()
    assert (step.order, step.type, step.payload) == (
        1,
        "user-request",
        {"text": CALCULATOR_QUESTION},
    )


def test_a_run_can_pin_an_older_version():
    agent = make_agent(instructions="v1")
    services.agent_update(agent=agent, user=agent.owner, data={"instructions": "v2"})
    agent.refresh_from_db()
    assert make_run(agent).version.number == 2
    assert make_run(agent, version=1).version.number == 1


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"input": "   "}, "input", "Write something"),
        ({"input": "x" * 32001}, "input", "the limit is 32000"),
        ({"input": "hi", "version": 9}, "version", "no version 9"),
        ({"input": "hi", "version": "latest"}, "version", "version number"),
    ],
)
def test_a_bad_run_request_is_refused_and_nothing_is_saved(kwargs, field, message):
    agent = make_agent()
    with pytest.raises(ValidationError) as caught:
        services.run_start(agent=agent, user=agent.owner, **kwargs)
    assert message in " ".join(caught.value.message_dict[field])
    assert Run.objects.count() == 0


def test_the_input_limit_is_configurable(settings):
    settings.AGENT_RUN_INPUT_LIMIT = 10
    agent = make_agent()
    with pytest.raises(ValidationError):
        services.run_start(agent=agent, user=agent.owner, input="eleven char")


def test_cancelling_stops_a_queued_run_and_a_finished_run_cannot_be_cancelled():
    run = make_run(make_agent())
    services.run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.finished_at is not None
    with pytest.raises(ValidationError) as caught:
        services.run_cancel(run=run)
    assert "already finished" in str(caught.value)


def test_a_cancelled_run_is_never_claimed_by_a_worker():
    run = make_run(make_agent())
    services.run_cancel(run=run)
    assert services.run_claim(run_id=run.pk, worker="w1") is None


def test_a_run_is_claimed_only_once():
    run = make_run(make_agent())
    assert services.run_claim(run_id=run.pk, worker="w1") is not None
    assert services.run_claim(run_id=run.pk, worker="w2") is None
    run.refresh_from_db()
    assert (run.status, run.worker) == (RunStatus.RUNNING, "w1")


def test_deleting_an_agent_deletes_its_versions_and_runs():
    agent = make_agent()
    make_run(agent)
    services.agent_delete(agent=agent)
    assert not Run.objects.exists()
    assert not AgentVersion.objects.exists()


def test_deleting_a_running_run_removes_it_and_its_steps():
    run = make_run(make_agent())
    services.run_claim(run_id=run.pk, worker="w1")
    services.run_delete(run=run)
    assert not Run.objects.exists()


def _running(worker: str, started_ago: timedelta) -> Run:
    run = make_run(make_agent())
    services.run_claim(run_id=run.pk, worker=worker)
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - started_ago)
    return run


def test_the_sweep_fails_runs_whose_worker_stopped_beating():
    dead = _running("celery@gone", timedelta(minutes=2))
    heartbeat.beat("celery@alive")
    alive = _running("celery@alive", timedelta(minutes=2))
    fresh = _running("celery@starting", timedelta(seconds=5))

    assert services.run_sweep_dead() == 1

    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert "worker running this run stopped" in dead.error
    last = dead.steps.order_by("order").last()
    assert (last.type, last.payload["kind"]) == ("error", "worker_lost")
    alive.refresh_from_db()
    fresh.refresh_from_db()
    assert alive.status == fresh.status == RunStatus.RUNNING
    heartbeat.forget("celery@alive")


def test_the_sweep_fails_a_run_that_overran_its_time_limit_even_on_a_live_worker(
    settings,
):
    settings.AGENT_RUN_TIMEOUT = 10
    heartbeat.beat("celery@alive")
    stuck = _running("celery@alive", timedelta(minutes=5))
    assert services.run_sweep_dead() == 1
    stuck.refresh_from_db()
    assert stuck.status == RunStatus.FAILED
    heartbeat.forget("celery@alive")


@pytest.mark.django_db(transaction=True)
def test_executing_a_run_saves_every_step_and_the_final_output():
    """In-process execution (the worker test covers the Celery path)."""
    agent = make_calculator_agent()
    run = make_run(agent)
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.final_output["answer"] == 45
    assert run.usage["total_tokens"] > 0
    assert run.started_at <= run.finished_at
    types = list(run.steps.order_by("order").values_list("type", flat=True))
    assert types == [
        "user-request",
        "agent-thought",
        "tool-call",
        "tool-result",
        "agent-thought",
        "tool-call",
        "tool-result",
        "agent-response",
    ]
    orders = list(run.steps.order_by("order").values_list("order", flat=True))
    assert orders == list(range(1, 9))


@pytest.mark.django_db(transaction=True)
def test_a_run_of_an_old_version_uses_that_versions_definition():
    agent = make_calculator_agent()
    services.agent_update(
        agent=agent, user=agent.owner, data={"tools": [], "output_type": None}
    )
    old = make_run(agent, version=1)
    new = make_run(agent)
    services.run_execute(run_id=old.pk, worker="test")
    services.run_execute(run_id=new.pk, worker="test")
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.final_output["answer"] == 45
    assert not new.steps.filter(type="tool-call").exists()
    assert isinstance(new.final_output, str)


@pytest.mark.django_db(transaction=True)
def test_a_worker_stops_once_its_run_is_cancelled_swept_or_deleted():
    """The recorder's stop signal: the run is no longer `running`. Once
    stopped it stays stopped, and it saves no more steps."""

    def recorder_for(run):
        recorder = DatabaseRecorder(run, next_order=2)
        recorder.STATUS_INTERVAL = 0  # read the status at every question
        return recorder

    run = make_run(make_agent())
    services.run_claim(run_id=run.pk, worker="w1")
    recorder = recorder_for(run)
    assert async_to_sync(recorder.cancelled)() is False
    Run.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    assert async_to_sync(recorder.cancelled)() is True
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    assert async_to_sync(recorder.cancelled)() is True
    assert async_to_sync(recorder.step)("agent-thought", {"text": "late"}) is None
    assert not run.steps.filter(type="agent-thought").exists()
    recorder = recorder_for(run)
    services.run_delete(run=run)
    assert async_to_sync(recorder.cancelled)() is True


def test_the_recorder_reads_the_run_status_at_most_every_interval(
    django_assert_num_queries,
):
    """Asked between every stream event, it reads the database only once per
    STATUS_INTERVAL."""
    run = make_run(make_agent())
    services.run_claim(run_id=run.pk, worker="w1")
    recorder = DatabaseRecorder(run, next_order=2)
    recorder.STATUS_INTERVAL = 60
    with django_assert_num_queries(1):
        for _ in range(50):
            assert async_to_sync(recorder.cancelled)() is False
