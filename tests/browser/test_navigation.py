from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import main_nav
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


def test_the_navigation_folds_into_a_menu_on_a_phone_and_log_out_stays_reachable(sized_page, alice):
    page = sized_page
    log_in(page, "alice", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    toggle = page.get_by_role("button", name="Menu")
    if page.width_name == "phone":
        expect(nav).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(nav.get_by_role("link", name="Connections")).to_be_visible()
        take_screenshot(page, "navigation-menu-open")
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        expect(toggle).to_be_focused()
    else:
        # A laptop keeps today's bar: every link in view, no menu button.
        expect(toggle).to_be_hidden()
        expect(nav.get_by_role("link", name="Connections")).to_be_visible()

    main_nav(page).get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", level=1, name="Imports")).to_be_visible()
    page.locator(".user-menu summary").click()
    if page.width_name == "phone":
        # The role moves from the bar into the menu, so the bar fits.
        expect(page.locator(".user-menu li.user-role-line")).to_have_text("L&D admin")
    take_screenshot(page, "navigation-user-menu")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1, name="Log in to LMS Admin")).to_be_visible()


def test_a_refused_or_missing_page_keeps_the_site_layout_and_a_way_home(sized_page, bob):
    """Broken path 9: a manager's 403 (and a 404) used to be Django's bare page. DEBUG is off here."""
    page = sized_page
    log_in(page, "bob", PASSWORD)
    response = page.goto("/connections/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1, name="This page is not open to you")).to_be_visible()
    expect(page.get_by_text("whose role (Manager) does not include this page")).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="Reports")).to_be_visible()
    take_screenshot(page, "error-403-manager")

    response = page.goto("/reports/path-sessions/999999/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    take_screenshot(page, "error-404-manager")
    page.get_by_role("link", name="Back to the home page").click()
    expect(page).to_have_url(re.compile(r"/$"))
    # The user menu and Log out are there on the error pages too.
    page.goto("/connections/")
    page.locator(".user-menu summary").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
