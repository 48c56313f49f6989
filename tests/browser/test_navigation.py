from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_logs_in_and_walks_every_section(page, screenshot, alice):
    log_in(page, "alice", PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("No LMS connected yet")).to_be_visible()
    screenshot("admin-dashboard")

    nav = page.get_by_role("navigation", name="Main")
    for label, heading in [
        ("Connections", "Connections"),
        ("Integrations", "360Learning integrations"),
        ("Imports", "Imports"),
        ("Syncs", "Syncs"),
        ("Reports", "Reports"),
    ]:
        nav.get_by_role("link", name=label).click()
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        expect(nav.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")
        screenshot(f"admin-{label.lower()}")


def test_a_manager_sees_only_reports(page, screenshot, bob):
    log_in(page, "bob", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_count(1)
    nav.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    screenshot("manager-reports")

    response = page.goto("/connections/")
    assert response.status == 403


def test_the_navigation_works_from_the_keyboard(page, alice):
    log_in(page, "alice", PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Connections")).to_be_visible()


def test_the_worker_ping_button_shows_progress(page, alice):
    log_in(page, "alice", PASSWORD)
    page.goto("/system/")
    page.get_by_role("button", name="Ping the worker").click()
    # No worker runs in this test: the ping stays queued and the page says so while it polls.
    expect(page.get_by_text("waiting for a worker")).to_be_visible()
