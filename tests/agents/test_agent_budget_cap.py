"""An agent's owner caps what one run may spend: the run's budget is the lower
of that cap, the starter's own budget and what is available, and a run
estimated above the cap is refused."""

from decimal import Decimal

import pytest
import yaml
from django.core.exceptions import ValidationError

from agents import services
from agents.models import Agent, Conversation, Run
from billing.models import MILLI, CreditAccount, RunBudget
from tests.agents.factories import make_calculator_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

QUESTION = "What is 2 + 2?"


def reserved(run) -> int:
    return RunBudget.objects.get(run=run).reserved


def start(agent, user, **kwargs):
    return services.run_start(agent=agent, user=user, input=QUESTION, **kwargs)


def test_the_budget_is_the_lowest_of_the_agents_cap_the_starters_and_the_balance():
    owner = UserFactory()
    agent = make_calculator_agent(owner, max_credits_per_run="3")
    runner = UserFactory(credits=100)
    assert reserved(start(agent, runner)) == 3 * MILLI  # not the site's 25
    assert reserved(start(agent, runner, max_credits=5)) == 3 * MILLI
    assert reserved(start(agent, runner, max_credits="2.5")) == 2500
    poor = UserFactory(credits=Decimal("1.5"))
    assert reserved(start(agent, poor)) == 1500


def test_without_either_cap_the_sites_default_budget_applies(settings):
    settings.CREDITS_RUN_BUDGET = "7"
    agent = make_calculator_agent()
    assert agent.max_credits_per_run is None
    assert reserved(make_run(agent)) == 7 * MILLI


def test_a_run_estimated_above_the_agents_cap_is_refused_and_nothing_is_kept():
    agent = make_calculator_agent(max_credits_per_run="0.1")
    runner = UserFactory(credits=100)
    with pytest.raises(ValidationError) as caught:
        start(agent, runner, max_credits=50)
    message = caught.value.message_dict["credits"][0]
    assert "more than the 0.1 this agent allows a run" in message
    assert not Run.objects.exists()
    assert not Conversation.objects.exists()
    assert CreditAccount.objects.get(user=runner).held == 0


def test_the_api_refuses_it_in_the_shape_of_other_credit_refusals(as_user):
    agent = make_calculator_agent(max_credits_per_run="0.1", visibility="public")
    runner = UserFactory(credits=100)
    response = as_user(runner).post(
        f"/api/v1/agents/{agent.pk}/run/", {"input": QUESTION}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["credits"]
    assert "this agent allows a run" in response.json()["credits"][0]


def test_the_cap_is_the_one_of_the_version_that_runs():
    agent = make_calculator_agent(max_credits_per_run="4")
    services.agent_update(
        agent=agent, user=agent.owner, data={"max_credits_per_run": None}
    )
    agent.refresh_from_db()
    assert agent.version_number == 2
    assert reserved(make_run(agent, version=1)) == 4 * MILLI
    assert reserved(make_run(agent)) == 25 * MILLI


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "above zero"),
        ("-3", "above zero"),
        ("0.0001", "decimal places"),
        ("5000000", "at most 1,000,000 credits"),
    ],
)
def test_the_api_sets_the_cap_in_credits_and_refuses_bad_ones(as_user, value, message):
    agent = make_calculator_agent()
    client = as_user(agent.owner)
    url = f"/api/v1/agents/{agent.pk}/"
    response = client.patch(url, {"max_credits_per_run": "2.5"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["max_credits_per_run"] == 2.5
    agent.refresh_from_db()
    assert agent.max_credits_per_run == 2500
    version = client.get(f"/api/v1/agents/{agent.pk}/versions/2/").json()
    assert version["definition"]["max_credits_per_run"] == 2.5

    response = client.patch(url, {"max_credits_per_run": value}, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()["max_credits_per_run"])
    agent.refresh_from_db()
    assert agent.max_credits_per_run == 2500
    assert agent.version_number == 2

    response = client.patch(url, {"max_credits_per_run": None}, format="json")
    assert response.json()["max_credits_per_run"] is None


def test_the_builder_sets_shows_and_clears_the_cap(client):
    from tests.agents.test_views import builder_data

    owner = UserFactory()
    client.force_login(owner)
    response = client.post("/agents/new/", builder_data(max_credits_per_run="1.5"))
    assert response.status_code == 302
    agent = Agent.objects.get(owner=owner)
    assert agent.max_credits_per_run == 1500
    edit = client.get(f"/agents/{agent.pk}/edit/").content.decode()
    assert 'name="max_credits_per_run" value="1.5"' in edit
    detail = client.get(f"/agents/{agent.pk}/").content.decode()
    cap = detail.split('<dd id="agent-max-credits">')[1].split("</dd>")[0]
    assert cap.strip() == "1.5"

    refused = client.post(
        f"/agents/{agent.pk}/edit/", builder_data(max_credits_per_run="-1")
    )
    assert refused.status_code == 200
    errors = refused.content.decode().split('id="id_max_credits_per_run_error"')[1]
    assert "above zero" in errors.split("</small>")[0]
    agent.refresh_from_db()
    assert agent.max_credits_per_run == 1500

    client.post(f"/agents/{agent.pk}/edit/", builder_data(max_credits_per_run=""))
    agent.refresh_from_db()
    assert agent.max_credits_per_run is None


def test_the_cap_travels_in_the_yaml_file_in_credits(as_user):
    agent = make_calculator_agent(max_credits_per_run="2.5")
    text = as_user(agent.owner).get(f"/api/v1/agents/{agent.pk}/export/").content
    assert yaml.safe_load(text)["max_credits_per_run"] == 2.5
    importer = UserFactory()
    response = as_user(importer).post(
        "/api/v1/agents/import/", text.decode(), content_type="application/yaml"
    )
    assert response.status_code == 201, response.json()
    assert Agent.objects.get(pk=response.json()["id"]).max_credits_per_run == 2500


def test_the_version_diff_shows_the_cap_in_credits(client):
    agent = make_calculator_agent(max_credits_per_run="3")
    services.agent_update(
        agent=agent, user=agent.owner, data={"max_credits_per_run": "4.5"}
    )
    client.force_login(agent.owner)
    html = client.get(f"/agents/{agent.pk}/versions/diff/?a=1&b=2").content
    html = html.decode()
    assert "Most credits per run" in html
    assert "4.5" in html
    assert "4500" not in html
