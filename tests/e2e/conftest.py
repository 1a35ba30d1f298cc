"""Browser tests: Playwright driving Debian's Chromium (``/usr/bin/chromium``) against
Django's live server. Never ``playwright install``: the browser is the system's.

Every test here skips, with the reason, when Playwright or Chromium is missing. The live
server needs committed data (``transactional_db``); Playwright's sync API runs an event loop
in the test thread, so Django's async-unsafe guard is told that this is fine, for the browser
tests only (the browser is started per test and the variable set with ``monkeypatch``: it
must not leak into other tests or into ``check --deploy`` in a subprocess).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

from tests.orders.conftest import customer, network, programme  # noqa: F401  (fixtures)
from tests.orders.screens_helpers import PASSWORD, make_staff

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -e '.[dev]'"
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM}: apt-get install -y chromium"
    return None


@pytest.fixture
def browser(monkeypatch):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        # The test's database work ran while Playwright's loop was up: close those
        # connections here, in the same context, or they outlive the test database.
        connections.close_all()


@pytest.fixture
def e2e(settings, transactional_db, live_server, network):  # noqa: F811
    """The live server with the orders network; fast password hashing, mail in memory."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return live_server


@pytest.fixture
def new_page(browser, e2e):
    """``new_page(viewport=TABLET)`` → a page in a fresh browser context (own cookies)."""
    contexts = []

    def make(viewport=TABLET):
        context = browser.new_context(viewport=viewport, base_url=e2e.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page, username: str, *locations: str) -> None:
    """Create the store-staff user and sign in through the sign-in form."""
    make_staff(username, *locations)
    page.goto("/store/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
