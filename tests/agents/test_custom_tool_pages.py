"""The pages where members create, edit and delete their webhook tools."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from agents import services
from agents.models import CustomTool
from config import crypto
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
TOKEN = "Bearer hook-secret-123456"


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def make_tool(owner, **data) -> CustomTool:
    base = {
        "name": "forecast",
        "description": "The weather forecast for a city.",
        "parameters": SCHEMA,
        "webhook_url": "https://hooks.example.com/forecast",
        "secret_header": {"name": "Authorization", "value": TOKEN},
    }
    return services.custom_tool_save(owner=owner, data={**base, **data})


def tool_form(**overrides) -> dict:
    """A complete tool form, as the browser posts it."""
    data = {
        "name": "forecast",
        "description": "The weather forecast for a city.",
        "parameters": json.dumps(SCHEMA),
        "webhook_url": "https://hooks.example.com/forecast",
        "secret_header_name": "",
        "secret_header_value": "",
    }
    data.update(overrides)
    return data


def field_errors(content: str, field: str) -> str:
    """The text of the error element under one form field."""
    return content.split(f'id="id_{field}_error"')[1].split("</small>")[0]


@pytest.fixture
def owner(db):
    return UserFactory()


# ---------- The tools page ----------


def test_the_tools_page_offers_a_new_tool_and_lists_only_the_members_own(owner):
    mine = make_tool(owner)
    make_tool(UserFactory(), name="their_hook")
    content = client_for(owner).get("/tools/").content.decode()
    assert 'href="/tools/new/"' in content
    assert 'id="tool-forecast"' in content
    assert f'href="/tools/{mine.pk}/edit/"' in content
    assert f'action="/tools/{mine.pk}/delete/"' in content
    assert "hx-confirm=" in content
    assert "their_hook" not in content
    # Built-in tools have no edit link.
    row = content.split('id="tool-calculator"')[1].split("</tr>")[0]
    assert "/edit/" not in row


def test_the_tools_page_makes_the_same_queries_for_many_tools(
    owner, django_assert_max_num_queries
):
    client = client_for(owner)
    make_tool(owner)
    client.get("/tools/")  # warm the session and content-type caches
    with django_assert_max_num_queries(8) as few:
        client.get("/tools/")
    for number in range(6):
        make_tool(owner, name=f"hook_{number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/tools/")


# ---------- Creating ----------


def test_a_member_creates_a_webhook_tool_with_a_secret_header(owner):
    client = client_for(owner)
    page = client.get("/tools/new/")
    assert page.status_code == 200
    textarea = page.content.decode().split('<textarea name="parameters"')[1]
    assert "&quot;type&quot;: &quot;object&quot;" in textarea.split(">")[0]
    response = client.post(
        "/tools/new/",
        tool_form(secret_header_name="Authorization", secret_header_value=TOKEN),
    )
    assert response.status_code == 302
    assert response["Location"] == "/tools/"
    tool = CustomTool.objects.get(owner=owner)
    assert (tool.name, tool.parameters) == ("forecast", SCHEMA)
    assert tool.webhook_url == "https://hooks.example.com/forecast"
    assert tool.secret_header_name == "Authorization"
    assert tool.secret_header_value != TOKEN
    assert crypto.decrypt(tool.secret_header_value) == TOKEN
    listed = client.get("/tools/").content.decode()
    assert "Saved the webhook tool forecast." in listed
    assert TOKEN not in listed


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "calculator"}, "name", "is a built-in tool&#x27;s name"),
        ({"name": "has spaces"}, "name", "letters, digits"),
        ({"description": ""}, "description", "This field is required."),
        ({"parameters": '{"type": "object",'}, "parameters", "not valid JSON"),
        ({"parameters": '{"type": "string"}'}, "parameters", "top level must be"),
        ({"parameters": '{"type": 5}'}, "parameters", "not a valid JSON schema"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url", "Only http"),
        ({"webhook_url": "http://10.0.0.8/hook"}, "webhook_url", "not a public"),
        (
            {"webhook_url": "http://169.254.169.254/latest/meta-data/"},
            "webhook_url",
            "not a public",
        ),
        (
            {"secret_header_value": TOKEN},
            "secret_header_name",
            "Give the header&#x27;s name",
        ),
        (
            {"secret_header_name": "Authorization"},
            "secret_header_value",
            "Give the header&#x27;s value.",
        ),
    ],
)
def test_bad_input_is_shown_by_its_field_and_nothing_is_saved(
    owner, overrides, field, message
):
    response = client_for(owner).post("/tools/new/", tool_form(**overrides))
    content = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved." in content
    assert message in field_errors(content, field)
    assert not CustomTool.objects.exists()
    # What the member typed comes back, except a secret.
    assert "The weather forecast for a city." in content or field == "description"
    assert TOKEN not in content


def test_parameters_nested_too_deeply_are_shown_by_their_field(owner):
    """10,000 levels were a RecursionError (500)."""
    response = client_for(owner).post(
        "/tools/new/", tool_form(parameters="[" * 10_000 + "]" * 10_000)
    )
    assert response.status_code == 400
    assert "Nested too deeply: at most 64 levels" in field_errors(
        response.content.decode(), "parameters"
    )
    assert not CustomTool.objects.exists()


def test_a_name_the_member_already_uses_is_refused(owner):
    make_tool(owner)
    response = client_for(owner).post("/tools/new/", tool_form())
    assert response.status_code == 400
    errors = field_errors(response.content.decode(), "name")
    assert "You already have a tool with this name." in errors
    assert CustomTool.objects.count() == 1


# ---------- Editing ----------


def test_the_edit_page_says_a_secret_is_set_but_never_shows_it(owner):
    tool = make_tool(owner)
    content = client_for(owner).get(f"/tools/{tool.pk}/edit/").content.decode()
    assert "Set — leave empty to keep" in content
    assert TOKEN not in content
    assert tool.secret_header_value not in content  # nor the encrypted token
    assert 'value="Authorization"' in content
    assert 'value="https://hooks.example.com/forecast"' in content
    assert "&quot;city&quot;" in content  # the parameters, as JSON


def test_an_empty_secret_value_keeps_the_stored_one(owner):
    tool = make_tool(owner)
    response = client_for(owner).post(
        f"/tools/{tool.pk}/edit/",
        tool_form(description="Now with rain.", secret_header_name="Authorization"),
    )
    assert response.status_code == 302
    tool.refresh_from_db()
    assert tool.description == "Now with rain."
    assert crypto.decrypt(tool.secret_header_value) == TOKEN


def test_a_new_secret_value_replaces_it_and_an_empty_name_removes_it(owner):
    tool = make_tool(owner)
    client = client_for(owner)
    client.post(
        f"/tools/{tool.pk}/edit/",
        tool_form(secret_header_name="X-Key", secret_header_value="new-secret"),
    )
    tool.refresh_from_db()
    assert tool.secret_header_name == "X-Key"
    assert crypto.decrypt(tool.secret_header_value) == "new-secret"
    client.post(f"/tools/{tool.pk}/edit/", tool_form())
    tool.refresh_from_db()
    assert (tool.secret_header_name, tool.secret_header_value) == ("", "")
    content = client.get(f"/tools/{tool.pk}/edit/").content.decode()
    assert "Set — leave empty to keep" not in content


def test_a_bad_edit_changes_nothing_and_keeps_the_secret(owner):
    tool = make_tool(owner)
    response = client_for(owner).post(
        f"/tools/{tool.pk}/edit/",
        tool_form(
            name="renamed",
            webhook_url="http://10.0.0.8/hook",
            secret_header_name="Authorization",
            secret_header_value="replacement-secret",
        ),
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "not a public" in field_errors(content, "webhook_url")
    assert "replacement-secret" not in content
    assert "Edit forecast" in content  # the stored name, not the refused one
    tool.refresh_from_db()
    assert tool.name == "forecast"
    assert tool.webhook_url == "https://hooks.example.com/forecast"
    assert crypto.decrypt(tool.secret_header_value) == TOKEN


def test_the_edit_page_names_the_agents_that_use_the_tool(owner):
    tool = make_tool(owner)
    agent = make_agent(owner, name="Weather bot", tools=[tool.reference])
    make_agent(owner, name="Unrelated")
    content = client_for(owner).get(f"/tools/{tool.pk}/edit/").content.decode()
    used_by = content.split('id="tool-used-by"')[1].split("</p>")[0]
    assert f'href="/agents/{agent.pk}/"' in used_by
    assert "Unrelated" not in used_by


# ---------- Deleting ----------


def test_the_owner_deletes_a_tool(owner):
    tool = make_tool(owner)
    client = client_for(owner)
    response = client.post(f"/tools/{tool.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/tools/"
    assert not CustomTool.objects.exists()
    other = make_tool(owner, name="other")
    response = client.post(f"/tools/{other.pk}/delete/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == "/tools/"
    assert not CustomTool.objects.exists()


def test_deleting_needs_a_post(owner):
    tool = make_tool(owner)
    assert client_for(owner).get(f"/tools/{tool.pk}/delete/").status_code == 405
    assert CustomTool.objects.filter(pk=tool.pk).exists()


# ---------- Permissions ----------


@pytest.mark.parametrize("who", ["stranger", "staff"])
def test_others_get_a_404_and_change_nothing(owner, who):
    tool = make_tool(owner)
    other = client_for(UserFactory(is_staff=who == "staff"))
    assert other.get(f"/tools/{tool.pk}/edit/").status_code == 404
    edit = other.post(f"/tools/{tool.pk}/edit/", tool_form(description="Mine now."))
    assert edit.status_code == 404
    assert other.post(f"/tools/{tool.pk}/delete/").status_code == 404
    tool.refresh_from_db()
    assert tool.description == "The weather forecast for a city."


@pytest.mark.parametrize("path", ["/tools/new/", "/tools/{tool}/edit/"])
def test_visitors_are_sent_to_sign_in(owner, path):
    tool = make_tool(owner)
    response = client_for(None).get(path.format(tool=tool.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = client_for(None).post(f"/tools/{tool.pk}/delete/")
    assert response["Location"].startswith("/accounts/login/")
    assert CustomTool.objects.filter(pk=tool.pk).exists()
