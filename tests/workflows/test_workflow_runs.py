"""Workflow runs, node kind by node kind, on the offline demo model (and the
local fake OpenAI server where a model must say something particular): the
steps each node leaves, retries and fallbacks, failures of a branch or of the
whole workflow, approvals, and one budget that pauses the run when spent."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from agents.models import LanguageModel, Run, RunStatus
from billing.models import MILLI, CreditAccount, LedgerEntry
from tests.agents.factories import make_agent
from tests.agents.fake_llm import FakeLLM, fail, text
from tests.community.factories import UserFactory
from workflows.models import Workflow, WorkflowRun
from workflows.runs import workflow_run_execute, workflow_run_start
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True)


def workflow(owner, nodes, edges=(), entry=None, name="Flow") -> Workflow:
    graph = {"entry": entry or nodes[0]["id"], "nodes": nodes, "edges": list(edges)}
    return workflow_create(owner=owner, data={"name": name, "graph": graph})


def run(flow, user=None, input="Write about tides.", **options) -> Run:
    started = workflow_run_start(
        workflow=flow, user=user or flow.owner, input=input, **options
    )
    workflow_run_execute(run_id=started.pk, worker="test")
    started.refresh_from_db()
    return started


def steps(run, type=None, **payload):
    found = run.steps.order_by("order")
    if type:
        found = found.filter(type=type)
    for key, value in payload.items():
        found = found.filter(**{f"payload__{key}": value})
    return list(found)


def node_events(run) -> list[tuple[str, str]]:
    return [(s.payload["key"], s.payload["event"]) for s in steps(run, "node")]


@pytest.fixture
def owner():
    return UserFactory(credits=100)


def agent(owner, name, **data):
    data.setdefault("instructions", f"You are {name}.")
    return make_agent(owner, name=name, **data)


def test_a_sequential_chain_feeds_each_node_the_one_before(owner):
    research, outline, draft = (
        agent(owner, name, instructions=f"You are {name}. Summarize what you get.")
        for name in ("Researcher", "Outliner", "Drafter")
    )
    flow = workflow(
        owner,
        [
            {"id": "chain", "kind": "sequential", "steps": ["r", "o", "d"]},
            {"id": "r", "kind": "agent", "agent": research.pk},
            {"id": "o", "kind": "agent", "agent": outline.pk},
            {"id": "d", "kind": "agent", "agent": draft.pk},
        ],
    )
    done = run(flow, input="Tides follow the moon around the earth every day.")
    assert done.status == RunStatus.COMPLETED, done.error
    answers = steps(done, "agent-response")
    assert [(s.payload["node"], s.payload["agent"]) for s in answers] == [
        ("r", "Researcher"),
        ("o", "Outliner"),
        ("d", "Drafter"),
    ]
    # Each summarized what it was given: the one before's answer.
    for answer in answers:
        assert answer.payload["text"].endswith(
            "\nTides follow the moon around the earth every day."
        )
    assert done.final_output == answers[2].payload["text"]
    assert node_events(done) == [
        ("chain", "started"),
        ("chain/r", "completed"),
        ("chain/o", "completed"),
        ("chain/d", "completed"),
        ("chain", "completed"),
    ]
    # Each agent step is priced at its agent's model and tagged with it.
    assert {s.payload["model"] for s in answers} == {"local/demo"}
    state = WorkflowRun.objects.get(pk=done.pk).state
    assert set(state["results"]) == {"chain", "chain/r", "chain/o", "chain/d"}


def test_parallel_branches_each_get_a_lane_and_the_aggregate_joins_them(owner):
    names = ("Historian", "Physicist", "Poet")
    branches = [agent(owner, name) for name in names]
    flow = workflow(
        owner,
        [
            {"id": "fan", "kind": "parallel", "branches": ["h", "p", "v"]},
            {"id": "h", "kind": "agent", "agent": branches[0].pk},
            {"id": "p", "kind": "agent", "agent": branches[1].pk},
            {"id": "v", "kind": "agent", "agent": branches[2].pk},
            {"id": "join", "kind": "aggregate", "mode": "join", "separator": "\n--\n"},
        ],
        edges=[{"from": "fan", "to": "join"}],
    )
    done = run(flow)
    assert done.status == RunStatus.COMPLETED, done.error
    (started,) = steps(done, "node", key="fan", event="started")
    assert [b["node"] for b in started.payload["branches"]] == ["h", "p", "v"]
    lanes = {
        s.payload["node"]: s.payload["lane"] for s in steps(done, "agent-response")
    }
    assert lanes == {
        "h": f"{started.order}-0",
        "p": f"{started.order}-1",
        "v": f"{started.order}-2",
    }
    pieces = done.final_output.split("\n--\n")
    assert pieces == [
        steps(done, "agent-response", node=node)[0].payload["text"]
        for node in ("h", "p", "v")
    ]


def test_a_failed_branch_stops_only_itself(owner):
    good = agent(owner, "Good")
    # No OpenAI key on this site: the branch fails, saying so.
    bad = agent(owner, "Keyless", model="openai/gpt-4.1-mini")
    flow = workflow(
        owner,
        [
            {"id": "fan", "kind": "parallel", "branches": ["good", "bad"]},
            {"id": "good", "kind": "agent", "agent": good.pk},
            {"id": "bad", "kind": "agent", "agent": bad.pk},
        ],
    )
    done = run(flow)
    assert done.status == RunStatus.COMPLETED, done.error
    (answer,) = steps(done, "agent-response")
    assert answer.payload["agent"] == "Good"
    assert answer.payload["text"] in done.final_output
    (note,) = steps(done, "node", event="branches_failed")
    assert "No OpenAI API key" in note.payload["failed"]["bad"]
    assert steps(done, "node", key="fan/bad", event="failed")


def test_a_failed_node_outside_a_parallel_fails_the_workflow_with_the_reason(owner):
    first = agent(owner, "First")
    keyless = agent(owner, "Keyless", model="openai/gpt-4.1-mini")
    never = agent(owner, "Never")
    flow = workflow(
        owner,
        [
            {"id": "a", "kind": "agent", "agent": first.pk},
            {"id": "b", "kind": "agent", "agent": keyless.pk},
            {"id": "c", "kind": "agent", "agent": never.pk},
        ],
        edges=[{"from": "a", "to": "b"}, {"from": "b", "to": "c"}],
    )
    done = run(flow)
    assert done.status == RunStatus.FAILED
    assert done.error.startswith("The node b failed:")
    assert "No OpenAI API key" in done.error
    assert not steps(done, node="c")
    assert steps(done, "error", kind="node_failed")


@pytest.mark.parametrize(
    ("question", "category", "target", "default"),
    [
        ("A math question: what is 12 times 7?", "math", "solve", False),
        ("Which history books about Rome?", "history", "explain", False),
        ("Sing me something", "math", "explain", True),
    ],
)
def test_the_router_picks_a_branch_by_category_and_confidence(
    owner, question, category, target, default
):
    classifier = agent(owner, "Classifier")
    solver = agent(owner, "Solver")
    explainer = agent(owner, "Explainer")
    flow = workflow(
        owner,
        [
            {
                "id": "route",
                "kind": "router",
                "agent": classifier.pk,
                "routes": {"math": "solve", "history": "explain"},
                "default": "explain",
            },
            {"id": "solve", "kind": "agent", "agent": solver.pk},
            {"id": "explain", "kind": "agent", "agent": explainer.pk},
        ],
    )
    done = run(flow, input=question)
    assert done.status == RunStatus.COMPLETED, done.error
    (routed,) = steps(done, "node", event="routed")
    assert routed.payload["to"] == target
    assert routed.payload["default"] is default
    if not default:
        assert routed.payload["category"] == category
        assert routed.payload["confidence"] > 0.5
    else:
        # Close to no category: the demo classifier answers "other".
        assert routed.payload["category"] == "other"
    answers = steps(done, "agent-response")
    assert [a.payload["node"] for a in answers] == ["route", target]


def test_a_router_with_no_match_and_no_default_fails_clearly(owner):
    classifier = agent(owner, "Classifier")
    solver = agent(owner, "Solver")
    flow = workflow(
        owner,
        [
            {
                "id": "route",
                "kind": "router",
                "agent": classifier.pk,
                "routes": {"math": "solve"},
            },
            {"id": "solve", "kind": "agent", "agent": solver.pk},
        ],
    )
    done = run(flow, input="Sing me something")
    assert done.status == RunStatus.FAILED
    assert "matches no route, and the router has no default" in done.error


@pytest.fixture
def openai_fake(settings):
    with FakeLLM() as fake:
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_BASE_URL = fake.openai_base_url
        settings.AGENT_PROVIDER_RETRIES = 0
        settings.WORKFLOW_RETRY_DELAY = 0.01
        yield fake


def loop_flow(owner, max_iterations=3):
    writer = agent(owner, "Writer", model="openai/gpt-4.1-mini")
    reviewer = agent(owner, "Reviewer", model="openai/gpt-4.1-mini")
    return workflow(
        owner,
        [
            {
                "id": "polish",
                "kind": "loop",
                "worker": "write",
                "reviewer": "review",
                "max_iterations": max_iterations,
            },
            {"id": "write", "kind": "agent", "agent": writer.pk},
            {"id": "review", "kind": "agent", "agent": reviewer.pk},
        ],
    )


def test_a_loop_repeats_until_the_reviewer_passes_the_work(owner, openai_fake):
    openai_fake.script = [
        text("Tides rise and fall."),
        text('{"verdict": "revise", "feedback": "Mention the moon."}'),
        text("The moon makes the tides rise and fall."),
        text('{"verdict": "pass", "feedback": "Good."}'),
    ]
    done = run(loop_flow(owner))
    assert done.status == RunStatus.COMPLETED, done.error
    reviews = steps(done, "node", event="reviewed")
    assert [(r.payload["round"], r.payload["verdict"]) for r in reviews] == [
        (1, "revise"),
        (2, "pass"),
    ]
    drafts = steps(done, "agent-response", node="write")
    assert [d.payload["key"] for d in drafts] == ["polish/1/write", "polish/2/write"]
    # The second round saw the first draft and the feedback.
    second_round = json.dumps(openai_fake.model_requests[2]["body"])
    assert "Mention the moon" in second_round
    assert "Tides rise and fall." in second_round
    assert done.final_output == "The moon makes the tides rise and fall."
    (passed,) = steps(done, "node", event="passed")
    assert passed.payload["rounds"] == 2
    # The reviewer was asked for a verdict, with the task and the work.
    body = openai_fake.model_requests[1]["body"]
    assert body["text"]["format"]["schema"]["properties"]["verdict"]["enum"] == [
        "pass",
        "revise",
    ]


def test_a_loop_stops_at_its_limit_with_the_last_draft(owner, openai_fake):
    openai_fake.script = [
        text("A long draft."),
        text('{"verdict": "revise", "feedback": "Shorter."}'),
        text("A draft."),
        text('{"verdict": "revise", "feedback": "Shorter still."}'),
    ]
    done = run(loop_flow(owner, max_iterations=2))
    assert done.status == RunStatus.COMPLETED, done.error
    (limit,) = steps(done, "node", event="max_iterations")
    assert limit.payload["rounds"] == 2
    assert limit.payload["feedback"] == "Shorter still."
    assert len(steps(done, "agent-response", node="write")) == 2


def test_an_agent_node_retries_with_backoff_then_succeeds(owner, openai_fake):
    flaky = agent(owner, "Flaky", model="openai/gpt-4.1-mini")
    flow = workflow(
        owner, [{"id": "a", "kind": "agent", "agent": flaky.pk, "retries": 2}]
    )
    openai_fake.script = [fail(500, "boom"), fail(500, "boom"), text("Third time.")]
    done = run(flow)
    assert done.status == RunStatus.COMPLETED, done.error
    assert done.final_output == "Third time."
    retries = steps(done, "node", event="retry")
    assert [r.payload["attempt"] for r in retries] == [2, 3]
    assert [r.payload["delay"] for r in retries] == [0.01, 0.02]
    assert "500" in retries[0].payload["reason"]


def test_when_retries_are_spent_the_fallback_agent_answers(owner, openai_fake):
    flaky = agent(owner, "Flaky", model="openai/gpt-4.1-mini")
    steady = agent(owner, "Steady")
    flow = workflow(
        owner,
        [
            {
                "id": "a",
                "kind": "agent",
                "agent": flaky.pk,
                "retries": 1,
                "fallback_agent": steady.pk,
            }
        ],
    )
    openai_fake.script = [fail(500, "boom"), fail(503, "down")]
    done = run(flow)
    assert done.status == RunStatus.COMPLETED, done.error
    (fallback,) = steps(done, "node", event="fallback")
    assert fallback.payload["agent"] == "Steady"
    answer = steps(done, "agent-response")[-1]
    assert answer.payload["agent"] == "Steady"
    assert done.final_output == answer.payload["text"]


def test_an_input_template_reads_the_workflow_input_and_earlier_nodes(owner):
    first = agent(owner, "First", instructions="Summarize what you get.")
    second = agent(owner, "Second", instructions="Summarize what you get.")
    flow = workflow(
        owner,
        [
            {"id": "a", "kind": "agent", "agent": first.pk},
            {
                "id": "b",
                "kind": "agent",
                "agent": second.pk,
                "input": "Original: {{input}} / A said: {{ a }}",
            },
        ],
        edges=[{"from": "a", "to": "b"}],
    )
    done = run(flow, input="Kelp forests grow fast in cold and clear water.")
    answer = steps(done, "agent-response", node="b")[0].payload["text"]
    assert (
        "Original: Kelp forests grow fast in cold and clear water. / A said: " in answer
    )


def approval_flow(owner):
    drafter = agent(owner, "Drafter")
    sender = agent(owner, "Sender")
    return workflow(
        owner,
        [
            {"id": "draft", "kind": "agent", "agent": drafter.pk},
            {"id": "ok", "kind": "approval", "message": "Send it?"},
            {"id": "send", "kind": "agent", "agent": sender.pk},
        ],
        edges=[{"from": "draft", "to": "ok"}, {"from": "ok", "to": "send"}],
    )


def test_an_approval_pauses_the_run_and_approving_resumes_it(owner, as_user):
    done = run(approval_flow(owner))
    assert done.status == RunStatus.PAUSED
    workflow_run = WorkflowRun.objects.get(pk=done.pk)
    assert workflow_run.paused_reason == "approval"
    assert [w["node"] for w in workflow_run.waiting] == ["ok"]
    (asked,) = steps(done, "approval", event="requested")
    assert asked.payload["message"] == "Send it?"
    assert (
        asked.payload["text"]
        == done.steps.get(type="agent-response", payload__node="draft").payload["text"]
    )
    # Paused: nothing held.
    assert CreditAccount.objects.get(user=owner).held == 0
    client = as_user(owner)
    body = client.get(f"/api/v1/runs/{done.pk}/").json()
    assert body["status"] == "paused"
    assert body["workflow"]["waiting"][0]["message"] == "Send it?"

    decided = client.post(
        f"/api/v1/runs/{done.pk}/approval/",
        {"decision": "approve", "comment": "Looks right"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "queued"
    assert CreditAccount.objects.get(user=owner).held > 0
    workflow_run_execute(run_id=done.pk, worker="test")
    done.refresh_from_db()
    assert done.status == RunStatus.COMPLETED, done.error
    assert (
        done.final_output
        == done.steps.get(type="agent-response", payload__node="send").payload["text"]
    )
    # The drafter ran once: its result came from the saved state.
    assert len(steps(done, "agent-response", node="draft")) == 1
    (approved,) = steps(done, "approval", event="approved")
    assert approved.payload["by"] == owner.username
    assert approved.payload["comment"] == "Looks right"
    assert CreditAccount.objects.get(user=owner).held == 0


def test_rejecting_fails_the_run_with_who_and_why(owner, as_user):
    done = run(approval_flow(owner))
    client = as_user(owner)
    decided = client.post(
        f"/api/v1/runs/{done.pk}/approval/",
        {"decision": "reject", "comment": "Wrong tone"},
        format="json",
    )
    assert decided.status_code == 200
    workflow_run_execute(run_id=done.pk, worker="test")
    done.refresh_from_db()
    assert done.status == RunStatus.FAILED
    assert f"{owner.username} rejected it: Wrong tone" in done.error
    assert not steps(done, node="send")


def test_approvals_are_the_run_starters_and_only_while_waiting(owner, as_user):
    done = run(approval_flow(owner))
    stranger = UserFactory()
    url = f"/api/v1/runs/{done.pk}/approval/"
    assert (
        as_user(stranger).post(url, {"decision": "approve"}, format="json").status_code
        == 404
    )
    client = as_user(owner)
    bad = client.post(url, {"decision": "maybe"}, format="json")
    assert bad.status_code == 400
    assert "decision" in bad.json()
    wrong_key = client.post(url, {"decision": "approve", "key": "nope"}, format="json")
    assert wrong_key.status_code == 400
    assert "key" in wrong_key.json()
    assert client.post(url, {"decision": "approve"}, format="json").status_code == 200
    again = client.post(url, {"decision": "approve"}, format="json")
    assert again.status_code == 400
    assert again.json()["run"] == ["This run is not waiting for an approval."]
    assert len(steps(done, "approval", event="approved")) == 1


def test_one_budget_for_the_whole_workflow_pauses_it_out_of_credits(owner, as_user):
    names = ("One", "Two", "Three")
    agents = [agent(owner, name) for name in names]
    flow = workflow(
        owner,
        [{"id": f"n{i}", "kind": "agent", "agent": a.pk} for i, a in enumerate(agents)],
        edges=[{"from": "n0", "to": "n1"}, {"from": "n1", "to": "n2"}],
    )
    done = workflow_run_start(workflow=flow, user=owner, input="Go", max_credits=2)
    # Prices rose after it started: each demo turn now costs about a credit.
    LanguageModel.objects.filter(provider="local").update(
        input_price_per_1k=Decimal("20"), output_price_per_1k=Decimal("20")
    )
    workflow_run_execute(run_id=done.pk, worker="test")
    done.refresh_from_db()
    assert done.status == RunStatus.PAUSED
    assert WorkflowRun.objects.get(pk=done.pk).paused_reason == "out_of_credits"
    assert steps(done, "error", kind="out_of_credits")
    assert done.cost == 2 * MILLI
    assert CreditAccount.objects.get(user=owner).held == 0
    finished = set(WorkflowRun.objects.get(pk=done.pk).state["results"])
    assert "n2" not in finished

    resumed = as_user(owner).post(
        f"/api/v1/runs/{done.pk}/resume/", {"max_credits": "50"}, format="json"
    )
    assert resumed.status_code == 200, resumed.content
    workflow_run_execute(run_id=done.pk, worker="test")
    done.refresh_from_db()
    assert done.status == RunStatus.COMPLETED, done.error
    # Nodes finished before the pause did not run again.
    for key in finished:
        assert len(steps(done, "agent-response", node=key)) == 1
    # Every node's charges are the run's, each saying which node and agent.
    charges = LedgerEntry.objects.filter(run=done)
    assert sum(-c.amount for c in charges) == done.cost
    assert any("n2 (Three)" in c.description for c in charges)
    assert CreditAccount.objects.get(user=owner).held == 0


def test_workflows_are_run_over_the_api(owner, as_user):
    solo = agent(owner, "Solo")
    flow = workflow(owner, [{"id": "a", "kind": "agent", "agent": solo.pk}])
    client = as_user(owner)
    url = f"/api/v1/workflows/{flow.pk}/run/"
    started = client.post(url, {"input": "Hello"}, format="json")
    assert started.status_code == 202, started.content
    body = started.json()
    assert body["status"] == "queued"
    assert body["agent"] is None
    assert body["workflow"]["name"] == "Flow"
    empty = client.post(url, {"input": "   "}, format="json")
    assert empty.status_code == 400
    assert "input" in empty.json()
    assert client.post(url, "[1]", content_type="application/json").status_code == 400
    # Someone else's private workflow: not found; a public one runs.
    other = as_user(UserFactory(credits=10))
    assert other.post(url, {"input": "Hi"}, format="json").status_code == 404
    Workflow.objects.filter(pk=flow.pk).update(visibility="public")
    assert other.post(url, {"input": "Hi"}, format="json").status_code == 202
    listed = as_user(owner).get(f"/api/v1/runs/?workflow={flow.pk}").json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    assert Run.objects.filter(workflow_run__workflow=flow).count() == 2


def test_a_workflow_whose_agent_is_gone_cannot_start(owner, as_user):
    solo = agent(owner, "Solo")
    flow = workflow(owner, [{"id": "a", "kind": "agent", "agent": solo.pk}])
    solo.delete()
    response = as_user(owner).post(
        f"/api/v1/workflows/{flow.pk}/run/", {"input": "Hi"}, format="json"
    )
    assert response.status_code == 400
    assert "cannot run as it is" in response.json()["graph"][0]
    assert not Run.objects.exists()


def test_an_aggregate_agent_merges_what_several_nodes_lead_to_it(owner):
    """Two nodes fed by one edge each run at once (fan-out by edges) and an
    aggregate with an agent merges both of their outputs (fan-in)."""
    left, right, merger = (
        agent(owner, name, instructions="Summarize what you get.")
        for name in ("Left", "Right", "Merger")
    )
    flow = workflow(
        owner,
        [
            {"id": "start", "kind": "approval"},
            {"id": "l", "kind": "agent", "agent": left.pk},
            {"id": "r", "kind": "agent", "agent": right.pk},
            {"id": "merge", "kind": "aggregate", "mode": "agent", "agent": merger.pk},
        ],
        edges=[
            {"from": "start", "to": "l"},
            {"from": "start", "to": "r"},
            {"from": "l", "to": "merge"},
            {"from": "r", "to": "merge"},
        ],
    )
    paused = run(flow, input="The moon pulls the sea, and the sun helps a little.")
    assert paused.status == RunStatus.PAUSED
    from workflows.runs import workflow_run_decide

    workflow_run_decide(run=paused, user=owner, decision="approve")
    workflow_run_execute(run_id=paused.pk, worker="test")
    paused.refresh_from_db()
    assert paused.status == RunStatus.COMPLETED, paused.error
    (merged,) = steps(paused, "agent-response", node="merge")
    # The merger was asked to merge both, each under its node's name.
    assert merged.payload["agent"] == "Merger"
    assert (
        "The moon pulls the sea, and the sun helps a little."
        in (merged.payload["text"])
    )
    assert paused.final_output == merged.payload["text"]
    state = WorkflowRun.objects.get(pk=paused.pk).state
    assert set(state["results"]["merge"]["parts"]) == {"l", "r"}


def test_a_paused_run_can_be_cancelled_and_then_nothing_resumes_it(owner, as_user):
    done = run(approval_flow(owner))
    client = as_user(owner)
    cancelled = client.post(f"/api/v1/runs/{done.pk}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    late = client.post(
        f"/api/v1/runs/{done.pk}/approval/", {"decision": "approve"}, format="json"
    )
    assert late.status_code == 400
    assert CreditAccount.objects.get(user=owner).held == 0
    # Its page no longer offers the decision, and says it was cancelled last.
    page = Client()
    page.force_login(owner)
    html = page.get(f"/runs/{done.pk}/").content.decode()
    assert 'class="approval-actions"' not in html
    last = Run.objects.get(pk=done.pk).steps.order_by("order").last()
    assert last.type == "cancelled"


def _claimed_by_a_dead_worker(run) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from agents.services.runs import run_claim

    assert run_claim(run_id=run.pk, worker="gone@nowhere") is not None
    Run.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - timedelta(minutes=5)
    )


def test_a_workflow_whose_worker_died_goes_on_from_its_last_finished_node(
    owner, monkeypatch
):
    from agents.services.runs import run_sweep_dead
    from workflows import tasks
    from workflows.runs import workflow_run_decide

    monkeypatch.setattr(tasks.workflow_run_execute_task, "delay", lambda run_id: None)
    paused = run(approval_flow(owner))
    workflow_run_decide(run=paused, user=owner, decision="approve")
    _claimed_by_a_dead_worker(paused)
    assert run_sweep_dead() == 1
    paused.refresh_from_db()
    assert paused.status == RunStatus.QUEUED
    assert steps(paused, "node", event="recovered")
    workflow_run_execute(run_id=paused.pk, worker="test")
    paused.refresh_from_db()
    assert paused.status == RunStatus.COMPLETED, paused.error
    assert len(steps(paused, "agent-response", node="draft")) == 1
    assert WorkflowRun.objects.get(pk=paused.pk).state["recoveries"] == 1


def test_a_workflow_that_keeps_losing_its_worker_fails_in_the_end(owner, monkeypatch):
    from agents.services.runs import run_sweep_dead
    from workflows import tasks
    from workflows.runs import MAX_RECOVERIES

    monkeypatch.setattr(tasks.workflow_run_execute_task, "delay", lambda run_id: None)
    started = workflow_run_start(workflow=approval_flow(owner), user=owner, input="Go")
    for _attempt in range(MAX_RECOVERIES):
        _claimed_by_a_dead_worker(started)
        run_sweep_dead()
        assert Run.objects.get(pk=started.pk).status == RunStatus.QUEUED
    _claimed_by_a_dead_worker(started)
    run_sweep_dead()
    started.refresh_from_db()
    assert started.status == RunStatus.FAILED
    assert "worker running this run stopped" in started.error
    assert CreditAccount.objects.get(user=owner).held == 0


def test_an_agent_node_keeps_its_agents_own_limit_per_run(owner):
    """Charged as a run of that agent: its owner's cap stops it there."""
    thrifty = agent(owner, "Thrifty", max_credits_per_run="0.05")
    after = agent(owner, "After")
    flow = workflow(
        owner,
        [
            {"id": "a", "kind": "agent", "agent": thrifty.pk},
            {"id": "b", "kind": "agent", "agent": after.pk},
        ],
        edges=[{"from": "a", "to": "b"}],
    )
    started = workflow_run_start(workflow=flow, user=owner, input="Go")
    LanguageModel.objects.filter(provider="local").update(
        input_price_per_1k=Decimal("20"), output_price_per_1k=Decimal("20")
    )
    workflow_run_execute(run_id=started.pk, worker="test")
    started.refresh_from_db()
    assert started.status == RunStatus.FAILED
    assert "Thrifty spent its limit of 0.05 credits a run" in started.error
    assert steps(started, "error", kind="agent_cap")
    spent_on_a = sum(s.cost for s in steps(started, node="a"))
    assert spent_on_a == 50  # milli-credits: the cap, not what it would cost
    assert not steps(started, node="b")


def test_deleting_a_workflow_deletes_its_runs_everyone_s_and_frees_their_credits(
    owner, as_user
):
    flow = approval_flow(owner)
    Workflow.objects.filter(pk=flow.pk).update(visibility="public")
    flow.refresh_from_db()
    other = UserFactory(credits=20)
    mine = run(flow)
    theirs = workflow_run_start(workflow=flow, user=other, input="Queued")
    assert CreditAccount.objects.get(user=other).held > 0
    assert as_user(owner).delete(f"/api/v1/workflows/{flow.pk}/").status_code == 204
    assert not Run.objects.filter(pk__in=[mine.pk, theirs.pk]).exists()
    assert not WorkflowRun.objects.exists()
    assert CreditAccount.objects.get(user=other).held == 0
    client = as_user(other)
    assert client.get("/api/v1/runs/").status_code == 200
    # A bulk delete (the admin's) takes the runs too.
    flow = approval_flow(owner)
    Workflow.objects.filter(pk=flow.pk).update(visibility="public")
    flow.refresh_from_db()
    theirs = workflow_run_start(workflow=flow, user=other, input="Again")
    Workflow.objects.filter(pk=flow.pk).delete()
    assert not Run.objects.filter(pk=theirs.pk).exists()
    assert CreditAccount.objects.get(user=other).held == 0
