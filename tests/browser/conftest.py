"""Headless Chromium through Playwright's sync API, against pytest-django's live server.

The browser is Debian's Chromium (no Playwright browser download); without it the browser tests
skip on a laptop and fail where HELPDESK_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need

# Playwright's sync API keeps an asyncio loop running in the main thread; Django refuses ORM
# calls from a thread with a running loop unless told this is deliberate. The tests (and the live
# server thread) are plain synchronous code, so it is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
# Playwright's default timeout is 30 s; a page of this app answers in well under a second, so a
# shorter one makes a broken page fail fast without making slow CI machines flaky.
TIMEOUT_MS = 10_000
DEMO_PASSWORD = "demo"  # the cast's password (tests/factories.py)


def chromium_path() -> str | None:
    return next((path for path in CHROMIUM_CANDIDATES if os.path.exists(path)), None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    need(executable is not None, "Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored); CI collects HELPDESK_ARTIFACTS."""
    folder = Path(os.environ.get("HELPDESK_ARTIFACTS", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Any, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh context (no cookies) per test; a screenshot of the page if the test failed."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            opened.screenshot(path=str(artifacts / f"FAILED-{name}.png"), full_page=True)
        context.close()


def login(page: Any, live_server: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, the way a nurse does."""
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
