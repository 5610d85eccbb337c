"""Exporting an agent as YAML or Python and importing YAML, over the API."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agents.definitions import DEFINITION_FIELDS
from agents.models import Agent
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
    from tests.agents.fake_openai import FakeOpenAI

    agent = make_agent(instructions="Answer like a pirate.", model="openai/gpt-4.1")
    script = _script(as_user(agent.owner), agent, tmp_path)
    with FakeOpenAI(keys={"sk-script"}) as fake:
        result = _python(
            str(script),
            "Hello there",
            env={"OPENAI_API_KEY": "sk-script", "OPENAI_BASE_URL": fake.base_url},
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stderr
    assert "Answer like a pirate." in result.stdout
    sent = next(r for r in fake.requests if r["path"] == "/v1/responses")
    assert sent["body"]["model"] == "gpt-4.1"
    assert sent["body"]["instructions"] == "Answer like a pirate."


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
