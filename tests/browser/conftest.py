"""Browser tests: Debian's chromium, headless, driven by Playwright against pytest-django's live server.

Nothing is downloaded at run time (never `playwright install`): the browser is the system's, installed by
tests/system-packages.sh. Where it is missing the tests skip, unless LEADGATE_REQUIRE_BROWSER is set (CI),
where they fail instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread, and Django refuses database calls while any loop
# runs (SynchronousOnlyOperation). The tests make plain blocking calls, so the guard has nothing to protect:
# https://github.com/microsoft/playwright-pytest/issues/29
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery"


def _unavailable(reason: str) -> None:
    if os.environ.get("LEADGATE_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}, and LEADGATE_REQUIRE_BROWSER is set", pytrace=False)
    pytest.skip(
        f"{reason} (tests/system-packages.sh installs it; LEADGATE_REQUIRE_BROWSER=1 makes this fail)"
    )


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        _unavailable(f"no chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking"],
            headless=True,
        )
        yield browser
        browser.close()


class Watched:
    """A page with what it said: dialogs opened (alert, confirm…) and console errors (CSP refusals too)."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        self.console.append(message.text)
        if message.type == "error":
            self.errors.append(message.text)

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def user(transactional_db):
    from leadgate.accounts.services import create_user

    return create_user("mia", "manager", PASSWORD)


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/Berlin")
    yield context
    context.close()


@pytest.fixture
def anonymous(context, live_server):
    """A page in a fresh browser, nobody signed in."""
    return Watched(context.new_page(), live_server.url)


@pytest.fixture
def signed_in(anonymous, user):
    """A page signed in as a manager, through the sign-in form."""
    anonymous.goto("/signin/")
    anonymous.sign_in(user.username)
    anonymous.page.wait_for_url("**/sources/")
    return anonymous


def screenshot(page, name: str) -> Path:
    """Save a 1280×800 screenshot of the page to docs/screenshots/ (shown in the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    return path
