"""The community in a real browser: a visitor finds an agent on Discover and
opens its page; a member forks it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from agents import services
from agents.models import Agent
from community import reviews
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


@pytest.mark.worker
def test_a_member_runs_a_fork_the_author_hears_live_and_staff_hide_a_report(
    page: Page, browser, asgi_server, start_worker, demo_model, screenshot
):
    """The issue's walk over Daphne and a real worker: a member forks an
    agent and runs the fork; its author, with a page open, sees the bell count
    rise without a reload; a spam comment is reported and staff hide it from
    the admin's queue."""
    start_worker()
    base = asgi_server.url
    author = UserFactory(username="ada")
    agent = publish(make_agent(author, name="Haiku poet", description="Haiku"))
    troll = UserFactory(username="troll")
    reviews.comment_create(agent=agent, user=troll, body="Buy cheap pills at spam")
    UserFactory(username="grace")
    UserFactory(username="mod", is_staff=True, is_superuser=True)

    # The author keeps a page open in a browser of her own.
    author_page = browser.new_context().new_page()
    author_page.set_default_timeout(20_000)
    sign_in(author_page, base, "ada")
    author_page.goto(f"{base}/agents/")
    # (Told already of the troll's comment.)
    expect(author_page.locator("#notification-count")).to_have_text("1")

    sign_in(page, base, "grace")
    page.goto(f"{base}/u/ada/haiku-poet/")
    page.locator("#fork-button").click()
    expect(page.locator(".message-success")).to_contain_text("Forked Haiku poet")
    panel = page.locator("#run-panel")
    panel.get_by_label("Input").fill("Autumn rain")
    panel.get_by_role("button", name="Run").click()
    expect(page.locator("#run-status [data-status=completed]")).to_be_visible(
        timeout=30_000
    )
    # Live, without a reload: the fork reached the author's open page.
    expect(author_page.locator("#notification-count")).to_have_text("2")

    page.goto(f"{base}/u/ada/haiku-poet/")
    page.locator("#comment-body").fill("Lovely haiku.")
    page.locator("#comment-form").get_by_role("button", name="Comment").click()
    expect(author_page.locator("#notification-count")).to_have_text("3")

    # Report the spam comment.
    spam = page.locator("#comments .comment", has_text="Buy cheap pills")
    spam.get_by_role("link", name="Report").click()
    page.get_by_label("Spam or advertising").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".message-success")).to_contain_text("moderators")
    screenshot(page, "reported")

    # Staff hide it from the queue.
    page.context.clear_cookies()
    sign_in(page, base, "mod")
    page.goto(f"{base}/admin/community/report/")
    expect(page.locator("#result_list")).to_contain_text("Comment on Haiku poet")
    screenshot(page, "queue")
    page.locator("#result_list tbody tr th a").first.click()
    page.get_by_role("button", name="Hide", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("closed 1 reports")

    page.context.clear_cookies()
    page.goto(f"{base}/u/ada/haiku-poet/")
    expect(page.locator("#comments")).to_contain_text("Lovely haiku.")
    expect(page.locator("#comments")).not_to_contain_text("Buy cheap pills")
    screenshot(page, "hidden")
    author_page.context.close()
