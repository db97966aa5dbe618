"""Browser fixtures (registered for all tests by tests/conftest.py): Debian's headless chromium driven by Playwright's sync API (no browser download), against
pytest-django's live server. Screenshots go to tests/browser/artifacts/ (git-ignored).

Playwright's sync API keeps an asyncio loop in the main thread, so Django's async-safety check would refuse the
test's own ORM calls: the browser fixtures set DJANGO_ALLOW_ASYNC_UNSAFE for the test only, and Playwright is
started per test so no loop outlives it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.infra.plugin import require_service

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def chromium(monkeypatch) -> Iterator:
    """A headless chromium for this test (skipped, or failed under REQUIRE_SERVICES=1, when it is missing)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the dev requirements install it
        require_service("playwright", False, str(exc))
    require_service("chromium", os.access(CHROMIUM, os.X_OK) or bool(shutil.which(CHROMIUM)), CHROMIUM)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium) -> Callable:
    """Open a page in a fresh browser context (its own cookies), e.g. one per person logging in."""

    def open_page():
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(15_000)
        return context.new_page()

    return open_page


@pytest.fixture
def shot() -> Callable[[object, str], Path]:
    """Save a full-page screenshot as artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


def log_in(page, base_url: str, username: str) -> None:
    """Sign in to admin as a user made by `tests.support.people.make_user` (password `pw-<username>`)."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def save_and_continue(page) -> None:
    page.click('input[name="_continue"]')
    page.wait_for_load_state()


VIEWPORT = {"width": 1440, "height": 900}


def open_page(chromium):
    """A page at 1440x900 in a fresh context of this browser (its own cookies)."""
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    return context.new_page()


# Measures a table against the viewport and every box around it (see `fits`).
MEASURE = """table => {
  const rows = [];
  for (let el = table; el && el !== document.body; el = el.parentElement) {
    const style = getComputedStyle(el);
    rows.push({right: el.getBoundingClientRect().right, scrolls: ["auto", "scroll"].includes(style.overflowX),
               id: el.id || el.className});
  }
  return {rows, viewport: document.documentElement.clientWidth,
          pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth};
}"""


def fits(measure: dict) -> bool:
    """The table's right edge is inside the viewport and inside every box around it that would cut it off (a
    scroll container shows only its own width: a column beyond it is out of view until scrolled)."""
    table, around = measure["rows"][0]["right"], measure["rows"][1:]
    return table <= measure["viewport"] and all(table <= box["right"] + 1 for box in around if box["scrolls"])
