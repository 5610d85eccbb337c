"""Webhook tools users define: checked, encrypted, attached, and called safely."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from agents import services
from agents.models import CustomTool, Run, RunStatus
from agents.runtime.executor import RunSpec, execute
from agents.runtime.webhook_tools import webhook_tool
from tests.agents.doubles import FixedProvider, ListRecorder
from tests.agents.factories import make_agent, make_run
from tests.agents.fake_llm import FakeLLM
from tests.community.factories import UserFactory

# isort: split
from agents_sdk.testing import (
    ModelStep,
    ScriptedModel,
    assistant_message,
    function_call,
)

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"],
}
TOKEN = "Bearer hook-secret-123456"


class Webhook:
    """A local endpoint that records what it receives and answers a forecast."""

    def __init__(
        self, status: int = 200, answer: bytes = b"Sunny, 21 C", delay: float = 0.0
    ) -> None:
        hook = self
        self.calls: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                hook.calls.append(
                    {
                        "body": json.loads(self.rfile.read(length)),
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/forecast"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    hook = Webhook()
    yield hook
    hook.close()


def make_tool(owner, url, **data):
    base = {
        "name": "forecast",
        "description": "The weather forecast for a city.",
        "parameters": SCHEMA,
        "webhook_url": url,
        "secret_header": {"name": "Authorization", "value": TOKEN},
    }
    return services.custom_tool_save(owner=owner, data={**base, **data})


async def call_tool(definition, arguments) -> str:
    model = ScriptedModel(
        [
            ModelStep(
                output=[function_call(definition["name"], arguments, call_id="c")]
            ),
            [assistant_message("ok")],
        ]
    )
    steps = ListRecorder()
    spec = RunSpec(
        definition={"name": "A", "tools": ["custom/1"]},
        input="weather?",
        retry_delay=0,
        custom_tools={"custom/1": definition},
    )
    outcome = await execute(spec, steps, FixedProvider(model))
    assert outcome.status == "completed", outcome.error
    return steps.outputs()[0]


def hook_definition(url):
    return {
        "name": "forecast",
        "description": "Forecast.",
        "parameters": SCHEMA,
        "url": url,
        "secret_header": ("Authorization", TOKEN),
    }


async def test_valid_arguments_are_posted_as_json_with_the_secret_header(webhook):
    output = await call_tool(
        hook_definition(webhook.url), {"city": "Lisbon", "days": 2}
    )
    assert output == "Sunny, 21 C"
    assert webhook.calls == [
        {
            "body": {"city": "Lisbon", "days": 2},
            "authorization": TOKEN,
            "content_type": "application/json",
        }
    ]


async def test_arguments_that_break_the_schema_never_leave_the_server(webhook):
    output = await call_tool(hook_definition(webhook.url), {"days": "two"})
    assert output.startswith("Error: the arguments do not fit the tool's schema")
    assert "'city' is a required property" in output
    assert webhook.calls == []


async def test_a_failing_or_unreachable_webhook_is_reported_to_the_model(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    broken = Webhook(status=500, answer=b"boom")
    try:
        output = await call_tool(hook_definition(broken.url), {"city": "Oslo"})
    finally:
        broken.close()
    assert output == "Error: the tool's webhook answered 500: boom"
    output = await call_tool(hook_definition("http://127.0.0.1:1/x"), {"city": "Oslo"})
    assert output.startswith("Error: the tool's webhook could not be called")


async def test_a_webhook_that_redirects_to_an_internal_address_is_refused(settings):
    """The webhook is on an allowed network; where it redirects is not."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with FakeLLM(host="127.0.0.2") as inside, FakeLLM() as front:
        front.redirect_to = inside.base_url
        output = await call_tool(
            hook_definition(f"{front.base_url}/forecast"), {"city": "Oslo"}
        )
        assert [r["path"] for r in front.requests] == ["/forecast"]
        assert inside.requests == []
    assert output == (
        "Error: the tool's webhook could not be called: 127.0.0.2 is not a public "
        "address (private, loopback, link-local or reserved), so it may not be called."
    )


@pytest.mark.parametrize(
    ("hook", "expected"),
    [
        ({"delay": 1.0}, "did not answer within 0.3 s"),
        ({"answer": b"\x89PNG\r\n\x1a\n\x00\x00"}, "not text"),
        ({"answer": b"\xff\xfe\xfa garbage"}, "not text"),
        ({"answer": b"x" * 5000}, "larger than 4000 bytes"),
    ],
)
async def test_a_slow_or_garbled_webhook_gives_the_model_a_clear_error(
    settings, hook, expected
):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.OUTBOUND_TIMEOUT = 0.3
    settings.OUTBOUND_MAX_BYTES = 4000
    bad = Webhook(**hook)
    try:
        output = await call_tool(hook_definition(bad.url), {"city": "Oslo"})
    finally:
        bad.close()
    assert output.startswith("Error: the tool's webhook")
    assert expected in output


async def test_a_webhook_on_an_internal_address_is_refused(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    output = await call_tool(
        hook_definition("http://169.254.169.254/latest/meta-data/"), {"city": "Oslo"}
    )
    assert "not a public address" in output


def test_the_schema_is_offered_to_the_model_as_written():
    tool = webhook_tool(hook_definition("https://example.com/hook"))
    assert tool.params_json_schema == SCHEMA
    assert tool.strict_json_schema is False


@pytest.mark.django_db
def test_the_secret_header_is_encrypted_at_rest_and_masked_in_the_api(as_user):
    owner = UserFactory()
    response = as_user(owner).post(
        "/api/v1/tools/",
        {
            "name": "forecast",
            "description": "Forecast.",
            "parameters": SCHEMA,
            "webhook_url": "https://hooks.example.com/forecast",
            "secret_header": {"name": "Authorization", "value": TOKEN},
        },
    )
    assert response.status_code == 201, response.json()
    assert TOKEN not in response.content.decode()
    body = response.json()
    assert body["reference"] == f"custom/{body['id']}"
    assert body["secret_header"] == {"name": "Authorization", "masked": "Bea…3456"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM agents_customtool t")
        assert TOKEN not in cursor.fetchone()[0]
    listed = as_user(owner).get("/api/v1/tools/").json()["results"]
    kinds = {tool["name"]: tool["kind"] for tool in listed}
    assert kinds["forecast"] == "custom"
    assert kinds["calculator"] == "builtin"
    assert "forecast" not in {
        t["name"]
        for t in as_user(UserFactory()).get("/api/v1/tools/").json()["results"]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "calculator"}, "name", "built-in tool"),
        ({"name": "has spaces"}, "name", "letters, digits"),
        ({"parameters": {"type": "string"}}, "parameters", "top level"),
        ({"parameters": {"type": 5}}, "parameters", "not a valid JSON schema"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url", "Only http"),
        ({"webhook_url": "http://10.0.0.8/hook"}, "webhook_url", "not a public"),
        ({"description": " "}, "description", "Say what the tool does"),
        ({"secret_header": {"value": "x"}}, "secret_header", "Give the header"),
    ],
)
def test_bad_tools_are_refused_with_field_messages_and_nothing_saved(
    as_user, data, field, message
):
    body = {
        "name": "forecast",
        "description": "Forecast.",
        "parameters": SCHEMA,
        "webhook_url": "https://hooks.example.com/forecast",
        **data,
    }
    response = as_user(UserFactory()).post("/api/v1/tools/", body)
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not CustomTool.objects.exists()


@pytest.mark.django_db
def test_tools_are_edited_and_deleted_by_their_owner_only(as_user):
    owner = UserFactory()
    tool = make_tool(owner, "https://hooks.example.com/a")
    url = f"/api/v1/tools/{tool.pk}/"
    assert as_user(UserFactory()).get(url).status_code == 404
    assert as_user(UserFactory()).delete(url).status_code == 404
    changed = as_user(owner).patch(url, {"description": "Now with rain."})
    assert changed.json()["description"] == "Now with rain."
    # The secret stays when only its header name is given again.
    kept = as_user(owner).patch(url, {"secret_header": {"name": "Authorization"}})
    assert kept.json()["secret_header"]["masked"] == "Bea…3456"
    assert as_user(owner).delete(url).status_code == 204
    assert not CustomTool.objects.exists()


@pytest.mark.django_db
def test_agents_attach_only_their_owners_tools(as_user):
    owner = UserFactory()
    agent = make_agent(owner)
    mine = make_tool(owner, "https://hooks.example.com/a")
    theirs = make_tool(UserFactory(), "https://hooks.example.com/b")
    client = as_user(owner)
    url = f"/api/v1/agents/{agent.pk}/tools/"
    added = client.post(url, {"tool": mine.reference})
    assert added.json() == {"tools": [mine.reference], "version": 2}
    refused = client.post(url, {"tool": theirs.reference})
    assert refused.status_code == 400
    assert "Unknown tool" in refused.json()["tools"][0]
    assert client.put(url, {"tools": ["calculator", mine.reference]}).status_code == 200
    assert client.delete(f"{url}?tool=calculator").json()["tools"] == [mine.reference]
    assert as_user(UserFactory()).post(url, {"tool": "calculator"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_run_calls_the_owners_webhook_tool_and_fails_clearly_once_it_is_gone(
    webhook,
):
    owner = UserFactory()
    tool = make_tool(owner, webhook.url)
    agent = make_agent(owner, tools=[tool.reference])
    model = ScriptedModel(
        [
            ModelStep(
                output=[function_call("forecast", {"city": "Rome"}, call_id="c")]
            ),
            [assistant_message("It will be sunny.")],
        ]
    )
    run = make_run(agent, input="Weather in Rome?")
    services.run_execute(run_id=run.pk, worker="t", provider=FixedProvider(model))
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    result = run.steps.get(type="tool-result").payload
    assert (result["name"], result["output"]) == ("forecast", "Sunny, 21 C")
    assert webhook.calls[0]["authorization"] == TOKEN

    services.custom_tool_delete(tool=tool)
    again = make_run(agent, input="And tomorrow?")
    services.run_execute(run_id=again.pk, worker="t", provider=FixedProvider(model))
    again = Run.objects.get(pk=again.pk)
    assert again.status == RunStatus.FAILED
    assert "no longer exists" in again.error


@pytest.mark.django_db
def test_the_builder_offers_the_owners_webhook_tools_and_keeps_them_on_save(client):
    owner = UserFactory()
    tool = make_tool(owner, "https://hooks.example.com/a")
    agent = make_agent(owner, tools=["calculator", tool.reference])
    client.force_login(owner)
    page = client.get(f"/agents/{agent.pk}/edit/").content.decode()
    assert f'value="{tool.reference}"' in page
    assert "forecast (your webhook tool)" in page
    response = client.post(
        f"/agents/{agent.pk}/edit/",
        {
            "name": agent.name,
            "model": "local/demo",
            "visibility": "private",
            "instructions": "Now different.",
            "tools": ["calculator", tool.reference],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    agent.refresh_from_db()
    assert agent.tools == ["calculator", tool.reference]
    assert agent.instructions == "Now different."
