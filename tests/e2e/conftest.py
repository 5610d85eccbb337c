"""Browser tests: Playwright drives Debian's Chromium against `live_server`.

Run them in their own invocation (`pytest -m e2e tests/e2e`): once Playwright's
event loop is running, pytest-asyncio tests in the same process fail. Install
the browser with `python -m tests.e2e.ensure_browser`.
"""

import os
import re
from pathlib import Path

import pytest

from tests.worker import WebProcess, free_port


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


@pytest.fixture(autouse=True)
def policy_violations(context):
    """Fail any browser test in which the Content-Security-Policy blocked
    something: an inline script or handler, an inline style, eval, a
    connection, a form's destination. Chromium reports each as a console
    message naming the policy; the page itself may look fine."""
    seen: list[str] = []

    def record(message) -> None:
        if "Content Security Policy" in message.text:
            seen.append(f"{message.page.url if message.page else '?'}: {message.text}")

    # Chromium's own message does not say which element or line was refused.
    context.add_init_script(
        """
        document.addEventListener("securitypolicyviolation", (event) => {
          const element = event.target instanceof Element ? event.target : null;
          console.error(
            "Content Security Policy: refused by " + event.effectiveDirective +
            " at " + event.sourceFile + ":" + event.lineNumber + " " +
            (element ? element.outerHTML.slice(0, 300) : "")
          );
        });
        """
    )
    context.on("console", record)
    yield seen
    assert not seen, "Content-Security-Policy violations:\n" + "\n".join(seen)


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


# --- Daphne for pages that need websockets (live_server is WSGI only) ----


@pytest.fixture
def asgi_server(transactional_db, test_database_url, tmp_path):
    """Daphne serving config.asgi on the test database, in its own process,
    started as the Procfile starts it (tests/worker.py)."""
    server = WebProcess(
        port=free_port(),
        database_url=test_database_url,
        redis_url=os.environ.get("REDIS_URL", ""),
        log_path=tmp_path / "daphne.log",
    )
    server.start()
    try:
        yield server
    finally:
        server.discard()


@pytest.fixture
def demo_model(transactional_db):
    """The model catalog (tests/conftest.py reloads it after each flush)."""
