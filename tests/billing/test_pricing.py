"""Prices (seeded, staff-editable), the pricing list and run estimates."""

from decimal import Decimal

import pytest

from agents import services as agent_services
from agents.models import LanguageModel
from agents.services.handoffs import handoff_create
from billing import services
from billing.models import MILLI, ToolPrice
from billing.pricing import model_turn_cost, tokens_cost, tool_call_cost
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_costs_are_exact_milli_credits_rounded_up():
    assert tokens_cost(1000, Decimal("3")) == 3000
    assert tokens_cost(1, Decimal("0.5")) == 1  # 0.5 milli-credits → 1
    assert tokens_cost(0, Decimal("3")) == 0
    assert model_turn_cost(
        input_tokens=1500, output_tokens=500, input_per_1k="2", output_per_1k="3"
    ) == (3000 + 1500)
    assert tool_call_cost(per_call="1", per_1k_context="0.5", context_tokens=2000) == (
        2000
    )


def test_the_catalog_is_seeded_with_the_published_price_classes():
    prices = {
        m.identifier: (m.input_price_per_1k, m.output_price_per_1k)
        for m in LanguageModel.objects.all()
    }
    assert prices["local/demo"] == (Decimal("0.5"), Decimal("0.5"))
    assert prices["openai/gpt-4.1"] == (Decimal("3"), Decimal("3"))
    assert prices["anthropic/claude-haiku-4-5"] == (Decimal("2"), Decimal("2"))
    assert prices["anthropic/claude-sonnet-4-5"] == (Decimal("3"), Decimal("3"))
    assert prices["gemini/gemini-2.5-pro"] == (Decimal("1.5"), Decimal("1.5"))
    tools = {p.tool: (p.per_call, p.per_1k_context) for p in ToolPrice.objects.all()}
    assert tools["web_search"] == (Decimal("2"), Decimal("0"))
    assert tools["file_search"] == (Decimal("1"), Decimal("0.5"))
    assert tools["computer"] == (Decimal("3"), Decimal("0"))
    assert tools["custom"] == (Decimal("0"), Decimal("0"))


def test_visitors_can_read_the_pricing(api_client):
    body = api_client.get("/api/v1/pricing/").json()
    demo = next(m for m in body["models"] if m["id"] == "local/demo")
    assert demo["input_per_1k"] == 0.5
    assert {p["credits"]: p["price_usd"] for p in body["packs"]} == {
        100: 10,
        500: 45,
        1000: 80,
        5000: 350,
    }
    basic = next(p for p in body["plans"] if p["id"] == "basic")
    assert (basic["monthly_credits"], basic["monthly_cents"]) == (100, 2000)
    assert any(t["tool"] == "file_search" for t in body["tools"])


def test_staff_price_changes_reach_the_estimate(as_user):
    user = UserFactory(credits=0)
    services.credits_grant_signup(user=user)
    agent = make_agent(user, instructions="", model="openai/gpt-4.1")
    api = as_user(user)
    body = api.post(
        f"/api/v1/agents/{agent.pk}/estimate/", {"input": "x" * 400}, format="json"
    ).json()
    # 100 input tokens + 500 assumed output tokens at 3 credits per 1K.
    assert body["input_tokens"] == 100
    assert body["output_tokens"] == 500
    assert body["credits"] == 1.8
    assert body["enough"] is True
    LanguageModel.objects.filter(name="gpt-4.1").update(
        input_price_per_1k=Decimal("30"), output_price_per_1k=Decimal("30")
    )
    body = api.post(
        f"/api/v1/agents/{agent.pk}/estimate/", {"input": "x" * 400}, format="json"
    ).json()
    assert body["credits"] == 18
    assert body["enough"] is False
    assert body["balance"] == 10


def test_an_estimate_counts_a_second_turn_and_priced_tools(as_user):
    user = UserFactory(credits=0)
    ToolPrice.objects.filter(tool="calculator").update(per_call=Decimal("0.25"))
    # A hosted model, whose turns cannot be rehearsed as the offline one's.
    agent = make_agent(
        user,
        instructions="",
        tools=["calculator"],
        model="openai/gpt-4.1",
        model_settings={"max_output_tokens": 1000},
    )
    body = (
        as_user(user)
        .post(f"/api/v1/agents/{agent.pk}/estimate/", {"input": ""}, format="json")
        .json()
    )
    # Two turns of (150 schema tokens + 1000 output tokens) at 3, plus 0.25.
    assert body["turns"] == 2
    expected = 2 * (tokens_cost(150, Decimal("3")) + 3000) + 250
    assert body["credits"] == expected / MILLI
    assert body["enough"] is False  # no credits yet


def test_estimates_follow_who_may_see_the_agent(as_user):
    private = make_agent(UserFactory())
    response = as_user(UserFactory()).post(
        f"/api/v1/agents/{private.pk}/estimate/", {"input": "hi"}, format="json"
    )
    assert response.status_code == 404
    response = as_user(private.owner).post(
        f"/api/v1/agents/{private.pk}/estimate/", {"version": 9}, format="json"
    )
    assert response.status_code == 400
    assert "version" in response.json()


@pytest.mark.django_db(transaction=True)
def test_the_offline_models_estimate_is_its_run_rehearsed(as_user):
    """local/demo is deterministic: the estimate plays its turns (calling the
    calculator, which only computes) and matches what the run then costs."""
    user = UserFactory(credits=5)
    agent = make_agent(user, instructions="Use the calculator.", tools=["calculator"])
    question = "What is 5 + 10, then multiply by 3?"
    body = (
        as_user(user)
        .post(
            f"/api/v1/agents/{agent.pk}/estimate/", {"input": question}, format="json"
        )
        .json()
    )
    assert body["turns"] == 3  # two calculator calls, then the answer
    run = agent_services.run_start(agent=agent, user=user, input=question)
    agent_services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.cost == round(body["credits"] * MILLI)
    greeting = (
        as_user(user)
        .post(f"/api/v1/agents/{agent.pk}/estimate/", {"input": "Hi"}, format="json")
        .json()
    )
    assert greeting["turns"] == 1
    assert greeting["credits"] < body["credits"]


@pytest.mark.django_db(transaction=True)
def test_the_rehearsal_follows_agents_used_as_tools_and_handoffs():
    """An agent used as a tool is rehearsed in turn, and a handoff goes on as
    its target: the estimate is still what the run costs."""
    user = UserFactory(credits=50)
    multiplier = make_agent(
        user,
        name="Multiplier",
        description="Does arithmetic: products and times, with the calculator",
        instructions="Use the calculator.",
        tools=["calculator"],
    )
    helper = make_agent(
        user, name="Helper", instructions="Ask.", tools=[f"agent/{multiplier.pk}"]
    )
    triage = make_agent(user, name="Triage", instructions="Hand off.")
    handoff_create(
        agent=triage,
        user=user,
        target_id=multiplier.pk,
        description="Products and times",
    )
    for agent, question in [
        (helper, "What is the product of 17 times 23?"),
        (triage, "What is 12 times 7?"),
    ]:
        version = agent.versions.order_by("-number").first()
        estimate = agent_services.run_cost_estimate(
            agent=agent, definition=version.definition, input=question
        )
        assert estimate["turns"] > 2, agent.name
        run = agent_services.run_start(agent=agent, user=user, input=question)
        agent_services.run_execute(run_id=run.pk, worker="test")
        run.refresh_from_db()
        assert run.cost == estimate["milli"], agent.name
