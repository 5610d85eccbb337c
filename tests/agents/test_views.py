"""The agent pages: list, builder, agent page, version diff, runs and a run."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client

from agents import services
from agents.models import Agent, AgentVersion, Run, RunStatus, Visibility
from agents.payloads import run_to_dict, step_to_dict
from agents.services.runs import run_step_record
from tests.agents.factories import (
    CALCULATOR_QUESTION,
    make_agent,
    make_calculator_agent,
    make_run,
)
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def agent(owner):
    return make_calculator_agent(owner)


@pytest.fixture
def run(agent):
    return make_run(agent)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def builder_data(**overrides) -> dict:
    """A complete builder form, as the browser posts it."""
    data = {
        "name": "Sum helper",
        "description": "Adds things up.",
        "tags": "maths, demo",
        "visibility": "private",
        "instructions": "Use the calculator.",
        "model": "local/demo",
        "temperature": "",
        "top_p": "",
        "max_output_tokens": "",
        "tool_choice": "",
        "tools": ["calculator"],
        "output_type": '{"type": "object", "properties": {"answer": {}}}',
        "input_blocked_words": "",
        "input_blocked_patterns": "",
        "input_max_length": "",
        "input_guard_agent": "",
        "output_blocked_words": "",
        "output_blocked_patterns": "",
        "output_guard_agent": "",
    }
    data.update(overrides)
    return data


# ---------- Every page renders ----------


@pytest.mark.parametrize(
    "path",
    [
        "/agents/",
        "/agents/new/",
        "/agents/{agent}/",
        "/agents/{agent}/edit/",
        "/agents/{agent}/versions/diff/?a=1&b=1",
        "/runs/",
        "/runs/{run}/",
    ],
)
def test_each_page_renders_for_the_owner(path, owner, agent, run):
    response = client_for(owner).get(path.format(agent=agent.pk, run=run.pk))
    assert response.status_code == 200
    assert "<h1" in response.content.decode()


def test_the_agent_list_shows_the_models_display_name_and_the_facts(owner, agent, run):
    """Each row has the name, the model's label (not its id), visibility, version
    and run count."""
    content = client_for(owner).get("/agents/").content.decode()
    assert "Calculator" in content
    assert "Offline demo model" in content
    assert ">local/demo<" not in content
    assert "Private" in content
    assert f'href="/agents/{agent.pk}/"' in content
    assert "<td>1</td>" in content  # one version and one run


def test_the_agent_list_invites_a_new_member_to_build_their_first_agent(owner):
    content = client_for(owner).get("/agents/").content.decode()
    assert "You have no agents yet." in content
    assert 'href="/agents/new/"' in content


def test_the_agent_list_shows_only_the_members_own_agents(owner, agent):
    make_agent(UserFactory(), name="Somebody else's", visibility=Visibility.PUBLIC)
    content = client_for(owner).get("/agents/").content.decode()
    assert "Somebody else&#x27;s" not in content
    assert "Calculator" in content


@pytest.mark.parametrize("path", ["/agents/", "/runs/"])
def test_visitors_get_a_sign_in_prompt_on_the_lists(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert f"/accounts/login/?next={path}" in response.content.decode()


# ---------- Permissions ----------

PERMISSIONS = [
    # page, who, private agent status, public agent status
    ("/agents/{agent}/", "owner", 200, 200),
    ("/agents/{agent}/", "stranger", 404, 200),
    ("/agents/{agent}/", "staff", 200, 200),
    ("/agents/{agent}/", "anonymous", 302, 302),
    ("/agents/{agent}/edit/", "owner", 200, 200),
    ("/agents/{agent}/edit/", "stranger", 404, 403),
    ("/agents/{agent}/edit/", "staff", 403, 403),
    ("/agents/{agent}/edit/", "anonymous", 302, 302),
    ("/agents/{agent}/versions/diff/?a=1&b=1", "stranger", 404, 200),
    ("/runs/{run}/", "owner", 200, 200),
    ("/runs/{run}/", "stranger", 404, 404),
    ("/runs/{run}/", "staff", 200, 200),
    ("/runs/{run}/", "anonymous", 302, 302),
]


@pytest.mark.parametrize(("path", "who", "private", "public"), PERMISSIONS)
def test_pages_follow_the_visibility_rules(path, who, private, public, owner):
    """Private agents and everyone's runs are the owner's (and staff's); a
    shared agent is visible to strangers but only its owner may edit it. What
    one may not see is a 404; anonymous visitors are sent to log in."""
    users = {
        "owner": owner,
        "stranger": UserFactory(),
        "staff": UserFactory(is_staff=True),
        "anonymous": None,
    }
    for visibility, expected in (
        (Visibility.PRIVATE, private),
        (Visibility.PUBLIC, public),
    ):
        agent = make_calculator_agent(owner, visibility=visibility)
        run = make_run(agent)
        response = client_for(users[who]).get(path.format(agent=agent.pk, run=run.pk))
        assert response.status_code == expected, (visibility, response.status_code)
        if expected == 302:
            assert response["Location"].startswith("/accounts/login/")


def test_strangers_see_a_public_agent_without_edit_or_delete_buttons(owner):
    agent = make_calculator_agent(owner, visibility=Visibility.PUBLIC)
    content = client_for(UserFactory()).get(f"/agents/{agent.pk}/").content.decode()
    assert f"/agents/{agent.pk}/run/" in content  # they may run it
    assert f"/agents/{agent.pk}/edit/" not in content
    assert f"/agents/{agent.pk}/delete/" not in content


def test_strangers_cannot_save_or_delete_a_public_agent(owner):
    agent = make_calculator_agent(owner, visibility=Visibility.PUBLIC)
    stranger = client_for(UserFactory())
    assert stranger.post(f"/agents/{agent.pk}/edit/", builder_data()).status_code == 403
    assert stranger.post(f"/agents/{agent.pk}/delete/").status_code == 403
    agent.refresh_from_db()
    assert agent.name == "Calculator"
    assert agent.version_number == 1


def test_the_run_list_shows_only_runs_the_member_started(owner, agent, run):
    stranger = UserFactory()
    content = client_for(stranger).get("/runs/").content.decode()
    assert f'href="/runs/{run.pk}/"' not in content
    assert f'href="/runs/{run.pk}/"' in client_for(owner).get("/runs/").content.decode()


# ---------- The builder ----------


def test_the_builder_offers_the_catalog_tools_snippets_and_guard_agents(owner, agent):
    """Models by display name, every registry tool with its description, example
    instructions, and the member's other agents as guard agents (not itself)."""
    other = make_agent(owner, name="Bouncer")
    content = client_for(owner).get(f"/agents/{agent.pk}/edit/").content.decode()
    assert '<option value="local/demo" selected>Offline demo model</option>' in content
    assert 'value="calculator"' in content
    assert "Exact arithmetic" in content
    assert "data-snippet=" in content
    assert f'<option value="{other.pk}">Bouncer</option>' in content
    assert f'<option value="{agent.pk}">' not in content
    assert 'id="run-panel"' in content


def test_the_builder_creates_an_agent_and_its_first_version(owner):
    response = client_for(owner).post(
        "/agents/new/",
        builder_data(
            temperature="0.3",
            tool_choice="calculator",
            input_blocked_words="secret\npassword\n",
            input_max_length="500",
        ),
    )
    agent = Agent.objects.get(owner=owner)
    assert response.status_code == 302
    assert response["Location"] == f"/agents/{agent.pk}/edit/"
    assert agent.name == "Sum helper"
    assert agent.tags == ["maths", "demo"]
    assert agent.tools == ["calculator"]
    assert agent.output_type["type"] == "object"
    assert agent.model_settings == {"temperature": 0.3, "tool_choice": "calculator"}
    assert agent.guardrails == {
        "input": {"blocked_words": ["secret", "password"], "max_length": 500}
    }
    assert list(agent.versions.values_list("number", flat=True)) == [1]


def test_editing_the_definition_saves_version_2(owner, agent):
    response = client_for(owner).post(
        f"/agents/{agent.pk}/edit/",
        builder_data(name="Calculator", instructions="Be brief."),
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.instructions == "Be brief."
    assert agent.version_number == 2
    assert agent.versions.get(number=2).definition["instructions"] == "Be brief."


def test_the_edit_form_shows_the_saved_definition(owner):
    agent = make_calculator_agent(
        owner,
        model_settings={"temperature": 0.5},
        guardrails={"output": {"blocked_patterns": [r"\d{16}"]}},
    )
    content = client_for(owner).get(f"/agents/{agent.pk}/edit/").content.decode()
    assert 'name="temperature" value="0.5"' in content
    assert "&quot;required&quot;: [" in content  # the output type, indented
    assert r"\d{16}</textarea>" in content


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"name": "  "}, "id_name_error", "Give the agent a name."),
        (
            {"output_type": '{"type": "object",'},
            "id_output_type_error",
            "The output type is not valid JSON",
        ),
        (
            {"output_type": '{"type": "string"}'},
            "id_output_type_error",
            "top level must be",
        ),
        (
            {"tools": ["calculator", "teleport"]},
            "id_tools_error",
            "Unknown tool: teleport",
        ),
        ({"temperature": "3"}, "id_temperature_error", "less than or equal to 2"),
        (
            {"input_blocked_patterns": "(unclosed"},
            None,
            "is not a valid regular expression",
        ),
    ],
)
def test_invalid_input_is_shown_next_to_the_field_and_nothing_is_saved(
    overrides, field_id, message, owner, agent
):
    """Creating and editing alike: the page comes back with the message, the
    member's input kept, and no agent or version is written."""
    client = client_for(owner)
    agents, versions = Agent.objects.count(), AgentVersion.objects.count()
    for path in ("/agents/new/", f"/agents/{agent.pk}/edit/"):
        data = builder_data(instructions="Keep this text.", **overrides)
        response = client.post(path, data)
        content = response.content.decode()
        assert response.status_code == 200
        assert "Nothing was saved." in content
        assert message in content
        assert "Keep this text.</textarea>" in content
        if field_id:
            errors = content.split(f'id="{field_id}"')[1].split("</small>")[0]
            assert message in errors
    assert Agent.objects.count() == agents
    assert AgentVersion.objects.count() == versions
    agent.refresh_from_db()
    assert agent.instructions == "You help with arithmetic."


# ---------- Live validation ----------


def validate(client, field: str, agent=None, **values):
    path = "/agents/validate/" + (f"?agent={agent.pk}" if agent else "")
    return client.post(
        path,
        builder_data(**values),
        headers={"HX-Request": "true", "HX-Trigger-Name": field},
    )


def test_live_validation_reports_the_servers_message_for_the_output_type(owner):
    client = client_for(owner)
    bad = validate(client, "output_type", output_type='{"type": "array"}')
    assert bad.status_code == 200
    assert 'id="id_output_type_error"' in bad.content.decode()
    assert "top level must be" in bad.content.decode()
    good = validate(client, "output_type", output_type='{"type": "object"}')
    assert "The server accepts this schema." in good.content.decode()
    assert "hidden" not in good.content.decode()


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("name", {"name": ""}, "Give the agent a name."),
        (
            "input_blocked_patterns",
            {"input_blocked_patterns": "a(b"},
            "regular expression",
        ),
        (
            "tool_choice",
            {"tool_choice": "current_time", "tools": ["calculator"]},
            "tool_choice must be",
        ),
        ("top_p", {"top_p": "1.5"}, "less than or equal to 1"),
    ],
)
def test_live_validation_checks_each_field_on_its_own(owner, field, values, message):
    response = validate(client_for(owner), field, **values)
    assert message in response.content.decode()


def test_live_validation_of_a_good_field_returns_a_hidden_empty_message(owner):
    content = validate(client_for(owner), "name", name="Fine").content.decode()
    assert "hidden" in content
    assert "<span>" not in content


def test_live_validation_of_someone_elses_agent_is_refused(owner):
    agent = make_calculator_agent(owner, visibility=Visibility.PUBLIC)
    response = validate(client_for(UserFactory()), "name", agent=agent)
    assert response.status_code == 403


# ---------- Runs from the agent page and the builder ----------


def test_the_run_form_starts_a_run_and_goes_to_its_page(owner, agent):
    """Without htmx the form leads to the run page; the run waits for a worker
    with the request as its first step."""
    response = client_for(owner).post(
        f"/agents/{agent.pk}/run/", {"input": CALCULATOR_QUESTION, "version": ""}
    )
    run = Run.objects.get(agent=agent)
    assert response.status_code == 302
    assert response["Location"] == f"/runs/{run.pk}/"
    assert run.status == RunStatus.QUEUED
    assert run.owner == owner
    assert list(run.steps.values_list("order", "type")) == [(1, "user-request")]


def test_the_run_panel_shows_the_new_run_live(owner, agent):
    """With htmx the panel comes back holding the run's timeline, connected to
    the run's websocket, with the request already rendered as step 1."""
    response = client_for(owner).post(
        f"/agents/{agent.pk}/run/",
        {"input": CALCULATOR_QUESTION, "panel": "builder"},
        headers={"HX-Request": "true"},
    )
    run = Run.objects.get(agent=agent)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="run-panel"')
    assert f'ws-connect="/ws/runs/{run.pk}/?format=html&after=1"' in content
    assert 'id="step-1"' in content
    assert CALCULATOR_QUESTION in content
    assert f"/runs/{run.pk}/cancel/" in content
    assert 'name="version"' not in content  # the builder runs the latest version


def test_a_pinned_version_is_the_one_that_runs(owner, agent):
    services.agent_update(agent=agent, user=owner, data={"instructions": "v2"})
    client_for(owner).post(f"/agents/{agent.pk}/run/", {"input": "Hi", "version": "1"})
    assert Run.objects.get(agent=agent).version.number == 1


def test_an_empty_input_shows_the_services_message_and_starts_nothing(owner, agent):
    response = client_for(owner).post(
        f"/agents/{agent.pk}/run/",
        {"input": "   ", "panel": "detail"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Write something for the agent to work on." in response.content.decode()
    assert not Run.objects.exists()


def test_strangers_can_run_a_public_agent_but_not_a_private_one(owner):
    stranger = client_for(UserFactory())
    private = make_calculator_agent(owner)
    public = make_calculator_agent(owner, visibility=Visibility.PUBLIC)
    assert (
        stranger.post(f"/agents/{private.pk}/run/", {"input": "Hi"}).status_code == 404
    )
    assert (
        stranger.post(f"/agents/{public.pk}/run/", {"input": "Hi"}).status_code == 302
    )
    assert Run.objects.filter(agent=public).count() == 1


# ---------- The agent page and versions ----------


def test_the_agent_page_summarises_the_definition_and_lists_versions(owner, agent):
    services.agent_update(agent=agent, user=owner, data={"instructions": "Newer."})
    content = client_for(owner).get(f"/agents/{agent.pk}/").content.decode()
    assert "Offline demo model" in content
    assert "<code>calculator</code>" in content
    assert "&quot;answer&quot;: {" in content  # the output type, pretty-printed
    assert f"/agents/{agent.pk}/versions/diff/?a=1&amp;b=2" in content
    assert '<option value="1">Version 1</option>' in content


def test_the_diff_page_marks_removed_and_added_lines(owner, agent):
    services.agent_update(
        agent=agent,
        user=owner,
        data={"instructions": "Use the calculator.\nBe brief.", "tools": []},
    )
    response = client_for(owner).get(f"/agents/{agent.pk}/versions/diff/?a=1&b=2")
    content = response.content.decode()
    assert response.status_code == 200
    removed = 'class="diff-line diff-removed">'
    added = 'class="diff-line diff-added">'
    assert f'{removed}<span class="diff-marker"' in content
    assert "You help with arithmetic.</span>" in content.split(removed, 1)[1]
    assert "Be brief.</span>" in content.split(added, 1)[1]
    assert 'id="diff-tools"' in content
    assert 'id="diff-model"' not in content  # unchanged fields are only named


def test_the_diff_of_a_missing_version_is_not_found(owner, agent):
    response = client_for(owner).get(f"/agents/{agent.pk}/versions/diff/?a=1&b=9")
    assert response.status_code == 404


def test_the_owner_deletes_an_agent(owner, agent):
    response = client_for(owner).post(f"/agents/{agent.pk}/delete/")
    assert response.status_code == 302
    assert not Agent.objects.filter(pk=agent.pk).exists()


# ---------- The run page ----------


def test_the_run_page_renders_the_saved_steps_and_follows_the_live_stream(owner, run):
    content = client_for(owner).get(f"/runs/{run.pk}/").content.decode()
    assert 'id="step-1"' in content
    assert 'data-step-type="user-request"' in content
    assert f'ws-connect="/ws/runs/{run.pk}/?format=html&after=1"' in content
    assert 'id="live-text"' in content
    assert "Queued" in content


def test_a_finished_run_page_shows_the_output_and_opens_no_socket(owner, run):
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED, final_output={"answer": 45}
    )
    content = client_for(owner).get(f"/runs/{run.pk}/").content.decode()
    assert "ws-connect" not in content
    assert "&quot;answer&quot;: 45" in content
    assert "/cancel/" not in content


def test_the_owner_cancels_a_queued_run(owner, run):
    response = client_for(owner).post(
        f"/runs/{run.pk}/cancel/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_staff_may_look_at_a_run_but_not_cancel_or_delete_it(run):
    staff = client_for(UserFactory(is_staff=True))
    assert staff.post(f"/runs/{run.pk}/cancel/").status_code == 403
    assert staff.post(f"/runs/{run.pk}/delete/").status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED


def test_the_owner_deletes_a_run(owner, run):
    response = client_for(owner).post(f"/runs/{run.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/runs/"
    assert not Run.objects.filter(pk=run.pk).exists()


def test_the_run_list_filters_by_status_and_agent(owner, agent):
    other = make_agent(owner, name="Other")
    queued = make_run(agent)
    cancelled = services.run_cancel(run=make_run(agent))
    elsewhere = make_run(other)
    client = client_for(owner)

    def listed(query):
        content = client.get(f"/runs/?{query}").content.decode()
        return {
            r.pk
            for r in (queued, cancelled, elsewhere)
            if f'"/runs/{r.pk}/"' in content
        }

    assert listed("") == {queued.pk, cancelled.pk, elsewhere.pk}
    assert listed("status=cancelled") == {cancelled.pk}
    assert listed(f"agent={other.pk}") == {elsewhere.pk}
    assert listed(f"status=queued&agent={agent.pk}") == {queued.pk}


def test_the_run_list_is_paginated(owner, agent):
    runs = [make_run(agent, input=f"question {n}") for n in range(25)]
    client = client_for(owner)
    first = client.get("/runs/?status=queued").content.decode()
    second = client.get("/runs/?status=queued&page=2").content.decode()
    assert f'"/runs/{runs[-1].pk}/"' in first
    assert f'"/runs/{runs[0].pk}/"' not in first
    assert f'"/runs/{runs[0].pk}/"' in second
    assert "status=queued&amp;page=2" in first


# ---------- Fragments the websocket sends ----------


def test_a_live_step_is_appended_to_the_timeline_with_a_stable_id(agent, run):
    step = run.steps.create(
        order=2,
        type="tool-call",
        payload={"name": "calculator", "arguments": {"a": 5, "b": 10}},
        input_tokens=12,
        output_tokens=7,
        latency_ms=40,
    )
    html = render_to_string(
        "agents/partials/live_step.html", {"step": step_to_dict(step)}
    )
    assert re.search(r'<div hx-swap-oob="beforeend:#steps">\s*<li id="step-2"', html)
    assert "&quot;a&quot;: 5,\n  &quot;b&quot;: 10" in html
    assert "12 in / 7 out tokens" in html
    assert "40 ms" in html


def test_a_live_response_clears_the_streamed_text_and_formats_json(agent, run):
    step = run.steps.create(
        order=5,
        type="agent-response",
        payload={"agent": "Calc", "text": '{"answer":45}'},
    )
    html = render_to_string(
        "agents/partials/live_step.html", {"step": step_to_dict(step)}
    )
    live_text = re.search(r'<div id="live-text"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert live_text is not None
    assert 'hx-swap-oob="true"' in live_text.group(0)
    assert live_text.group(1) == ""  # emptied, so CSS hides it
    assert "&quot;answer&quot;: 45" in html


def test_the_live_status_replaces_the_header_and_shows_the_output(run):
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED,
        final_output={"answer": 45},
        usage={"input_tokens": 30, "output_tokens": 12, "total_tokens": 42},
    )
    run.refresh_from_db()
    html = render_to_string(
        "agents/partials/live_status.html", {"run": run_to_dict(run)}
    )
    assert 'id="run-status"' in html
    assert 'hx-swap-oob="true"' in html
    assert "Completed" in html
    assert "42" in html
    assert "&quot;answer&quot;: 45" in html
    assert '<span id="run-cancel" hx-swap-oob="true"></span>' in html


def test_a_live_delta_is_appended_to_the_streamed_text():
    html = render_to_string("agents/partials/live_delta.html", {"text": "4<5 "})
    assert html.strip() == '<span hx-swap-oob="beforeend:#live-text">4&lt;5 </span>'


# ---------- Query counts ----------


def test_the_agent_list_makes_the_same_queries_for_many_agents(
    owner, django_assert_max_num_queries
):
    client = client_for(owner)
    make_agent(owner, name="First")
    client.get("/agents/")  # warm the session and content-type caches
    # Two of them: the low-balance banner and the notification bell (context
    # processors).
    with django_assert_max_num_queries(6) as few:
        client.get("/agents/")
    for number in range(8):
        agent = make_agent(owner, name=f"Agent {number}")
        make_run(agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/agents/")


def test_the_run_list_makes_the_same_queries_for_many_runs(
    owner, agent, django_assert_max_num_queries
):
    client = client_for(owner)
    make_run(agent)
    client.get("/runs/")
    with django_assert_max_num_queries(7) as few:
        client.get("/runs/")
    for number in range(8):
        make_run(make_agent(owner, name=f"Agent {number}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/runs/")


# ---------- Models the member cannot use now ----------


def option_for(content: str, value: str) -> str:
    """The whole <option> tag of one model in the builder's model select."""
    match = re.search(
        rf'<option value="{re.escape(value)}"[^>]*>[^<]*</option>', content
    )
    assert match, value
    return match.group(0)


def test_the_builder_disables_models_of_providers_the_member_cannot_use(
    owner, settings
):
    """Without a key for OpenAI its models are shown, marked unavailable and
    disabled, with the reason beside the select; the offline model is as ever."""
    settings.OPENAI_API_KEY = ""
    content = client_for(owner).get("/agents/new/").content.decode()
    option = option_for(content, "openai/gpt-4.1")
    assert " disabled" in option
    assert "GPT-4.1 (unavailable)" in option
    assert option_for(content, "local/demo") == (
        '<option value="local/demo">Offline demo model</option>'
    )
    note = content.split('id="id_model_availability"')[1].split("</div>")[0]
    assert "OpenAI" in note
    assert "No OpenAI key" in note
    assert 'href="/settings/provider-keys/"' in note
    select = content.split('<select name="model"')[1].split(">")[0]
    assert "id_model_availability" in select  # aria-describedby


def test_the_builder_offers_every_model_when_the_site_has_a_key(owner, settings):
    settings.OPENAI_API_KEY = "sk-site"
    content = client_for(owner).get("/agents/new/").content.decode()
    assert option_for(content, "openai/gpt-4.1") == (
        '<option value="openai/gpt-4.1">GPT-4.1</option>'
    )
    # Other providers may still be explained; OpenAI is not among them.
    assert "<strong>OpenAI</strong>" not in content


def test_an_agents_saved_model_stays_selectable_when_unavailable(owner, settings):
    """Editing an older agent keeps its model, though other models of the same
    provider cannot be picked."""
    settings.OPENAI_API_KEY = ""
    agent = make_agent(owner, model="openai/gpt-4.1")
    client = client_for(owner)
    content = client.get(f"/agents/{agent.pk}/edit/").content.decode()
    saved = option_for(content, "openai/gpt-4.1")
    assert "disabled" not in saved
    assert " selected" in saved
    assert "(unavailable)" in saved
    assert " disabled" in option_for(content, "openai/gpt-4.1-mini")
    response = client.post(
        f"/agents/{agent.pk}/edit/",
        builder_data(name="Helper", model="openai/gpt-4.1", instructions="Be brief."),
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.instructions == "Be brief."


def test_a_disabled_model_posted_anyway_is_refused_and_nothing_saved(owner, settings):
    settings.OPENAI_API_KEY = ""
    response = client_for(owner).post(
        "/agents/new/", builder_data(model="openai/gpt-4.1-mini")
    )
    content = response.content.decode()
    assert "Nothing was saved." in content
    errors = content.split('id="id_model_error"')[1].split("</small>")[0]
    assert "No OpenAI key" in errors
    assert not Agent.objects.exists()


def test_any_provider_the_site_knows_is_judged_the_same_way(
    owner, settings, monkeypatch
):
    """A provider added to selectors.PROVIDERS needs no builder change."""
    from agents import selectors
    from agents.models import LanguageModel

    monkeypatch.setitem(
        selectors.PROVIDERS,
        "acme",
        {"name": "Acme AI", "description": "A test provider.", "needs_key": True},
    )
    LanguageModel.objects.create(provider="acme", name="rocket", display_name="Rocket")
    content = client_for(owner).get("/agents/new/").content.decode()
    option = option_for(content, "acme/rocket")
    assert " disabled" in option
    assert "Rocket (unavailable)" in option
    assert "No Acme AI" in content.split('id="id_model_availability"')[1]


def test_an_answer_nested_deeper_than_json_parses_is_shown_as_text(owner, run):
    """A model's answer is pretty-printed when it is JSON; one nested past
    what Python's parser can take is shown as the text it is, not a 500."""
    deep = "[" * 10_000 + "]" * 10_000
    services.run_claim(run_id=run.pk, worker="test")
    run_step_record(
        run=run, order=2, type="agent-response", payload={"agent": "A", "text": deep}
    )
    Run.objects.filter(pk=run.pk).update(status="completed", final_output=deep)
    response = client_for(owner).get(f"/runs/{run.pk}/")
    assert response.status_code == 200
    assert deep[:100] in response.content.decode()


def test_a_run_a_guardrail_blocked_says_so_on_its_page_and_in_the_list(owner, run):
    services.run_claim(run_id=run.pk, worker="test")
    run_step_record(
        run=run,
        order=2,
        type="guardrail",
        payload={
            "stage": "output",
            "rule": "blocked_words",
            "reason": "It contains 'password'.",
            "tripped": True,
        },
    )
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED,
        error="Blocked by the output guardrail (blocked words): "
        "It contains 'password'.",
        error_code="guardrail_blocked",
    )
    page = client_for(owner).get(f"/runs/{run.pk}/").content.decode()
    assert 'data-error-code="guardrail_blocked"' in page
    assert "Blocked by the output guardrail (blocked words)" in page
    assert "The run failed" not in page
    listing = client_for(owner).get("/runs/").content.decode()
    assert re.search(r'data-error-code="guardrail_blocked">\s*Blocked<', listing)
