"""Every showcase agent and workflow of the demo data answers its own example
prompts correctly on the offline model, run end to end through the real run
services (the handbook ingested for real, the calculator and file search
called as tools), with each answer's content checked."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from agents import services
from agents.models import Agent, Run, RunStatus
from agents.payloads import run_to_dict
from tests.agents.factories import make_run
from tests.community.factories import UserFactory
from workflows.demo import WORKFLOW_EXAMPLE_PROMPTS
from workflows.models import Workflow
from workflows.runs import workflow_run_decide, workflow_run_execute, workflow_run_start

pytestmark = pytest.mark.django_db(transaction=True)

HONEST = "The offline model (local/demo) cannot write"


def has(*parts: str):
    def check(answer: str) -> None:
        for part in parts:
            assert part in answer, f"{part!r} not in {answer!r}"

    return check


def honest(answer: str) -> None:
    assert answer.startswith(HONEST), answer
    assert "OPENAI_API_KEY" in answer


def structured(**expected):
    def check(answer) -> None:
        assert isinstance(answer, dict), answer
        for key, value in expected.items():
            if callable(value):
                value(answer[key])
            else:
                assert answer[key] == value, answer

    return check


def above(threshold: float):
    def check(value) -> None:
        assert value > threshold

    return check


def mentions(*parts: str):
    def check(value) -> None:
        for part in parts:
            assert part in value, f"{part!r} not in {value!r}"

    return check


# (owner/slug, example prompt): what its answer must be.
EXPECTED = {
    ("alice", "arithmetic-tutor", "What is 5 + 10, then multiply by 3?"): structured(
        answer=45, explanation=mentions("5 + 10 = 15", "15 * 3 = 45")
    ),
    ("alice", "arithmetic-tutor", "What is 12.5% of 640?"): structured(
        answer=80, explanation=mentions("(12.5 / 100 * 640) = 80")
    ),
    ("alice", "world-clock", "What time is it in Tokyo?"): has(
        "current_time says:", "Asia/Tokyo"
    ),
    ("alice", "world-clock", "Is it morning in Lima?"): has(
        "current_time says:", "America/Lima"
    ),
    ("bob", "study-helper", "Help me check 17 times 23 for my homework."): has("391"),
    ("alice", "haiku-poet", "Autumn rain on a tin roof"): honest,
    ("alice", "haiku-poet", "Monday mornings"): honest,
    # Bob's fork of the Haiku poet keeps its examples.
    ("bob", "seasonal-haiku", "Autumn rain on a tin roof"): honest,
    ("bob", "seasonal-haiku", "Monday mornings"): honest,
    ("bob", "code-reviewer", "def add(a, b): return a - b"): honest,
    (
        "bob",
        "meeting-summarizer",
        "Notes: we agreed to ship Friday; Ana owns the release notes.",
    ): has("we agreed to ship Friday.", "Ana owns the release notes."),
    ("bob", "meeting-summarizer", None): has(
        "In short (the 2 most central sentences, quoted as written):\n"
        "Sales wants the billing page first. "
        "The team agreed to ship the billing page on April 14."
    ),
    ("alice", "trivia-host", "Start a quiz about space."): honest,
    (
        "alice",
        "ticket-sorter",
        "I was charged twice on my invoice this month.",
    ): structured(category="billing", confidence=above(0.5)),
    ("alice", "ticket-sorter", "How do I reset my password?"): structured(
        category="account", confidence=above(0.5)
    ),
    ("alice", "ticket-sorter", "Write a haiku about autumn"): structured(
        category="other"
    ),
    ("alice", "hr-helper", "How many days of paid holiday do we get?"): has(
        "From acme-handbook.md, section “Holidays”",
        "25 days of paid holiday a year",
    ),
    ("alice", "hr-helper", "What is the meal allowance on business trips?"): has(
        "From acme-handbook.md, section “Expenses”", "40 euros a day"
    ),
    ("alice", "hr-helper", "What is the dress code?"): has(
        "Nothing in your files about dress code."
    ),
    (
        "alice",
        "hr-helper",
        "Summarize what the handbook says about expenses in 2 bullet points",
    ): has("In short (the 2 most central points", "- ", "Sources: acme-handbook.md"),
    ("alice", "support-answers", "How do I reset my password?"): has(
        "From acme-support-faq.md, section “Account”", "Forgot password"
    ),
    ("bob", "triage", "What is 12 times 7, plus 5?"): has(
        "12 * 7 = 84, then 84 + 5 = 89. The answer is 89."
    ),
    (
        "bob",
        "triage",
        "Who was the first emperor of Rome, and how did the empire begin?",
    ): honest,
}


@pytest.fixture
def demo():
    call_command("seed_demo")
    return UserFactory(credits=1000)


def answer_of(run: Run):
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    return run.final_output


def test_every_showcase_agent_answers_its_example_prompts_correctly(demo):
    showcased = Agent.objects.exclude(example_prompts=[]).select_related("owner")
    tried = set()
    for agent in showcased:
        for prompt in agent.example_prompts:
            key = (agent.owner.username, agent.slug, prompt)
            if key not in EXPECTED:
                # A long example is listed by agent only.
                key = (agent.owner.username, agent.slug, None)
            assert key in EXPECTED, f"no expected answer for {key}"
            run = make_run(agent, user=demo, input=prompt)
            services.run_execute(run_id=run.pk, worker="test")
            answer = answer_of(run)
            EXPECTED[key](answer)
            # Labelled as the offline model's, the Study helper's fallback too.
            steps = list(run.steps.order_by("order"))
            assert run_to_dict(run, steps=steps)["model"] == "local/demo"
            tried.add(key)
    assert tried == set(EXPECTED)


def test_the_run_page_labels_the_offline_models_answer(demo):
    tutor = Agent.objects.get(owner__username="alice", slug="haiku-poet")
    run = make_run(tutor, user=demo, input="Autumn rain on a tin roof")
    services.run_execute(run_id=run.pk, worker="test")
    client = Client()
    client.force_login(demo)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'class="badge badge-offline"' in page
    assert ">Offline model</span>" in page
    body = client.get(f"/api/v1/runs/{run.pk}/").json()
    assert body["model"] == "local/demo"
    (answer,) = [s for s in body["steps"] if s["type"] == "agent-response"]
    assert answer["model"] == "local/demo"


def test_the_arithmetic_is_done_by_the_calculator_tool(demo):
    tutor = Agent.objects.get(owner__username="alice", slug="arithmetic-tutor")
    run = make_run(tutor, user=demo, input="What is 12.5% of 640?")
    services.run_execute(run_id=run.pk, worker="test")
    (result,) = run.steps.filter(type="tool-result")
    assert result.payload["name"] == "calculator"
    assert result.payload["output"] == "80"


def start(name: str, user, prompt: str) -> Run:
    run = workflow_run_start(
        workflow=Workflow.objects.get(name=name), user=user, input=prompt
    )
    workflow_run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    return run


def test_the_homework_explainer_answers_its_example_prompts(demo):
    expected = {
        "What is 12 times 7, plus 5?": "The answer is 89.",
        "7, then multiply by 2": "The answer is 14.",
    }
    assert list(expected) == WORKFLOW_EXAMPLE_PROMPTS["Homework explainer"]
    for prompt, answer in expected.items():
        run = start("Homework explainer", demo, prompt)
        assert run.status == RunStatus.PAUSED, run.error
        (routed,) = run.steps.filter(type="node", payload__event="routed")
        assert routed.payload["to"] == "math"
        assert routed.payload["confidence"] > 0.5
        reviews = run.steps.filter(type="node", payload__event="reviewed")
        assert [review.payload["verdict"] for review in reviews] == ["pass"]
        workflow_run_decide(run=run, user=demo, decision="approve")
        workflow_run_execute(run_id=run.pk, worker="test")
        final = answer_of(run)
        assert answer in final
        assert "calculator says" not in final
        assert not final.endswith("…")


def test_the_support_desk_sorts_each_ticket_and_answers_from_the_faq(demo):
    expected = {
        "I was charged twice on my invoice this month.": (
            "billing",
            "section “Billing”",
            "refunded automatically within five working days",
        ),
        "The app crashes when I upload a file": (
            "technical",
            "section “Technical problems”",
            "under 20 MB",
        ),
        "How do I reset my password?": (
            "account",
            "section “Account”",
            "Forgot password",
        ),
    }
    examples = WORKFLOW_EXAMPLE_PROMPTS["Support desk"]
    assert [*expected, "Write a haiku about autumn"] == examples
    for prompt, (team, section, quoted) in expected.items():
        run = start("Support desk", demo, prompt)
        final = answer_of(run)
        (routed,) = run.steps.filter(type="node", payload__event="routed")
        assert routed.payload["to"] == team
        assert routed.payload["confidence"] > 0.5
        assert final.startswith(f"From acme-support-faq.md, {section}:")
        assert quoted in final
    # A ticket no team fits goes to a person.
    run = start("Support desk", demo, "Write a haiku about autumn")
    assert run.status == RunStatus.PAUSED, run.error
    (routed,) = run.steps.filter(type="node", payload__event="routed")
    assert routed.payload["category"] == "other"
    assert routed.payload["to"] == "person"
