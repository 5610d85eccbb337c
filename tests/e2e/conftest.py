"""Browser tests: Playwright drives Debian's Chromium against `live_server`.

Run them in their own invocation (`pytest -m e2e tests/e2e`): once Playwright's
event loop is running, pytest-asyncio tests in the same process fail. Install
the browser with `python -m tests.e2e.ensure_browser`.
"""

import os
import re
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _allow_sync_orm_beside_playwright():
    """live_server runs Django in a thread while Playwright's event loop runs
    here. Set only for browser tests: elsewhere it would hide real mistakes (and
    fail `check --deploy` in subprocesses)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / ".data" / "screenshots"
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"browser tests need Debian's chromium at {CHROMIUM} "
        "(run `python -m tests.e2e.ensure_browser` as root to install it)"
    )
    for item in items:
        if E2E_DIR in Path(item.path).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def screenshot(request):
    """Return `shot(page, step="")`: save a full-page PNG named after the test.

    Files land in .data/screenshots/ for a human to look at afterwards.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^\w.-]+", "_", request.node.originalname)

    def shot(page, step: str = "") -> Path:
        path = SCREENSHOT_DIR / f"{test_name}{'-' + step if step else ''}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot
