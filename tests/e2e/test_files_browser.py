"""Files in a real browser, over Daphne with a real worker: upload a PDF and a
DOCX, watch them become ready live, search them, download one, attach them to
an agent, ask it a question and see the cited answer and the retrieval
diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agents import services
from tests.community.factories import PASSWORD, UserFactory
from tests.files import documents

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

TIMEOUT = 30_000
HANDBOOK = [
    "Employee handbook. Welcome to Acme; this explains how we work.",
    "Holidays. Every employee has 25 days of paid holiday a year. Unused days "
    "carry over until March 31.",
    "Expenses. Submit receipts within 30 days through the finance portal.",
]


@pytest.fixture(autouse=True)
def _default_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


@pytest.fixture
def media(tmp_path, settings, monkeypatch):
    """One media folder for this process, Daphne and the worker."""
    folder = tmp_path / "media"
    settings.MEDIA_ROOT = folder
    monkeypatch.setenv("MEDIA_ROOT", str(folder))
    return folder


def test_upload_search_attach_and_ask_with_citations(
    page: Page, media, asgi_server, start_worker, demo_model, tmp_path, screenshot
):
    start_worker()
    base = asgi_server.url
    member = UserFactory()
    agent = services.agent_create(
        owner=member,
        data={
            "name": "HR helper",
            "instructions": "Answer from the handbook and cite it.",
            "tools": ["file_search"],
        },
    )
    handbook = tmp_path / "handbook.pdf"
    handbook.write_bytes(documents.pdf(HANDBOOK))
    guide = tmp_path / "install.docx"
    guide.write_bytes(documents.docx())

    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(member.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()

    page.goto(f"{base}/files/")
    page.set_input_files("#file-input", [str(handbook), str(guide)])
    # Both reach Ready without a reload, from the live stage events.
    expect(page.locator("#upload-queue .badge-success")).to_have_count(2)
    expect(page.locator("#file-list tbody tr")).to_have_count(2)
    expect(page.locator("#file-list")).to_contain_text("handbook.pdf")
    screenshot(page, "ready")

    page.locator(".file-search-form input[type=search]").fill("paid holiday days")
    page.locator(".file-search-form input[type=search]").press("Enter")
    first = page.locator(".search-hit").first
    expect(first).to_contain_text("handbook.pdf")
    expect(first).to_contain_text("page 2")
    expect(first).to_contain_text("25 days")
    screenshot(page, "search")

    page.goto(f"{base}/agents/{agent.pk}/")
    section = page.locator("#agent-files")
    section.get_by_label("Attach a file or a collection").select_option(
        label="handbook.pdf"
    )
    section.get_by_role("button", name="Attach").click()
    expect(section.locator(".attachments")).to_contain_text("handbook.pdf")

    panel = page.locator("#run-panel")
    panel.get_by_label("Input").fill("How many days of paid holiday do we get?")
    panel.get_by_role("button", name="Run").click()
    expect(page.locator("#run-status [data-status=completed]")).to_be_visible()
    panel.locator("a", has_text="Open run").first.click()
    diagnostics = page.locator("[data-retrieval]").first
    expect(diagnostics).to_contain_text("handbook.pdf, page 2")
    expect(diagnostics).to_contain_text("meaning")
    answer = page.locator("#run-result .final-output")
    expect(answer).to_contain_text("25 days")
    expect(answer).to_contain_text("From handbook.pdf, page 2")
    screenshot(page, "run")


def test_collections_chunk_preview_and_the_builder(
    page: Page, media, asgi_server, start_worker, tmp_path, screenshot
):
    start_worker()
    base = asgi_server.url
    member = UserFactory()
    agent = services.agent_create(
        owner=member, data={"name": "Policy helper", "tools": ["file_search"]}
    )
    handbook = tmp_path / "handbook.pdf"
    handbook.write_bytes(documents.pdf(HANDBOOK))

    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(member.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()

    page.goto(f"{base}/files/")
    page.get_by_text("New collection").click()
    page.locator(".collection-new").get_by_label("Name").fill("Policies")
    page.get_by_role("button", name="Make it").click()
    expect(page.locator(".chips a[aria-current=page]")).to_contain_text("Policies")
    # Dropped while the collection is open, the file goes into it.
    page.set_input_files("#file-input", [str(handbook)])
    expect(page.locator("#upload-queue .badge-success")).to_have_count(1)
    expect(page.locator("#file-list")).to_contain_text("Policies")
    expect(page.locator("#collection-chips [aria-current=page] small")).to_have_text(
        "1"
    )
    screenshot(page, "collection")

    page.locator("#file-list").get_by_role("link", name="handbook.pdf").click()
    page.get_by_label("Chunk size (tokens)").fill("32")
    page.get_by_label("Overlap (tokens)").fill("0")
    page.get_by_role("button", name="Preview chunks").click()
    preview = page.locator("#chunk-preview")
    expect(preview).to_contain_text("With 32-token chunks overlapping by 0")
    expect(preview).to_contain_text("Nothing changes until you read it again")
    expect(preview).to_contain_text("25 days of paid holiday")
    screenshot(page, "preview")

    # The owner downloads the file itself: an attachment, saved, not shown.
    with page.expect_download() as saved:
        page.get_by_role("link", name="Download").click()
    assert saved.value.suggested_filename == "handbook.pdf"
    assert Path(saved.value.path()).read_bytes() == handbook.read_bytes()

    page.goto(f"{base}/agents/{agent.pk}/edit/")
    section = page.locator("#agent-files")
    section.get_by_label("Attach a file or a collection").select_option(
        label="Policies"
    )
    section.get_by_role("button", name="Attach").click()
    expect(section.locator(".attachments")).to_contain_text("Policies")
    screenshot(page, "builder")
