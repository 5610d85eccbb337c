"""What starting a run and saving its steps cost the database, and that the
cheaper paths keep their guarantees: a bounded number of statements for the
POST, a revoked key refused at once, holds as before, and a step saved only
while its run runs, with what it was charged."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from agents import services
from agents.models import Conversation, Run, RunStep
from agents.services.runs import run_step_record
from billing.models import MILLI, CreditAccount, LedgerEntry, RunBudget
from community.services import api_key_create, api_key_revoke
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

QUESTION = "What is 5 + 10, then multiply by 3, then subtract 4?"


def key_client(user) -> APIClient:
    _, secret = api_key_create(user=user, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def start(client, agent, text=QUESTION):
    return client.post(
        f"/api/v1/agents/{agent.pk}/run/", {"input": text}, format="json"
    )


def test_starting_a_run_with_an_api_key_sends_at_most_fifteen_statements(
    django_assert_max_num_queries,
):
    """The key check, the agent and its version, the estimate's catalog
    reads, the run with its conversation, hold and first step: no more."""
    user = UserFactory(credits=20)
    agent = make_agent(user, tools=["calculator"])
    client = key_client(user)
    assert start(client, agent).status_code == 202  # the key's first use is noted
    with django_assert_max_num_queries(15):
        response = start(client, agent)
    assert response.status_code == 202


def test_a_revoked_key_is_refused_on_the_very_next_request():
    user = UserFactory(credits=20)
    agent = make_agent(user)
    _, secret = api_key_create(user=user, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert start(client, agent).status_code == 202
    api_key_revoke(api_key=user.api_keys.get())
    response = start(client, agent)
    assert response.status_code == 401
    assert Run.objects.filter(owner=user).count() == 1


def test_a_started_run_holds_part_of_its_budget_and_the_account_says_so():
    user = UserFactory(credits=20)
    response = start(key_client(user), make_agent(user, tools=["calculator"]))
    assert response.status_code == 202
    budget = RunBudget.objects.get(run_id=response.json()["id"])
    account = CreditAccount.objects.get(user=user)
    assert 0 < budget.held <= budget.reserved <= account.balance
    assert account.held == budget.held


def test_a_run_refused_for_credits_leaves_no_run_conversation_or_hold():
    user = UserFactory(credits=0)
    response = start(key_client(user), make_agent(user))
    assert response.status_code == 400
    assert "credits" in response.json()
    assert not Run.objects.filter(owner=user).exists()
    assert not Conversation.objects.filter(owner=user).exists()
    assert not RunBudget.objects.filter(account__user=user).exists()
    assert not CreditAccount.objects.filter(user=user, held__gt=0).exists()


def test_a_refused_run_start_leaves_the_callers_transaction_usable():
    """The hold takes no savepoint of its own; run_start's own keeps a
    refusal from spoiling the transaction around it."""
    user = UserFactory(credits=0)
    agent = make_agent(user)
    with pytest.raises(ValidationError):
        make_run(agent)
    assert Run.objects.filter(owner=user).count() == 0


def running_run(credits: int = 20) -> Run:
    run = make_run(make_agent(UserFactory(credits=credits)))
    services.run_claim(run_id=run.pk, worker="celery@test")
    return run


def test_a_free_step_of_a_running_run_is_saved_with_its_tokens():
    run = running_run()
    step, exhausted = run_step_record(
        run=run,
        order=2,
        type="tool-result",
        payload={"output": "15"},
        input_tokens=3,
        output_tokens=4,
        latency_ms=7,
    )
    assert not exhausted
    saved = RunStep.objects.get(pk=step.pk)
    assert (saved.run_id, saved.order, saved.type) == (run.pk, 2, "tool-result")
    assert saved.payload == {"output": "15"}
    assert (saved.input_tokens, saved.output_tokens, saved.latency_ms) == (3, 4, 7)
    assert saved.cost == 0
    assert saved.created_at == step.created_at


def test_no_free_step_is_saved_once_the_run_was_cancelled():
    run = running_run()
    services.run_cancel(run=run)
    count = run.steps.count()
    recorded = run_step_record(
        run=run, order=count + 1, type="agent-thought", payload={"text": "Hm."}
    )
    assert recorded is None
    assert run.steps.count() == count


def test_a_priced_step_is_saved_once_with_what_it_was_charged():
    run = running_run()
    step, exhausted = run_step_record(
        run=run, order=2, type="agent-thought", payload={"text": "Hm."}, cost=250
    )
    assert not exhausted
    assert RunStep.objects.get(pk=step.pk).cost == step.cost == 250
    entry = LedgerEntry.objects.get(idempotency_key=f"run:{run.pk}:step:2")
    assert entry.amount == -250
    budget = RunBudget.objects.get(run=run)
    assert budget.charged == 250
    assert CreditAccount.objects.get(user=run.owner).balance == 20 * MILLI - 250
