"""The agents, runs, models and tools API, with its permissions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentVersion, Conversation, Run
from agents.tools import get_tool
from tests.agents.factories import (
    CALCULATOR_QUESTION,
    SUM_SCHEMA,
    make_agent,
    make_calculator_agent,
    make_run,
)
from tests.api_schema import assert_documented
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory()


def test_creating_an_agent_returns_it_private_at_version_one(as_user, owner):
    response = as_user(owner).post(
        "/api/v1/agents/",
        {
            "name": "Calc",
            "instructions": "Do sums.",
            "tools": ["calculator"],
            "output_type": SUM_SCHEMA,
            "model_settings": {"temperature": 0.2},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["visibility"] == "private"
    assert body["version"] == 1
    assert body["owner"] == owner.username
    assert body["model"] == "local/demo"
    assert body["model_label"] == "Offline demo model"
    assert body["model_settings"] == {"temperature": 0.2}
    assert Agent.objects.get(pk=body["id"]).versions.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "A", "model": "nobody/nothing"}, "model"),
        ({"name": "A", "tools": ["teleport"]}, "tools"),
        ({"name": "A", "tools": "calculator"}, "tools"),
        ({"name": "A", "output_type": {"type": 12}}, "output_type"),
        ({"name": "A", "visibility": "everyone"}, "visibility"),
        ({"name": "A" * 101}, "name"),
    ],
)
def test_bad_agent_bodies_get_400_with_field_messages_and_nothing_saved(
    as_user, owner, body, field
):
    response = as_user(owner).post("/api/v1/agents/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert response.json()[field]
    assert not Agent.objects.exists()


def test_a_malformed_or_non_object_body_gets_400(as_user, owner):
    client = as_user(owner)
    response = client.post(
        "/api/v1/agents/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    response = client.post("/api/v1/agents/", ["a", "list"])
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_an_output_type_sent_as_json_text_nested_too_deeply_is_a_field_error(
    as_user, owner
):
    """JSON text in a field is parsed with the same depth limit as bodies;
    10,000 levels were a RecursionError (500)."""
    response = as_user(owner).post(
        "/api/v1/agents/",
        {"name": "A", "output_type": "[" * 10_000 + "]" * 10_000},
    )
    assert response.status_code == 400
    assert response.json() == {
        "output_type": [
            "The output type is not valid JSON: Nested too deeply: at most 64 levels"
            " of arrays and objects."
        ]
    }
    assert not Agent.objects.exists()


def test_the_list_shows_only_my_agents(as_user, owner):
    mine = make_agent(owner)
    make_agent(visibility="public")
    response = as_user(owner).get("/api/v1/agents/")
    assert [a["id"] for a in response.json()["results"]] == [mine.pk]


def test_anonymous_requests_are_refused(api_client):
    agent = make_agent(visibility="public")
    assert api_client.get("/api/v1/agents/").status_code == 401
    assert api_client.get(f"/api/v1/agents/{agent.pk}/").status_code == 401
    assert (
        api_client.post(f"/api/v1/agents/{agent.pk}/run/", {"input": "x"}).status_code
        == 401
    )


def test_a_private_agent_is_hidden_from_strangers_and_shown_to_staff(as_user):
    agent = make_agent()
    stranger = UserFactory()
    assert as_user(stranger).get(f"/api/v1/agents/{agent.pk}/").status_code == 404
    assert (
        as_user(stranger).get(f"/api/v1/agents/{agent.pk}/versions/").status_code == 404
    )
    assert (
        as_user(stranger)
        .post(f"/api/v1/agents/{agent.pk}/run/", {"input": "hi"})
        .status_code
        == 404
    )
    staff = UserFactory(is_staff=True)
    assert as_user(staff).get(f"/api/v1/agents/{agent.pk}/").status_code == 200


@pytest.mark.parametrize("visibility", ["public", "unlisted"])
def test_strangers_can_read_a_shared_agent_but_not_change_it(as_user, visibility):
    agent = make_agent(visibility=visibility)
    client = as_user(UserFactory())
    assert client.get(f"/api/v1/agents/{agent.pk}/").status_code == 200
    assert (
        client.patch(f"/api/v1/agents/{agent.pk}/", {"name": "Mine"}).status_code == 403
    )
    assert client.delete(f"/api/v1/agents/{agent.pk}/").status_code == 403
    agent.refresh_from_db()
    assert agent.name == "Helper"


def test_patch_changes_some_fields_and_makes_a_version(as_user, owner):
    agent = make_agent(owner)
    response = as_user(owner).patch(
        f"/api/v1/agents/{agent.pk}/", {"instructions": "New instructions."}
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    versions = as_user(owner).get(f"/api/v1/agents/{agent.pk}/versions/").json()
    assert [v["number"] for v in versions["results"]] == [2, 1]
    assert versions["results"][1]["definition"]["instructions"] == (
        "You help with arithmetic."
    )
    one = as_user(owner).get(f"/api/v1/agents/{agent.pk}/versions/1/")
    assert one.json()["number"] == 1


def test_put_replaces_the_definition_and_resets_what_it_leaves_out(as_user, owner):
    agent = make_calculator_agent(owner)
    response = as_user(owner).put(f"/api/v1/agents/{agent.pk}/", {"name": "Plain"})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["tools"], body["output_type"]) == ("Plain", [], None)
    assert as_user(owner).put(f"/api/v1/agents/{agent.pk}/", {}).status_code == 400


def test_delete_removes_the_agent(as_user, owner):
    agent = make_agent(owner)
    assert as_user(owner).delete(f"/api/v1/agents/{agent.pk}/").status_code == 204
    assert not Agent.objects.exists()
    assert not AgentVersion.objects.exists()


def test_starting_a_run_returns_202_with_the_queued_run(as_user, owner):
    agent = make_calculator_agent(owner)
    response = as_user(owner).post(
        f"/api/v1/agents/{agent.pk}/run/", {"input": CALCULATOR_QUESTION}
    )
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["version"], body["input"]) == (
        "queued",
        1,
        CALCULATOR_QUESTION,
    )
    assert Run.objects.get(pk=body["id"]).owner == owner


def test_a_run_can_pin_a_version_by_number(as_user, owner):
    agent = make_agent(owner)
    as_user(owner).patch(f"/api/v1/agents/{agent.pk}/", {"instructions": "v2"})
    response = as_user(owner).post(
        f"/api/v1/agents/{agent.pk}/run/", {"input": "hi", "version": 1}
    )
    assert response.json()["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "input"),
        ({"input": ""}, "input"),
        ({"input": "   "}, "input"),
        ({"input": "x" * 32001}, "input"),
        ({"input": "hi", "version": 7}, "version"),
        ({"input": "hi", "version": "one"}, "version"),
    ],
)
def test_bad_run_requests_get_400_and_start_nothing(as_user, owner, body, field):
    agent = make_agent(owner)
    response = as_user(owner).post(f"/api/v1/agents/{agent.pk}/run/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Run.objects.exists()


def test_running_someone_elses_public_agent_makes_a_run_owned_by_the_runner(as_user):
    agent = make_agent(visibility="public")
    runner = UserFactory()
    response = as_user(runner).post(f"/api/v1/agents/{agent.pk}/run/", {"input": "hi"})
    assert response.status_code == 202
    run = Run.objects.get(pk=response.json()["id"])
    assert run.owner == runner
    # The agent's owner does not see the stranger's run or its input.
    assert as_user(agent.owner).get(f"/api/v1/runs/{run.pk}/").status_code == 404


def test_the_run_list_filters_by_agent_and_status(as_user, owner):
    first = make_agent(owner)
    second = make_agent(owner, name="Second")
    run_a = make_run(first)
    run_b = make_run(second)
    from agents import services

    services.run_cancel(run=run_b)
    make_run(make_agent())  # someone else's
    client = as_user(owner)
    assert {r["id"] for r in client.get("/api/v1/runs/").json()["results"]} == {
        run_a.pk,
        run_b.pk,
    }
    by_agent = client.get(f"/api/v1/runs/?agent={first.pk}").json()["results"]
    assert [r["id"] for r in by_agent] == [run_a.pk]
    cancelled = client.get("/api/v1/runs/?status=cancelled").json()["results"]
    assert [r["id"] for r in cancelled] == [run_b.pk]
    bad = client.get("/api/v1/runs/?status=sleeping&agent=x")
    assert bad.status_code == 400
    assert set(bad.json()) == {"status", "agent"}


def test_a_run_shows_its_steps_to_its_owner_and_staff_only(as_user, owner):
    run = make_run(make_agent(owner))
    body = as_user(owner).get(f"/api/v1/runs/{run.pk}/").json()
    assert body["status"] == "queued"
    assert [s["type"] for s in body["steps"]] == ["user-request"]
    assert body["model"] == "local/demo"
    assert set(body["steps"][0]) == {
        "id",
        "run",
        "order",
        "type",
        "payload",
        "model",
        "input_tokens",
        "output_tokens",
        "latency_ms",
        "cost",
        "created_at",
    }
    assert as_user(UserFactory()).get(f"/api/v1/runs/{run.pk}/").status_code == 404
    staff = UserFactory(is_staff=True)
    assert as_user(staff).get(f"/api/v1/runs/{run.pk}/").status_code == 200


def test_cancel_then_delete_a_run(as_user, owner):
    run = make_run(make_agent(owner))
    stranger = UserFactory()
    url = f"/api/v1/runs/{run.pk}/"
    assert as_user(stranger).post(f"{url}cancel/").status_code == 404
    response = as_user(owner).post(f"{url}cancel/")
    assert response.json()["status"] == "cancelled"
    again = as_user(owner).post(f"{url}cancel/")
    assert again.status_code == 400
    assert "already finished" in again.json()["status"][0]
    assert as_user(stranger).delete(url).status_code == 404
    assert as_user(owner).delete(url).status_code == 204
    assert not Run.objects.exists()


def test_the_model_catalog_lists_the_labelled_demo_model_first(as_user, owner):
    results = as_user(owner).get("/api/v1/models/").json()["results"]
    assert results[0]["id"] == "local/demo"
    assert results[0]["display_name"] == "Offline demo model"
    assert {"openai/gpt-4.1-mini"} <= {m["id"] for m in results}
    assert set(results[0]) >= {
        "supports_tools",
        "supports_structured_output",
        "supports_streaming",
        "input_price_per_1k",
    }


def test_the_tool_list_shows_each_schema_exactly_as_sent_to_the_model(as_user, owner):
    body = as_user(owner).get("/api/v1/tools/").json()
    tools = {tool["name"]: tool for tool in body["results"]}
    assert {"calculator", "current_time"} <= set(tools)
    sent = get_tool("calculator").as_sdk_tool().params_json_schema
    assert tools["calculator"]["parameters"] == sent


def test_the_schema_documents_the_agent_endpoints(as_user, owner):
    response = as_user(owner).get("/api/schema/?format=json")
    paths = response.json()["paths"]
    for path in [
        "/api/v1/agents/",
        "/api/v1/agents/{agent_id}/run/",
        "/api/v1/runs/{run_id}/cancel/",
        "/api/v1/models/",
        "/api/v1/tools/",
    ]:
        assert path in paths


def test_an_agent_without_a_category_is_answered_as_documented(as_user, owner):
    """An agent's category may be blank; the schema says so (it listed only
    the eight categories, found by tests/config/test_api_fuzz.py)."""
    agent = make_agent(owner)
    response = as_user(owner).get(f"/api/v1/agents/{agent.pk}/")
    assert response.json()["category"] == ""
    assert_documented(response, method="get", path="/api/v1/agents/{agent_id}/")


def test_the_yaml_export_is_answered_as_documented(as_user, owner):
    """The export is a YAML mapping, documented as an object (it was
    documented as a string, which a client parsing YAML never gets)."""
    agent = make_agent(owner)
    response = as_user(owner).get(f"/api/v1/agents/{agent.pk}/export/")
    assert response["Content-Type"].startswith("application/yaml")
    assert_documented(response, method="get", path="/api/v1/agents/{agent_id}/export/")


def test_a_providers_model_list_is_answered_as_documented(as_user, owner):
    """One provider's models come as {count, results}, as documented (the
    schema said a bare array)."""
    response = as_user(owner).get("/api/v1/models/providers/local/models/")
    assert response.json()["count"] == len(response.json()["results"]) > 0
    assert_documented(
        response,
        method="get",
        path="/api/v1/models/providers/{provider_id}/models/",
    )


def test_my_conversations_are_listed_most_recent_first(as_user, owner):
    """The list is ordered by the last turn, newest first: the count of turns
    it carries made the query drop the model's default ordering (found by
    tests/config/test_api_fuzz.py as an unordered page)."""
    agent = make_agent(owner)
    runs = [make_run(agent, input=f"Question {n}") for n in range(3)]
    now = timezone.now()
    for age, run in zip([0, 2, 1], runs, strict=True):
        Conversation.objects.filter(pk=run.conversation_id).update(
            updated_at=now - timedelta(hours=age)
        )
    listed = as_user(owner).get("/api/v1/conversations/").json()["results"]
    assert [c["id"] for c in listed] == [
        runs[0].conversation_id,
        runs[2].conversation_id,
        runs[1].conversation_id,
    ]
