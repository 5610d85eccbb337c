"""Building an agent and watching its run live, in a real browser.

pytest-django's ``live_server`` speaks WSGI only, and the run timeline needs a
websocket, so these tests use ``asgi_server`` (tests/e2e/conftest.py: Daphne
in a subprocess on the test database) next to a real Celery worker. Both share
the PostgreSQL channel layer, so steps the worker saves reach the browser.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from agents import services
from agents.models import Agent, Run, RunStatus
from tests.agents.factories import make_calculator_agent
from tests.community.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

TIMEOUT = 20_000  # ms: the worker's first run includes its start-up.
QUESTION = "What is 5 + 10, then multiply by 3?"
SCHEMA = (
    '{"type":"object","properties":{"answer":{"type":"number"}},"required":["answer"]}'
)


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture(autouse=True)
def _default_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()
    expect(page.locator("#home-title")).to_contain_text(username)


def step_ids(page: Page) -> list[str]:
    return page.locator("#steps > li").evaluate_all("items => items.map(i => i.id)")


def expect_calculator_timeline(page: Page) -> None:
    steps = page.locator("#steps")
    expect(steps.locator("[data-step-type=user-request]")).to_contain_text(QUESTION)
    expect(steps.locator("[data-step-type=agent-thought]").first).to_be_visible()
    expect(steps.locator("[data-step-type=tool-call]").first).to_contain_text(
        "calculator"
    )
    expect(steps.locator("[data-step-type=tool-result]").first).to_be_visible()
    expect(page.locator("#run-status [data-status=completed]")).to_be_visible()
    expect(page.locator("#run-result .final-output")).to_contain_text(
        re.compile(r'"answer": 45(\.0)?\b')
    )


def test_a_member_builds_an_agent_runs_it_and_watches_it_live(
    page: Page,
    asgi_server,
    start_worker,
    demo_model,
    console_errors,
    screenshot,
):
    """A new agent with the calculator and an output type answers 45 live in the
    builder's panel; the run page shows the same steps once each, also after a
    reload, and nothing is logged as an error in the browser."""
    start_worker()
    member = UserFactory()
    base = asgi_server.url
    log_in(page, base, member.username)

    page.goto(f"{base}/agents/new/")
    expect(page.locator("#id_model")).to_have_value("local/demo")
    expect(page.locator("#id_model option:checked")).to_have_text("Offline demo model")
    page.locator("#id_name").fill("Sum helper")
    page.locator("input[name=tools][value=calculator]").check()
    output_type = page.locator("#id_output_type")
    output_type.fill('{"type": "object",')
    expect(page.locator("[data-json-status-for=id_output_type]")).to_contain_text(
        "Not valid JSON"
    )
    expect(page.locator("#id_output_type_error")).to_contain_text("not valid JSON")
    # The service's verdict on submit: shown at the field, the input kept.
    output_type.fill('{"type": "string"}')
    page.get_by_role("button", name="Create agent").click()
    expect(page.locator("main .form-errors[role=alert]").first).to_contain_text(
        "Nothing was saved."
    )
    expect(page.locator("#id_output_type_error")).to_contain_text("top level")
    expect(page.locator("#id_name")).to_have_value("Sum helper")
    expect(page.locator("input[name=tools][value=calculator]")).to_be_checked()
    screenshot(page, "builder-errors")
    assert not Agent.objects.filter(owner=member).exists()

    output_type.fill(SCHEMA)
    expect(page.locator("[data-json-status-for=id_output_type]")).to_have_text(
        "Valid JSON."
    )
    expect(page.locator("#id_output_type_error")).to_have_text(
        "The server accepts this schema."
    )
    screenshot(page, "builder")

    page.get_by_role("button", name="Create agent").click()
    expect(page.locator(".message-success")).to_contain_text("version 1")
    agent = Agent.objects.get(owner=member)
    assert page.url == f"{base}/agents/{agent.pk}/edit/"
    assert agent.tools == ["calculator"]
    assert agent.output_type["required"] == ["answer"]
    assert agent.versions.count() == 1

    panel = page.locator("#run-panel")
    panel.get_by_label("Input").fill(QUESTION)
    panel.get_by_role("button", name="Run").click()
    expect_calculator_timeline(page)
    run = Run.objects.get(agent=agent)
    assert run.status == RunStatus.COMPLETED
    saved = run.steps.count()
    ids = step_ids(page)
    assert ids == [f"step-{order}" for order in range(1, saved + 1)], ids
    expect(page.locator("#live-text")).to_be_empty()
    screenshot(page, "panel")

    panel.get_by_role("link", name=re.compile(r"Open run #\d+")).click()
    expect(page).to_have_url(f"{base}/runs/{run.pk}/")
    expect_calculator_timeline(page)
    assert step_ids(page) == ids
    page.reload()
    expect_calculator_timeline(page)
    assert step_ids(page) == ids
    screenshot(page, "run")
    assert console_errors == []


def test_a_run_page_opened_while_the_run_is_live_shows_each_step_once(
    page: Page,
    asgi_server,
    start_worker,
    demo_model,
    console_errors,
    screenshot,
):
    """A run page opened while the run waits for a worker renders step 1
    itself; once a worker takes the run, the websocket re-sends step 1 and adds
    the rest, every step appears once, and the answer streams in as text."""
    member = UserFactory()
    agent = make_calculator_agent(member)
    # Collect the text deltas as they are appended to the streaming bubble.
    page.add_init_script(
        """
        window.streamedText = "";
        document.addEventListener("htmx:wsOpen", () => {
          document.documentElement.dataset.socketOpen = "true";
        });
        document.addEventListener("htmx:oobBeforeSwap", (event) => {
          if (event.detail.target.id === "live-text") {
            window.streamedText += event.detail.fragment.textContent;
          }
        });
        """
    )
    log_in(page, asgi_server.url, member.username)
    page.goto(f"{asgi_server.url}/agents/{agent.pk}/")
    screenshot(page, "agent")

    # Queue the run before any worker exists, open its page, then start one:
    # the page renders step 1 itself and the socket re-sends it.
    panel = page.locator("#run-panel")
    panel.get_by_label("Input").fill(QUESTION)
    panel.get_by_role("button", name="Run").click()
    expect(panel.locator("#steps [data-step-type=user-request]")).to_have_count(1)
    run = Run.objects.get(agent=agent)
    page.goto(f"{asgi_server.url}/runs/{run.pk}/")
    expect(page.locator("#run-status [data-status=queued]")).to_be_visible()
    expect(page.locator("#steps > li")).to_have_count(1)
    # Text deltas are live only, never replayed: listen before the run starts.
    # A locator, not wait_for_function: Playwright evaluates that with eval(),
    # which the page's Content-Security-Policy refuses.
    expect(page.locator("html[data-socket-open]")).to_be_attached()

    start_worker()
    expect_calculator_timeline(page)
    assert page.evaluate("window.streamedText") != ""
    ids = step_ids(page)
    assert ids == [f"step-{order}" for order in range(1, run.steps.count() + 1)]
    expect(page.locator("#run-cancel button")).to_have_count(0)
    # Once finished, the run can be shared without a reload; anyone with the
    # link sees it, signed out.
    page.locator("#run-share").get_by_role("button", name="Share").click()
    link = page.locator("#run-share-url")
    expect(link).to_contain_text("/r/")
    screenshot(page)
    assert console_errors == []
    shared_url = link.inner_text()
    page.context.clear_cookies()
    page.goto(shared_url)
    expect(page.locator("#steps [data-step-type=tool-call]").first).to_contain_text(
        "calculator"
    )
    expect(page.locator("main")).not_to_contain_text(agent.instructions)
    screenshot(page, "shared")


def test_the_lists_and_a_version_comparison_read_well(
    page: Page, asgi_server, demo_model, console_errors, screenshot
):
    """The agent list, the runs list and the diff of two versions, as a member
    sees them (screenshots for people to look at)."""
    member = UserFactory()
    agent = make_calculator_agent(member, description="Adds and multiplies.")
    make_calculator_agent(member, name="Greeter", visibility="public", tools=[])
    services.agent_update(
        agent=agent,
        user=member,
        data={"instructions": "Use the calculator.\nAnswer in one line.", "tools": []},
    )
    services.run_start(agent=agent, user=member, input=QUESTION)
    log_in(page, asgi_server.url, member.username)

    page.goto(f"{asgi_server.url}/agents/")
    expect(page.get_by_role("rowheader", name=re.compile("Calculator"))).to_be_visible()
    expect(page.locator("main table")).to_contain_text("Offline demo model")
    screenshot(page, "agents")

    page.goto(f"{asgi_server.url}/runs/")
    expect(page.locator("main table [data-status=queued]")).to_have_count(1)
    screenshot(page, "runs")

    page.goto(f"{asgi_server.url}/agents/{agent.pk}/")
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/versions/diff/\?a=1&b=2$"))
    expect(page.locator(".diff-removed").first).to_contain_text(
        "You help with arithmetic."
    )
    expect(page.locator(".diff-added", has_text="Answer in one line.")).to_be_visible()
    screenshot(page, "diff")
    assert console_errors == []


def test_a_member_chats_in_the_playground_and_saves_it_as_an_agent(
    page: Page,
    asgi_server,
    start_worker,
    demo_model,
    console_errors,
    screenshot,
):
    """Settings picked on the spot, two turns of a chat watched live, then
    "save as agent" makes a real agent with those settings."""
    start_worker()
    member = UserFactory()
    base = asgi_server.url
    log_in(page, base, member.username)

    page.goto(f"{base}/playground/")
    expect(page.locator("#id_model option:checked")).to_have_text("Offline demo model")
    page.locator("#id_instructions").fill("You are a careful arithmetic helper.")
    page.locator(".playground-tools summary").click()
    page.locator("input[name=tools][value=calculator]").check()
    page.locator("#id_input").fill("What is 12 + 30?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#run-status [data-status=completed]")).to_be_visible()
    expect(page.locator("#run-result .final-output")).to_contain_text("42")

    page.locator("#id_input").fill("Now multiply by 2")
    page.get_by_role("button", name="Send").click()
    # The first turn moved into the chat above; the second runs live below it.
    expect(page.locator(".playground-turn")).to_have_count(1)
    expect(page.locator(".playground-turn")).to_contain_text("42")
    expect(page.locator("#run-status [data-status=completed]")).to_be_visible()
    expect(page.locator("#run-result .final-output")).to_contain_text("84")
    runs = list(Run.objects.filter(owner=member).order_by("pk"))
    assert len(runs) == 2
    assert runs[0].conversation_id == runs[1].conversation_id
    screenshot(page, "playground")

    page.locator("#id_save_name").fill("Doubler")
    page.get_by_role("button", name="Save as agent").click()
    expect(page.locator(".message-success")).to_contain_text("Doubler")
    agent = Agent.objects.get(owner=member, name="Doubler")
    assert page.url == f"{base}/agents/{agent.pk}/edit/"
    assert agent.tools == ["calculator"]
    assert agent.instructions == "You are a careful arithmetic helper."
    page.goto(f"{base}/agents/")
    expect(page.locator("main")).to_contain_text("Doubler")
    expect(page.locator("main")).not_to_contain_text("Playground")
    assert console_errors == []


@pytest.fixture
def loopback_endpoints(monkeypatch, settings):
    """Let users' endpoints be on this machine (the fake provider's server),
    in this process and in the server and worker processes started after."""
    monkeypatch.setenv("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.1/32")
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]


def test_a_member_adds_an_endpoint_tests_it_and_runs_an_agent_on_it(
    page: Page,
    loopback_endpoints,
    asgi_server,
    start_worker,
    demo_model,
    console_errors,
    screenshot,
):
    """The OpenAI-compatible endpoint is the local fake server: the key is
    saved and tested in the settings page, its models appear in the builder,
    and a run goes through the real openai client to it."""
    from tests.agents.fake_llm import FakeLLM

    key = "sk-endpoint-e2e-0123456789"
    with FakeLLM(keys={key}) as fake:
        start_worker()
        member = UserFactory()
        base = asgi_server.url
        log_in(page, base, member.username)

        page.goto(f"{base}/settings/provider-keys/")
        page.locator("#provider-key-provider").select_option("compatible")
        page.locator("#provider-key-key").fill(key)
        page.locator("#provider-key-base-url").fill(fake.openai_base_url)
        page.get_by_role("button", name="Save key").click()
        expect(page.locator("#provider-keys")).to_contain_text(fake.openai_base_url)
        page.locator("#provider-keys").get_by_role("button", name="Test").click()
        expect(page.locator("#provider-keys .test-ok")).to_contain_text("2 models")
        expect(page.locator("#provider-keys")).to_contain_text("llama3.1")
        assert key not in page.content()
        screenshot(page, "provider-keys")

        page.goto(f"{base}/agents/new/")
        page.locator("#id_name").fill("Local llama")
        page.locator("#id_model").select_option("compatible/llama3.1")
        page.get_by_role("button", name="Create agent").click()
        expect(page.locator(".message-success")).to_contain_text("version 1")
        agent = Agent.objects.get(owner=member)
        assert agent.model == "compatible/llama3.1"

        panel = page.locator("#run-panel")
        panel.get_by_label("Input").fill("Hello from the browser")
        panel.get_by_role("button", name="Run").click()
        expect(page.locator("#run-status [data-status=completed]")).to_be_visible()
        expect(page.locator("#run-result .final-output")).to_contain_text(
            "Echo: Hello from the browser"
        )
        sent = [r for r in fake.model_requests if r["path"] == "/v1/chat/completions"]
        assert len(sent) == 1
        assert sent[0]["key"] == key
        assert sent[0]["body"]["model"] == "llama3.1"
        screenshot(page, "endpoint-run")
    assert console_errors == []
