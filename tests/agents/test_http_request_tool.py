"""The http_request tool: the owner's allowed hosts, and outbound's refusals."""

import pytest
from django.core.exceptions import ValidationError

from agents import services
from agents.runtime.executor import RunSpec, execute
from agents.tools import get_tool
from tests.agents.doubles import FixedProvider, ListRecorder
from tests.agents.factories import make_agent
from tests.config.test_outbound import LocalSite

# isort: split
from agents_sdk.testing import (
    ModelStep,
    ScriptedModel,
    assistant_message,
    function_call,
)


@pytest.fixture
def site(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    local = LocalSite()
    yield local
    local.close()


def call(url: str, call_id: str = "h1"):
    return function_call(
        "http_request",
        {"method": "GET", "url": url, "body": None, "content_type": None},
        call_id=call_id,
    )


async def run_with(url: str, allowed_hosts: list[str]) -> list:
    model = ScriptedModel([ModelStep(output=[call(url)]), [assistant_message("done")]])
    definition = {
        "name": "Fetcher",
        "instructions": "",
        "model": "x",
        "tools": ["http_request"],
        "tool_options": {"http_request": {"allowed_hosts": allowed_hosts}},
    }
    recorder = ListRecorder()
    outcome = await execute(
        RunSpec(definition=definition, input="fetch it", retry_delay=0),
        recorder,
        FixedProvider(model),
    )
    assert outcome.status == "completed", outcome.error
    return recorder.outputs()


async def test_the_agent_fetches_a_page_on_an_allowed_host(site):
    outputs = await run_with(f"{site.url}/hello", ["127.0.0.1"])
    assert outputs == ["HTTP 200 text/plain\n\nhello world"]


async def test_a_host_the_owner_did_not_allow_is_refused_to_the_model(site):
    outputs = await run_with(f"{site.url}/hello", ["example.com"])
    assert outputs[0].startswith("Error: 127.0.0.1 is not among the hosts")
    assert site.hits == []


async def test_an_internal_address_is_refused_even_if_the_owner_allowed_it(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    outputs = await run_with("http://169.254.169.254/latest/", ["169.254.169.254"])
    assert "not a public address" in outputs[0]


async def test_a_redirect_to_an_address_that_is_not_allowed_is_refused(site):
    """Even to a host the owner allowed: the address is checked where the
    redirect connects."""
    inside = LocalSite(host="127.0.0.2")
    try:
        outputs = await run_with(
            f"{site.url}/redirect?to={inside.url}/hello", ["127.0.0.1", "127.0.0.2"]
        )
    finally:
        inside.close()
    assert outputs[0].startswith("Error: 127.0.0.2 is not a public address")
    assert inside.hits == []


def test_the_model_sees_the_schema_but_never_the_allowed_hosts():
    tool = get_tool("http_request").as_sdk_tool({"allowed_hosts": ["secret.internal"]})
    assert "secret.internal" not in str(tool.params_json_schema)
    assert set(tool.params_json_schema["properties"]) == {
        "method",
        "url",
        "body",
        "content_type",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tool_options", "message"),
    [
        ({"http_request": {"allowed_hosts": ["not a host"]}}, "is not a host name"),
        ({"http_request": {"allowed_hosts": ["http://x.com/"]}}, "is not a host name"),
        ({"http_request": {"headers": {}}}, "takes only: allowed_hosts"),
        ({"calculator": {}}, "has no options"),
        ("hosts", "must be an object"),
    ],
)
def test_bad_tool_options_are_refused(tool_options, message):
    agent = make_agent(tools=["http_request"])
    with pytest.raises(ValidationError) as caught:
        services.agent_update(
            agent=agent, user=agent.owner, data={"tool_options": tool_options}
        )
    assert message in " ".join(caught.value.message_dict["tool_options"])


@pytest.mark.django_db
def test_allowed_hosts_are_normalised_and_versioned():
    agent = make_agent(tools=["http_request"])
    services.agent_update(
        agent=agent,
        user=agent.owner,
        data={
            "tool_options": {
                "http_request": {"allowed_hosts": ["API.Example.com.", ".Wiki.org"]}
            }
        },
    )
    agent.refresh_from_db()
    assert agent.tool_options == {
        "http_request": {"allowed_hosts": ["api.example.com", ".wiki.org"]}
    }
    assert agent.versions.get(number=2).definition["tool_options"] == agent.tool_options
