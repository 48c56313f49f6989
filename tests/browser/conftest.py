"""Playwright driving Debian's Chromium (/usr/bin/chromium); never a downloaded browser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
# The two widths every page is checked at: a laptop and a phone (iPhone 12-15, 390 CSS px).
VIEWPORTS = {"laptop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the test command installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 860}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(params=list(VIEWPORTS))
def sized_page(request, browser, live_server):
    """A page at each of VIEWPORTS in turn (the test runs once per width); ``sized_page.width_name``
    is "laptop" or "phone", for screenshot names and width-specific steps (the phone menu)."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[request.param], accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.width_name = request.param
    yield page
    context.close()


def take_screenshot(page, name: str) -> Path:
    """A full-page screenshot in var/screenshots/, suffixed with the width for a sized page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-{page.width_name}" if hasattr(page, "width_name") else ""
    path = SCREENSHOTS / f"{name}{suffix}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot(page):
    return lambda name: take_screenshot(page, name)


def log_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
