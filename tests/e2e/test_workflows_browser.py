"""Handoffs in a real browser, over Daphne with a real worker: add a handoff
on the agent's page, run the triage agent, and see the handoff and whose each
later step is in the run's timeline."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from agents import services
from tests.community.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

TIMEOUT = 30_000


@pytest.fixture(autouse=True)
def _default_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


def test_add_a_handoff_and_watch_triage_hand_off(
    page: Page, asgi_server, start_worker, demo_model, screenshot
):
    start_worker()
    base = asgi_server.url
    member = UserFactory()
    services.agent_create(
        owner=member,
        data={
            "name": "Math Tutor",
            "description": "Math: arithmetic, sums, times, numbers.",
            "tools": ["calculator"],
        },
    )
    triage = services.agent_create(
        owner=member,
        data={"name": "Triage", "instructions": "Hand off to the right tutor."},
    )

    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(member.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()

    page.goto(f"{base}/agents/{triage.pk}/")
    section = page.locator("#agent-handoffs")
    section.get_by_label("Hand off to").select_option(label="Math Tutor")
    section.get_by_label("When (optional)").fill("Questions about sums and times")
    section.get_by_role("button", name="Add handoff").click()
    expect(section.locator(".attachments")).to_contain_text("Math Tutor")
    expect(section.locator(".attachments")).to_contain_text("Questions about sums")

    panel = page.locator("#run-panel")
    panel.get_by_label("Input").fill("What is 12 times 7?")
    panel.get_by_role("button", name="Run").click()
    expect(page.locator("#run-status [data-status=completed]")).to_be_visible()
    panel.locator("a", has_text="Open run").first.click()
    timeline = page.locator("article.step-handoff")
    expect(timeline).to_contain_text("Handed off from Triage to Math Tutor")
    expect(page.locator(".step-agent-label").first).to_have_text("by Math Tutor")
    expect(page.locator("#run-result")).to_contain_text("84")
    screenshot(page, "run")
