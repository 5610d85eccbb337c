"""The tools page: schemas, usage over 30 days, and staff's site-wide switch."""

import pytest

from agents import services
from agents.models import RunStep, ToolSetting
from agents.runtime.executor import execute
from agents.services.runs import run_spec_for
from tests.agents.doubles import FixedProvider, ListRecorder
from tests.agents.factories import make_agent, make_calculator_agent, make_run
from tests.community.factories import UserFactory

# isort: split
from agents_sdk.testing import ScriptedModel, assistant_message

pytestmark = pytest.mark.django_db


def add_tool_steps(run, name: str, outputs: list[str]) -> None:
    order = run.steps.count() + 1
    for output in outputs:
        RunStep.objects.create(
            run=run, order=order, type="tool-call", payload={"name": name}
        )
        RunStep.objects.create(
            run=run,
            order=order + 1,
            type="tool-result",
            payload={"name": name, "output": output},
        )
        order += 2


def test_staff_switch_a_tool_off_and_on_for_the_site(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    client.post("/tools/calculator/toggle/", {"enabled": "0"})
    assert ToolSetting.objects.get(name="calculator").enabled is False
    page = client.get("/tools/").content.decode()
    assert "Disabled by staff" in page
    client.post("/tools/calculator/toggle/", {"enabled": "1"})
    assert ToolSetting.objects.get(name="calculator").enabled is True
    assert client.post("/tools/teleport/toggle/", {"enabled": "0"}).status_code == 404


def test_members_cannot_switch_tools(client):
    client.force_login(UserFactory())
    assert client.post("/tools/calculator/toggle/", {"enabled": "0"}).status_code == 403
    assert not ToolSetting.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_a_disabled_tool_is_never_offered_to_the_model():
    from asgiref.sync import sync_to_async

    @sync_to_async
    def prepare():
        agent = make_calculator_agent(
            output_type=None, tools=["calculator", "current_time"]
        )
        ToolSetting.objects.create(name="calculator", enabled=False)
        return run_spec_for(make_run(agent))

    spec = await prepare()
    assert spec.disabled_tools == {"calculator"}
    model = ScriptedModel([[assistant_message("ok")]])

    outcome = await execute(spec, ListRecorder(), FixedProvider(model))
    assert outcome.status == "completed"
    assert [tool.name for tool in model.calls[0].tools] == ["current_time"]


def test_a_disabled_tool_cannot_be_added_to_an_agent(as_user):
    ToolSetting.objects.create(name="calculator", enabled=False)
    owner = UserFactory()
    response = as_user(owner).post(
        "/api/v1/agents/", {"name": "Calc", "tools": ["calculator"]}
    )
    assert response.status_code == 400
    assert "Switched off on this site" in response.json()["tools"][0]
    tools = {
        t["name"]: t for t in as_user(owner).get("/api/v1/tools/").json()["results"]
    }
    assert tools["calculator"]["enabled"] is False
    assert tools["current_time"]["enabled"] is True


def test_the_page_counts_calls_and_failures_over_the_users_runs(client):
    owner = UserFactory()
    run = make_run(make_agent(owner))
    add_tool_steps(run, "calculator", ["15", "45", "Error: Division by zero", "3"])
    add_tool_steps(make_run(make_agent()), "calculator", ["Error: x"] * 3)
    client.force_login(owner)
    page = client.get("/tools/").content.decode()
    row = page.split('id="tool-calculator"')[1].split("</tr>")[0]
    assert "<td>4</td>" in row
    assert "25%" in row
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    row = client.get("/tools/").content.decode().split('id="tool-calculator"')[1]
    row = row.split("</tr>")[0]
    assert "<td>7</td>" in row
    assert "57%" in row


def test_the_service_refuses_members():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.tool_set_enabled(name="calculator", enabled=False, user=UserFactory())
