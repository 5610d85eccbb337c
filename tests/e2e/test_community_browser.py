"""The community in a real browser: a visitor finds an agent on Discover and
opens its page; a member forks it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from agents import services
from agents.models import Agent
from tests.agents.factories import make_agent
from tests.community.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIMEOUT = 10_000


@pytest.fixture(autouse=True)
def _default_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


def publish(agent, **listing):
    return services.agent_update(
        agent=agent, user=agent.owner, data={"visibility": "public", **listing}
    )


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()


def test_a_visitor_discovers_an_agent_and_a_member_forks_it(
    page: Page, live_server, screenshot
):
    author = UserFactory(username="ada")
    publish(
        make_agent(
            author,
            name="Haiku poet",
            description="Turns topics into haiku",
            tags=["poetry"],
        ),
        category="writing",
        long_description="Give it a topic.\n\n**One haiku**, nothing else.",
        example_prompts=["Autumn rain"],
    )
    publish(
        make_agent(author, name="Code reviewer", description="Reviews code"),
        category="coding",
    )

    # Signed out: Discover, a search, the agent's page.
    page.goto(f"{live_server.url}/discover/")
    cards = page.locator(".agent-card")
    expect(cards).to_have_count(2)
    page.get_by_role("searchbox").fill("haiku")
    page.get_by_role("searchbox").press("Enter")
    expect(cards).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=haiku"))
    screenshot(page, "search")
    cards.get_by_role("link", name="Haiku poet").click()
    expect(page).to_have_url(f"{live_server.url}/u/ada/haiku-poet/")
    expect(page.locator("#long-description strong")).to_have_text("One haiku")
    expect(page.get_by_role("button", name="Sign in to run or fork")).to_be_visible()

    # Signed in: fork it.
    UserFactory(username="grace")
    sign_in(page, live_server.url, "grace")
    page.goto(f"{live_server.url}/u/ada/haiku-poet/")
    page.locator("#fork-button").click()
    expect(page.locator(".message-success")).to_contain_text("Forked Haiku poet")
    fork = Agent.objects.get(owner__username="grace")
    assert fork.forked_from.name == "Haiku poet"
    page.goto(f"{live_server.url}/u/ada/haiku-poet/")
    expect(page.locator("#listing-stats")).to_contain_text("1 fork")

    # Rate and review, comment, react, follow the author.
    form = page.locator("#rating-form")
    form.get_by_label("4 ★").check()
    form.locator("textarea").fill("Lovely, *short* poems.")
    form.get_by_role("button", name="Rate").click()
    expect(page.locator(".message-success")).to_contain_text("Thanks for rating")
    expect(page.locator("#reviews .review em")).to_have_text("short")
    expect(page.locator("#listing-stats")).to_contain_text("4.0")
    page.locator("#comment-body").fill("Could it do **tanka** too? <script>x</script>")
    page.locator("#comment-form").get_by_role("button", name="Comment").click()
    comment = page.locator("#comments .comment").first
    expect(comment.locator("strong").last).to_have_text("tanka")
    expect(comment).to_contain_text("<script>x</script>")  # shown as text
    page.locator("#reactions").get_by_role("button", name="🚀 0").click()
    expect(
        page.locator("#reactions").get_by_role("button", name="🚀 1")
    ).to_be_visible()
    screenshot(page, "listing")
    page.goto(f"{live_server.url}/u/ada/")
    page.get_by_role("button", name="Follow").click()
    expect(page.locator("#followers-count")).to_have_text("1")

    # The author hears of it all, and hides the comment.
    page.context.clear_cookies()
    sign_in(page, live_server.url, "ada")
    expect(page.locator("#notification-count")).to_have_text("4")
    page.goto(f"{live_server.url}/notifications/")
    for text in ("forked Haiku poet", "rated Haiku poet", "commented", "follow"):
        expect(page.locator("main")).to_contain_text(text)
    page.goto(f"{live_server.url}/u/ada/haiku-poet/#comments")
    page.locator("#comments .comment").first.get_by_role("button", name="Hide").click()
    expect(page.locator("#comments .comment")).to_have_count(0)
