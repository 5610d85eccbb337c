"""Accounts and API keys, end to end in a real browser against live_server."""

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from community.models import User
from tests.community.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIMEOUT = 10_000  # ms: generous for a busy machine, short enough to fail fast.
NEW_PASSWORD = "a-long-and-unusual-pass"


@pytest.fixture(autouse=True)
def _default_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


def nav(page: Page):
    return page.get_by_role("navigation", name="Main")


def submit(page: Page, label: str) -> None:
    """Click the submit button of the page's main form, e.g. "Sign in"."""
    button_name = re.compile(rf"^{label}$", re.IGNORECASE)
    page.locator("main form").get_by_role("button", name=button_name).click()


def log_in(page: Page, base_url: str, login: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_login").fill(login)
    page.locator("#id_password").fill(password)
    submit(page, "sign in")


def sign_up(page: Page, *, email: str, username: str) -> None:
    page.locator("#id_email").fill(email)
    page.locator("#id_username").fill(username)
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)
    submit(page, "sign up")


def expect_signed_in_as(page: Page, username: str) -> None:
    # "Welcome" for a new account, "Welcome back" once it has history.
    expect(page.locator("#home-title")).to_have_text(
        re.compile(rf"^\s*Welcome( back)?, {re.escape(username)}\s*$")
    )
    expect(nav(page).locator(".account-menu summary")).to_contain_text(username)


def expect_signed_out(page: Page) -> None:
    expect(nav(page).get_by_role("link", name="Log in")).to_be_visible()
    expect(nav(page).locator(".account-menu")).to_have_count(0)


def api_me(base_url: str, key: str) -> tuple[int, dict]:
    """GET /api/v1/me/ with the key and no browser cookies: (status, JSON body)."""
    request = urllib.request.Request(  # noqa: S310 (live_server's http URL)
        f"{base_url}/api/v1/me/", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_a_visitor_signs_up_and_lands_on_the_home_page(
    page: Page, live_server, screenshot
):
    """A visitor follows "Sign up" in the nav, signs up and is welcomed home."""
    page.goto(live_server.url)
    nav(page).get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))

    sign_up(page, email="ada@example.com", username="ada")

    expect(page).to_have_url(f"{live_server.url}/")
    expect_signed_in_as(page, "ada")
    # A brand-new account is welcomed, not welcomed back, and shown where to start.
    expect(page.locator("#home-title")).to_have_text("Welcome, ada")
    expect(page.locator(".first-steps")).to_contain_text("0 of 4 done.")
    screenshot(page)
    assert User.objects.filter(username="ada", email="ada@example.com").exists()


def test_a_member_logs_out_and_logs_back_in(page: Page, live_server, screenshot):
    """A member signs in by username, signs out from the nav menu, then by email."""
    member = UserFactory()

    log_in(page, live_server.url, member.username)
    expect_signed_in_as(page, member.username)

    nav(page).locator(".account-menu summary").click()
    nav(page).get_by_role("button", name="Sign out").click()
    if "/accounts/logout/" in page.url:  # allauth's confirmation page, if shown
        submit(page, "sign out")
    expect_signed_out(page)

    log_in(page, live_server.url, member.email)
    expect_signed_in_as(page, member.username)
    screenshot(page)


def test_a_wrong_password_shows_an_error_and_stays_signed_out(
    page: Page, live_server, screenshot
):
    """A wrong password shows an error on the login page and signs nobody in."""
    member = UserFactory()

    log_in(page, live_server.url, member.username, password="not-the-password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("main .form-errors[role=alert]")).to_contain_text(
        "The username and/or password you specified are not correct."
    )
    expect_signed_out(page)
    screenshot(page)


def test_signup_with_a_taken_username_shows_the_field_error(
    page: Page, live_server, screenshot
):
    """Signing up with a username in use (in any case) shows the error on that field."""
    UserFactory(username="grace")

    page.goto(f"{live_server.url}/accounts/signup/")
    sign_up(page, email="someone@example.com", username="Grace")

    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    expect(page.locator("#id_username")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_username_error")).to_have_text(
        "A user with that username already exists."
    )
    expect_signed_out(page)
    screenshot(page)
    assert not User.objects.filter(email="someone@example.com").exists()


def test_a_member_creates_and_revokes_an_api_key(page: Page, live_server, screenshot):
    """A key made on the settings page works on the API until it is revoked."""
    member = UserFactory()
    log_in(page, live_server.url, member.username)
    expect_signed_in_as(page, member.username)

    page.goto(f"{live_server.url}/settings/api-keys/")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create key").click()

    new_key = page.locator("code#new-api-key")
    expect(new_key).to_be_visible()
    laptop = page.get_by_role("rowheader", name="laptop")
    row = page.locator("#api-keys tbody tr", has=laptop)
    expect(row).to_have_count(1)
    prefix = row.locator("td code").inner_text().strip()
    key = new_key.inner_text().strip()
    assert re.fullmatch(r"\w{8}", prefix), prefix
    assert key.startswith(f"{prefix}."), (key, prefix)
    expect(page.get_by_label("Name")).to_have_value("")  # the form was reset
    screenshot(page, "created")

    status, body = api_me(live_server.url, key)
    assert status == 200
    assert body["username"] == member.username

    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke laptop").click()

    expect(row.locator(".badge")).to_have_text("Revoked")
    expect(new_key).to_have_count(0)
    screenshot(page, "revoked")
    assert api_me(live_server.url, key)[0] == 401


def test_the_layout_works_on_a_phone(page: Page, live_server, screenshot):
    """On a 375px-wide phone every nav link is on screen; nothing scrolls sideways."""
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url)
    expect(page.locator("#home-title")).to_be_visible()

    names = ["Agentry", "Discover", "My agents", "Runs", "Files", "Credits", "Log in"]
    links = [nav(page).get_by_role("link", name=name, exact=True) for name in names]
    links.append(nav(page).get_by_role("button", name="Sign up"))
    for link in links:
        link.scroll_into_view_if_needed()
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= 375, box

    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, "the page scrolls sideways"
    screenshot(page)
