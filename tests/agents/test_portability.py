"""Exporting an agent as YAML or Python and importing YAML, over the API."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agents import portability, services
from agents.definitions import DEFINITION_FIELDS
from agents.models import Agent, CustomTool, ProviderKey
from tests.agents.factories import SUM_SCHEMA, make_agent, make_calculator_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def export(client, agent) -> str:
    response = client.get(f"/api/v1/agents/{agent.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert f'filename="{agent.slug}.agent.yaml"' in response["Content-Disposition"]
    return response.content.decode()


def test_an_exported_agent_imports_as_the_same_definition_for_someone_else(as_user):
    agent = make_calculator_agent(
        model_settings={"temperature": 0.3},
        guardrails={"input": {"blocked_words": ["secret"], "max_length": 900}},
        tags=["math"],
        visibility="public",
    )
    text = export(as_user(agent.owner), agent)
    document = yaml.safe_load(text)
    assert document["agentry"] == 1
    assert document["output_type"] == SUM_SCHEMA

    importer = UserFactory()
    response = as_user(importer).post(
        "/api/v1/agents/import/", text, content_type="application/yaml"
    )
    assert response.status_code == 201, response.json()
    copy = Agent.objects.get(pk=response.json()["id"])
    assert copy.owner == importer
    assert copy.visibility == "private"
    assert copy.version_number == 1
    for field in DEFINITION_FIELDS:
        assert getattr(copy, field) == getattr(agent, field), field
    assert copy.tags == ["math"]


def test_a_file_upload_and_a_json_body_work_too(as_user, tmp_path):
    agent = make_agent()
    client = as_user(agent.owner)
    text = export(client, agent)
    path = tmp_path / "helper.agent.yaml"
    path.write_text(text)
    with path.open("rb") as upload:
        response = client.post(
            "/api/v1/agents/import/", {"file": upload}, format="multipart"
        )
    assert response.status_code == 201
    response = client.post("/api/v1/agents/import/", {"yaml": text})
    assert response.status_code == 201
    assert Agent.objects.filter(owner=agent.owner).count() == 3


def test_a_guard_agent_travels_as_owner_and_slug(as_user):
    owner = UserFactory()
    guard = make_agent(owner, name="Gatekeeper", visibility="public")
    agent = make_agent(owner, guardrails={"input": {"guard_agent": guard.pk}})
    text = export(as_user(owner), agent)
    assert yaml.safe_load(text)["guardrails"]["input"]["guard_agent"] == (
        f"{owner.username}/gatekeeper"
    )
    importer = UserFactory()
    response = as_user(importer).post(
        "/api/v1/agents/import/", text, content_type="application/yaml"
    )
    assert response.status_code == 201
    assert response.json()["guardrails"] == {"input": {"guard_agent": guard.pk}}


def test_a_guard_agent_the_importer_cannot_run_is_refused(as_user):
    owner = UserFactory()
    guard = make_agent(owner, name="Private gate")
    agent = make_agent(owner, guardrails={"input": {"guard_agent": guard.pk}})
    text = export(as_user(owner), agent)
    response = as_user(UserFactory()).post(
        "/api/v1/agents/import/", text, content_type="application/yaml"
    )
    assert response.status_code == 400
    assert "not an agent you can run" in response.json()["guardrails"][0]


def test_agents_used_as_tools_travel_as_owner_and_slug(as_user):
    owner = UserFactory()
    helper = make_agent(owner, name="Shared helper", visibility="public")
    private = make_agent(owner, name="Private helper")
    agent = make_agent(
        owner,
        tools=["calculator", helper.tool_reference],
        model_settings={"tool_choice": helper.tool_reference},
    )
    document = yaml.safe_load(export(as_user(owner), agent))
    assert document["tools"] == ["calculator", f"agent:{owner.username}/shared-helper"]
    assert document["model_settings"]["tool_choice"] == (
        f"agent:{owner.username}/shared-helper"
    )
    importer = UserFactory()
    response = as_user(importer).post(
        "/api/v1/agents/import/",
        portability.dump(document),
        content_type="application/yaml",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["tools"] == ["calculator", helper.tool_reference]
    assert response.json()["model_settings"]["tool_choice"] == helper.tool_reference

    # One the importer may not use is refused, and nothing is saved.
    document["tools"] = [f"agent:{owner.username}/{private.slug}"]
    document["model_settings"] = {}
    before = Agent.objects.count()
    response = as_user(importer).post(
        "/api/v1/agents/import/",
        portability.dump(document),
        content_type="application/yaml",
    )
    assert response.status_code == 400
    assert "not one you can use as a tool" in response.json()["tools"][0]
    assert Agent.objects.count() == before


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("name: [unclosed", "file", "not valid YAML (line"),
        ("- a\n- list\n", "file", "must be a mapping"),
        ("name: No format\n", "file", "not an Agentry agent file"),
        ("agentry: 1\nname: X\ncolour: red\n", "file", "Unknown fields: colour"),
        ("agentry: 1\nname: X\ntools: [teleport]\n", "tools", "Unknown tool"),
        ("agentry: 1\nname: X\noutput_type: {type: 7}\n", "output_type", "JSON"),
        ("agentry: 1\ndescription: no name\n", "name", "Give the agent a name"),
        (
            "agentry: 1\nname: X\ntools: ['custom:f']\n"
            "custom_tools:\n- {name: f, colour: red}\n",
            "custom_tools",
            "Unknown fields in the custom tool f: colour",
        ),
        ("agentry: 1\nname: X\ncustom_tools: nope\n", "custom_tools", "a list"),
        (
            "agentry: 1\nname: X\ncustom_tools:\n- {description: nameless}\n",
            "custom_tools",
            "needs a name",
        ),
        (
            "agentry: 1\nname: X\ntools: ['custom:ghost']\n",
            "tools",
            "custom:ghost is not described under custom_tools",
        ),
        ("agentry: 1\nname: X\ntools: [custom/1]\n", "tools", "travels by name"),
        ("", "file", "Send the agent's YAML file"),
    ],
)
def test_a_bad_file_gets_a_clear_400_and_saves_nothing(as_user, text, field, message):
    response = as_user(UserFactory()).post(
        "/api/v1/agents/import/", text, content_type="application/yaml"
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Agent.objects.exists()
    assert not CustomTool.objects.exists()


LAUGHS = "".join(
    f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}" if n else "ha"] * 10) + "]\n"
    for n in range(9)
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            # 600 mappings, one inside the other, in block style.
            "agentry: 1\nname: X\nmodel_settings:\n"
            + "".join(" " * (n + 1) + "k:\n" for n in range(600))
            + " " * 601
            + "v\n",
            "The file is nested too deeply: at most 64 levels.",
        ),
        (
            {"yaml": "agentry: 1\nname: X\ninstructions: " + "[" * 10_000},
            "The file is nested too deeply: at most 64 levels.",
        ),
        (
            "agentry: 1\nname: X\noutput_type: &a {type: object, items: *a}\n",
            "The file may not use YAML aliases (*name).",
        ),
        (
            # A billion "ha"s in a few lines, once the aliases are followed.
            "agentry: 1\nname: X\ninstructions: hi\nmodel_settings:\n"
            + LAUGHS.replace("\n", "\n ").join((" ", "")),
            "The file may not use YAML aliases (*name).",
        ),
    ],
    ids=["deep-block", "deep-flow-in-json", "self-alias", "a-billion-laughs"],
)
def test_a_file_nested_too_deeply_or_with_aliases_is_refused(as_user, body, message):
    """YAML's composer recurses a few frames a level: 600 levels were a
    RecursionError (500). An alias could make a list that holds itself (500)
    or a billion elements from a few lines."""
    client = as_user(UserFactory())
    if isinstance(body, dict):
        response = client.post("/api/v1/agents/import/", body, format="json")
    else:
        response = client.post(
            "/api/v1/agents/import/", body, content_type="application/yaml"
        )
    assert response.status_code == 400
    assert response.json() == {"file": [message]}
    assert not Agent.objects.exists()


def test_an_export_holding_one_value_twice_writes_it_twice_not_as_an_alias():
    shared = ["calculator"]
    text = portability.dump({"agentry": 1, "name": "X", "tools": shared, "b": shared})
    assert "&" not in text
    assert "*" not in text
    assert yaml.safe_load(text)["b"] == ["calculator"]


def test_only_those_who_may_see_an_agent_can_export_it(as_user, api_client):
    private = make_agent()
    public = make_agent(visibility="public")
    stranger = UserFactory()
    assert (
        as_user(stranger).get(f"/api/v1/agents/{private.pk}/export/").status_code == 404
    )
    assert (
        as_user(stranger).get(f"/api/v1/agents/{public.pk}/export/").status_code == 200
    )
    api_client.force_authenticate(None)
    assert api_client.get(f"/api/v1/agents/{public.pk}/export/").status_code == 401
    assert api_client.post("/api/v1/agents/import/", {"yaml": "x"}).status_code == 401


def test_the_agents_page_imports_an_uploaded_file(client, tmp_path):
    agent = make_agent(visibility="public")
    importer = UserFactory()
    client.force_login(importer)
    text = client.get(f"/api/v1/agents/{agent.pk}/export/").content.decode()
    path = tmp_path / "helper.agent.yaml"
    path.write_text(text)
    with path.open("rb") as upload:
        response = client.post("/agents/import/", {"file": upload})
    copy = Agent.objects.get(owner=importer)
    assert response.status_code == 302
    assert response["Location"] == f"/agents/{copy.pk}/"


def test_the_agents_page_shows_why_a_file_was_refused(client, tmp_path):
    client.force_login(UserFactory())
    path = tmp_path / "bad.agent.yaml"
    path.write_text("agentry: 1\nname: X\ncolour: red\n")
    with path.open("rb") as upload:
        response = client.post("/agents/import/", {"file": upload})
    assert response.status_code == 400
    assert "Unknown fields: colour" in response.content.decode()
    assert not Agent.objects.exists()


def test_the_agent_page_links_to_its_export(client):
    agent = make_agent()
    client.force_login(agent.owner)
    content = client.get(f"/agents/{agent.pk}/").content.decode()
    assert f'href="/api/v1/agents/{agent.pk}/export/"' in content


def _script(client, agent, tmp_path) -> Path:
    response = client.get(f"/api/v1/agents/{agent.pk}/export/python/")
    assert response.status_code == 200
    filename = agent.slug.replace("-", "_")
    assert f'filename="{filename}.py"' in response["Content-Disposition"]
    path = tmp_path / f"{filename}.py"
    path.write_text(response.content.decode())
    return path


def _python(*arguments, env=None, cwd) -> subprocess.CompletedProcess:
    # Run outside the project, where `import agents` is the SDK, not this app.
    return subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def test_the_python_export_runs_on_the_sdk_alone(as_user, tmp_path):
    """The script talks to OpenAI's API (a local stand-in here) and prints the
    answer, with the agent's instructions."""
    from tests.agents.fake_llm import FakeLLM

    agent = make_agent(instructions="Answer like a pirate.", model="openai/gpt-4.1")
    script = _script(as_user(agent.owner), agent, tmp_path)
    with FakeLLM(keys={"sk-script"}) as fake:
        result = _python(
            str(script),
            "Hello there",
            env={
                "OPENAI_API_KEY": "sk-script",
                "OPENAI_BASE_URL": fake.openai_base_url,
            },
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stderr
    assert "Echo: Hello there" in result.stdout
    sent = next(r for r in fake.requests if r["path"] == "/v1/responses")
    assert sent["body"]["model"] == "gpt-4.1"
    assert sent["body"]["instructions"] == "Answer like a pirate."


@pytest.mark.parametrize(
    ("model", "env", "path"),
    [
        (
            "compatible/llama3.1",
            {
                "OPENAI_COMPATIBLE_BASE_URL": "{openai}",
                "OPENAI_COMPATIBLE_API_KEY": "{key}",
            },
            "/v1/chat/completions",
        ),
        (
            "anthropic/claude-haiku-4-5",
            {"ANTHROPIC_API_KEY": "{key}", "ANTHROPIC_BASE_URL": "{base}"},
            "/v1/messages",
        ),
    ],
)
def test_the_python_export_reaches_other_providers_with_the_sdk_alone(
    as_user, tmp_path, settings, model, env, path
):
    from tests.agents.fake_llm import FakeLLM

    owner = UserFactory()
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    services.provider_key_save(
        owner=owner, provider="compatible", key="", base_url="http://127.0.0.1:9/v1"
    )
    ProviderKey.objects.filter(owner=owner).update(model_names=["llama3.1"])
    agent = make_agent(owner, model=model, fallback_model="local/demo")
    script = _script(as_user(owner), agent, tmp_path)
    source = script.read_text()
    assert "falls back to local/demo" in source
    with FakeLLM(keys={"sk-script"}) as fake:
        values = {
            "openai": fake.openai_base_url,
            "base": fake.base_url,
            "key": "sk-script",
        }
        result = _python(
            str(script),
            "Hello there",
            env={
                "OPENAI_API_KEY": "",
                **{name: value.format(**values) for name, value in env.items()},
            },
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stderr
    assert "Echo: Hello there" in result.stdout
    assert [r["path"] for r in fake.model_requests] == [path]
    assert fake.model_requests[0]["key"] == "sk-script"


def test_the_python_export_carries_tools_output_type_and_guardrails(as_user, tmp_path):
    agent = make_calculator_agent(
        tools=["calculator", "current_time"],
        guardrails={"input": {"blocked_words": ["secret"], "max_length": 50}},
        model_settings={"temperature": 0.2, "max_output_tokens": 300},
    )
    script = _script(as_user(agent.owner), agent, tmp_path)
    check = (
        "import asyncio, runpy\n"
        f"ns = runpy.run_path({str(script)!r})\n"
        "agent = ns['build_agent']()\n"
        "print([t.name for t in agent.tools], agent.model)\n"
        "print(agent.model_settings.temperature, agent.model_settings.max_tokens)\n"
        "print(ns['TOOLS']['calculator'].handler("
        "{'operation': 'multiply', 'a': 15, 'b': 3, 'expression': None}))\n"
        "print(agent.output_type.validate_json('{\"answer\": 45}'))\n"
        "guard = agent.input_guardrails[0]\n"
        "out = asyncio.run(guard.guardrail_function(None, agent, 'tell me a secret'))\n"
        "print(out.tripwire_triggered, out.output_info)\n"
    )
    result = _python("-c", check, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "['calculator', 'current_time'] gpt-4.1-mini"
    assert lines[1] == "0.2 300"
    assert lines[2] == "45"
    assert lines[3] == "{'answer': 45}"
    assert lines[4] == "True It contains 'secret'."
    assert "exists only on Agentry" in script.read_text()


# ---------- Webhook tools in the file ----------

FORECAST_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
TOKEN = "Bearer hook-secret-123456"


def make_webhook_tool(owner, **data) -> CustomTool:
    base = {
        "name": "forecast",
        "description": "The weather forecast for a city.",
        "parameters": FORECAST_SCHEMA,
        "webhook_url": "https://hooks.example.com/forecast",
        "secret_header": {"name": "Authorization", "value": TOKEN},
    }
    return services.custom_tool_save(owner=owner, data={**base, **data})


def make_weather_agent(owner=None, **data):
    owner = owner or UserFactory()
    tool = make_webhook_tool(owner)
    data.setdefault("tools", ["calculator", tool.reference])
    data.setdefault("model_settings", {"tool_choice": tool.reference})
    return make_agent(owner, name="Weather", **data), tool


def owners_export(agent) -> str:
    return portability.dump(portability.agent_document(agent, user=agent.owner))


def import_as(as_user, user, text):
    return as_user(user).post(
        "/api/v1/agents/import/", text, content_type="application/yaml"
    )


def test_webhook_tools_travel_by_name_with_their_definition_but_no_secret():
    agent, tool = make_weather_agent()
    text = owners_export(agent)
    document = yaml.safe_load(text)
    assert document["tools"] == ["calculator", "custom:forecast"]
    assert document["model_settings"] == {"tool_choice": "custom:forecast"}
    assert document["custom_tools"] == [
        {
            "name": "forecast",
            "description": "The weather forecast for a city.",
            "parameters": FORECAST_SCHEMA,
            "webhook_url": "https://hooks.example.com/forecast",
            "secret_header_name": "Authorization",
        }
    ]
    assert "custom/" not in text
    assert TOKEN not in text
    assert tool.secret_header_value not in text


def test_an_agent_with_a_webhook_tool_round_trips_to_someone_else(as_user):
    """The importer gets their own copy of the tool, without the secret, and
    the agent lists it (and chooses it) by the new tool's reference."""
    agent, _tool = make_weather_agent()
    importer = UserFactory()
    response = import_as(as_user, importer, owners_export(agent))
    assert response.status_code == 201, response.json()
    copy = Agent.objects.get(pk=response.json()["id"])
    created = CustomTool.objects.get(owner=importer)
    assert created.name == "forecast"
    assert created.description == "The weather forecast for a city."
    assert created.parameters == FORECAST_SCHEMA
    assert created.webhook_url == "https://hooks.example.com/forecast"
    assert (created.secret_header_name, created.secret_header_value) == ("", "")
    assert copy.tools == ["calculator", created.reference]
    assert copy.model_settings == {"tool_choice": created.reference}
    # Exported again by the importer, it is the same file but for nothing.
    again = yaml.safe_load(owners_export(copy))
    assert again["tools"] == ["calculator", "custom:forecast"]
    assert again["custom_tools"][0]["webhook_url"] == created.webhook_url


def test_importing_tells_what_was_created_and_that_the_secret_must_be_set():
    agent, _tool = make_weather_agent()
    importer = UserFactory()
    copy = services.agent_import(owner=importer, text=owners_export(agent))
    notes = " ".join(copy.import_notes)
    assert "Created your webhook tool forecast" in notes
    assert "secret header (Authorization)" in notes
    assert TOKEN not in notes


def test_the_agents_page_shows_the_import_notes(client, tmp_path):
    agent, _tool = make_weather_agent()
    importer = UserFactory()
    client.force_login(importer)
    path = tmp_path / "weather.agent.yaml"
    path.write_text(owners_export(agent))
    with path.open("rb") as upload:
        response = client.post("/agents/import/", {"file": upload}, follow=True)
    content = response.content.decode()
    assert "Imported Weather as a private agent." in content
    assert "whose value is never exported" in content


def test_the_importers_own_tool_of_that_name_is_attached_when_it_is_the_same(
    as_user,
):
    agent, _tool = make_weather_agent()
    importer = UserFactory()
    theirs = make_webhook_tool(importer, description="My words.", secret_header=None)
    response = import_as(as_user, importer, owners_export(agent))
    assert response.status_code == 201, response.json()
    assert response.json()["tools"] == ["calculator", theirs.reference]
    assert CustomTool.objects.filter(owner=importer).count() == 1
    theirs.refresh_from_db()
    assert theirs.description == "My words."  # left as the importer made it


def test_a_different_tool_of_the_same_name_is_refused_and_nothing_saved(as_user):
    agent, _tool = make_weather_agent()
    importer = UserFactory()
    theirs = make_webhook_tool(importer, webhook_url="https://other.example.com/x")
    response = import_as(as_user, importer, owners_export(agent))
    assert response.status_code == 400
    assert "already have a webhook tool of this name" in " ".join(
        response.json()["custom_tools"]
    )
    assert not Agent.objects.filter(owner=importer).exists()
    assert list(CustomTool.objects.filter(owner=importer)) == [theirs]


def test_a_webhook_the_site_refuses_is_refused_on_import_too(as_user):
    """The import creates tools through the same checks, so an internal address
    written into a file gets no further than the tools API would let it."""
    text = (
        "agentry: 1\nname: Sneaky\ntools: ['custom:meta']\ncustom_tools:\n"
        "- name: meta\n  description: Reads metadata.\n"
        "  parameters: {type: object}\n"
        "  webhook_url: http://169.254.169.254/latest/meta-data/\n"
    )
    response = import_as(as_user, UserFactory(), text)
    assert response.status_code == 400
    assert "meta: webhook_url:" in response.json()["custom_tools"][0]
    assert "not a public" in response.json()["custom_tools"][0]
    assert not CustomTool.objects.exists()
    assert not Agent.objects.exists()


def test_a_file_refused_after_its_tools_were_made_leaves_no_tool_behind(as_user):
    """Everything happens in one transaction: a bad agent field undoes the
    webhook tools already created for the importer."""
    agent, _tool = make_weather_agent()
    document = yaml.safe_load(owners_export(agent))
    document["output_type"] = {"type": "string"}
    importer = UserFactory()
    response = import_as(as_user, importer, portability.dump(document))
    assert response.status_code == 400
    assert "output_type" in response.json()
    assert not CustomTool.objects.filter(owner=importer).exists()
    assert not Agent.objects.filter(owner=importer).exists()


def test_others_exports_carry_no_webhook_url(as_user):
    """A webhook URL may hold a token: someone who may only see a shared agent
    gets its tools' names and schemas, and must bring their own webhook."""
    agent, _tool = make_weather_agent(visibility="public")
    stranger = UserFactory()
    text = export(as_user(stranger), agent)
    assert "hooks.example.com" not in text
    assert yaml.safe_load(text)["custom_tools"][0]["name"] == "forecast"
    refused = import_as(as_user, stranger, text)
    assert refused.status_code == 400
    assert "no webhook URL" in refused.json()["custom_tools"][0]
    assert not Agent.objects.filter(owner=stranger).exists()
    theirs = make_webhook_tool(
        stranger, webhook_url="https://mine.example.com/", secret_header=None
    )
    attached = import_as(as_user, stranger, text)
    assert attached.status_code == 201, attached.json()
    assert attached.json()["tools"] == ["calculator", theirs.reference]


def test_a_deleted_webhook_tool_is_left_out_of_the_export():
    agent, tool = make_weather_agent(model_settings={})
    services.custom_tool_delete(tool=tool)
    document = yaml.safe_load(owners_export(agent))
    assert document["tools"] == ["calculator"]
    assert "custom_tools" not in document
