"""The Content-Security-Policy in a real browser: the Swagger UI at
/api/docs/, the Django admin, every main page with the demo data, and the
confirmations that replaced inline handlers. (Every browser test fails on a
policy violation: see policy_violations in conftest.py.)"""

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from agents.models import Agent
from community.services import DEMO_USERS
from files import services as file_services
from files.models import Collection
from tests.community.factories import PASSWORD, UserFactory
from workflows.models import Workflow

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIMEOUT = 15_000


@pytest.fixture(autouse=True)
def _default_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


def log_in(page: Page, base_url: str, username: str, password=PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign in").click()
    expect(page.locator("form.sign-out-form")).to_be_attached()


def test_the_api_docs_render_and_try_a_request_under_the_policy(
    page: Page, live_server, policy_violations
):
    """Swagger UI draws the operations from the vendored bundle and sends a
    request from "Try it out", with the header in place and nothing blocked."""
    member = UserFactory()
    log_in(page, live_server.url, member.username)

    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    operation = page.locator(".opblock", has_text="/api/v1/me/").first
    expect(operation).to_be_visible()
    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(
        page.locator(".live-responses-table tbody .response-col_status").first
    ).to_have_text("200")


def test_the_admin_lists_and_edits_under_the_policy(
    page: Page, live_server, policy_violations
):
    """The admin's index, a change list with its actions and filters, and a
    change form with its widgets load with the site's policy."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    log_in(page, live_server.url, staff.username)

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}/admin/community/user/")
    expect(page.locator("#result_list")).to_contain_text(staff.username)
    page.locator("#result_list a", has_text=staff.username).click()
    expect(page.locator("#user_form")).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()


MAIN_PAGES = [
    "/",
    "/discover/",
    "/agents/",
    "/agents/new/",
    "/conversations/",
    "/tools/",
    "/tools/new/",
    "/playground/",
    "/runs/",
    "/workflows/",
    "/workflows/new/",
    "/files/",
    "/credits/",
    "/feed/",
    "/messages/",
    "/notifications/",
    "/settings/profile/",
    "/settings/api-keys/",
    "/settings/provider-keys/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/u/bob/",
]


def test_the_main_pages_load_under_the_policy_with_the_demo_data(
    page: Page, live_server, policy_violations
):
    """A demo member opens each main page and their agent's and workflow's
    pages, and waits for what htmx loads after them: nothing is refused."""
    # In a thread of its own: the demo's notifications reach the channel
    # layer with async_to_sync, which refuses to run beside Playwright's loop.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(call_command, "seed_demo", stdout=io.StringIO()).result()
    password = next(entry[2] for entry in DEMO_USERS if entry[0] == "bob")
    log_in(page, live_server.url, "bob", password)
    agent = Agent.objects.filter(owner__username="bob").first()
    workflow = Workflow.objects.filter(owner__username="bob").first()
    pages = [
        *MAIN_PAGES,
        f"/agents/{agent.pk}/",
        f"/agents/{agent.pk}/edit/",
        f"/workflows/{workflow.pk}/",
    ]

    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    assert policy_violations == []


def test_a_form_asking_for_confirmation_submits_only_when_confirmed(
    page: Page, live_server, policy_violations
):
    """data-confirm (site.js) replaced the inline onsubmit: cancelling keeps
    the collection, confirming deletes it."""
    member = UserFactory()
    collection = file_services.collection_create(owner=member, name="Handbooks")
    log_in(page, live_server.url, member.username)
    page.goto(f"{live_server.url}/files/?collection={collection.pk}")
    delete = page.get_by_role("button", name="Delete this collection")

    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    expect(delete).to_be_visible()
    assert Collection.objects.filter(pk=collection.pk).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(page).to_have_url(f"{live_server.url}/files/")
    assert not Collection.objects.filter(pk=collection.pk).exists()
