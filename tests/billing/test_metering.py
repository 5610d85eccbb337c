"""Runs cost credits: a budget held while they run, each step charged as it
happens, the rest released, and no run without credits."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from agents import services
from agents.models import Conversation, LanguageModel, Run, RunStatus
from billing.models import MILLI, CreditAccount, EntryKind, LedgerEntry, RunBudget
from tests.agents.factories import make_calculator_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def account(user) -> CreditAccount:
    return CreditAccount.objects.get(user=user)


def test_a_run_is_charged_step_by_step_and_releases_the_rest():
    user = UserFactory(credits=100)
    run = make_run(make_calculator_agent(user))
    budget = RunBudget.objects.get(run=run)
    assert budget.reserved == 25 * MILLI  # CREDITS_RUN_BUDGET
    # It holds a part of its budget, which grows as it spends.
    assert account(user).held == budget.held < budget.reserved
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    charges = LedgerEntry.objects.filter(run=run, kind=EntryKind.RUN_CHARGE)
    spent = -sum(entry.amount for entry in charges)
    assert spent > 0
    # Each charge belongs to a step that carries it; the run has the total.
    assert sum(step.cost for step in run.steps.all()) == spent
    assert run.cost == spent
    assert account(user).balance == 100 * MILLI - spent
    assert account(user).held == 0
    # local/demo at 0.5 credits per 1K tokens: what the steps' tokens cost.
    tokens = sum(s.input_tokens + s.output_tokens for s in run.steps.all())
    assert spent == pytest.approx(tokens / 2, abs=len(charges))


def test_without_credits_no_run_starts_and_nothing_is_kept(as_user):
    user = UserFactory(credits=0)
    agent = make_calculator_agent(user)
    response = as_user(user).post(
        f"/api/v1/agents/{agent.pk}/run/", {"input": "What is 2 + 2?"}, format="json"
    )
    assert response.status_code == 400
    # Without payments set up, the way back is a promo code or the operator.
    assert "Redeem a promo code" in response.json()["credits"][0]
    assert not Run.objects.exists()
    assert not Conversation.objects.exists()


def test_two_runs_at_once_against_a_balance_for_one_start_only_one():
    user = UserFactory(credits=Decimal("1.2"))
    agent = make_calculator_agent(user)
    first = make_run(agent)
    with pytest.raises(ValidationError) as caught:
        make_run(agent)
    assert "Not enough credits for this run" in str(caught.value)
    assert Run.objects.count() == 1
    assert RunBudget.objects.get(run=first).reserved == 1200


def test_a_run_that_spends_its_budget_stops_out_of_credits_keeping_its_steps():
    user = UserFactory(credits=50)
    agent = make_calculator_agent(user)
    run = services.run_start(
        agent=agent,
        user=user,
        input="What is 5 + 10, then multiply by 3?",
        max_credits=2,
    )
    # Prices rose after the run was priced and reserved: it now costs more.
    LanguageModel.objects.filter(provider="local").update(
        input_price_per_1k=Decimal("20"), output_price_per_1k=Decimal("20")
    )
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Out of credits" in run.error
    assert run.steps.filter(type="error", payload__kind="out_of_credits").exists()
    assert run.steps.filter(type="agent-thought").exists()
    assert run.cost == 2 * MILLI
    assert account(user).balance == 48 * MILLI
    assert account(user).held == 0


def test_a_cancelled_or_deleted_run_gives_its_budget_back():
    user = UserFactory(credits=30)
    agent = make_calculator_agent(user)
    queued = make_run(agent)
    assert account(user).held == RunBudget.objects.get(run=queued).held > 0
    services.run_cancel(run=queued)
    assert account(user).held == 0
    assert account(user).balance == 30 * MILLI
    other = make_run(agent)
    other_id = other.pk
    services.run_delete(run=other)
    assert account(user).held == 0
    assert not RunBudget.objects.filter(run_id=other_id).exists()
    assert RunBudget.objects.get(run=queued).released_at is not None


def test_a_budget_must_be_a_positive_amount_of_credits(as_user):
    user = UserFactory(credits=10)
    agent = make_calculator_agent(user)
    for value in ("-1", "0"):
        response = as_user(user).post(
            f"/api/v1/agents/{agent.pk}/run/",
            {"input": "2 + 2?", "max_credits": value},
            format="json",
        )
        assert response.status_code == 400
        assert "max_credits" in response.json()
    response = as_user(user).post(
        f"/api/v1/agents/{agent.pk}/run/",
        {"input": "2 + 2?", "max_credits": "0.001"},
        format="json",
    )
    assert response.status_code == 400
    assert "more than its budget" in response.json()["credits"][0]
    assert not Run.objects.exists()


def test_the_run_panel_shows_an_estimate_and_what_to_do_without_credits(client):
    user = UserFactory(credits=0)
    agent = make_calculator_agent(user)
    client.force_login(user)
    page = client.get(f"/agents/{agent.pk}/").content.decode()
    assert 'id="run-estimate"' in page
    assert "credits a run (estimate)" in page
    response = client.post(
        f"/agents/{agent.pk}/run/",
        {"input": "What is 2 + 2?", "panel": "detail"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Not enough credits for this run" in html
    assert 'href="/credits/"' in html
    assert not Run.objects.exists()


def test_the_run_page_shows_each_steps_cost_and_the_total(client):
    user = UserFactory(credits=10)
    run = make_run(make_calculator_agent(user))
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    client.force_login(user)
    html = client.get(f"/runs/{run.pk}/").content.decode()
    first_cost = run.steps.exclude(cost=0).order_by("order").first().cost
    assert f"{first_cost / MILLI:g} credits" in html
    assert 'class="run-cost"' in html
    assert f"{run.cost / MILLI:g} credits" in html


def test_deleting_runs_in_bulk_gives_back_what_the_unfinished_ones_hold():
    user = UserFactory(credits=60)
    agent = make_calculator_agent(user)
    queued = [make_run(agent), make_run(agent)]
    holds = sum(RunBudget.objects.filter(run__in=queued).values_list("held", flat=True))
    assert account(user).held == holds > 0
    deleted = services.run_delete_many(user=user, run_ids=[r.pk for r in queued])
    assert deleted == 2
    assert account(user).held == 0
    assert account(user).balance == 60 * MILLI
