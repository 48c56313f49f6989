"""Guided first steps (issue 17), at a laptop's and a phone's width, against the sandbox LMS.

The actors: Alice (L&D admin) starts from an empty product: the dashboard's checklist walks her
through connecting the sandbox (the form says what to type), testing, syncing, and on to the
reports, each step ticking itself; Bob (manager) lands on his work, the sessions overview.
No worker runs here: the syncs Alice queues are executed in the test's thread, as a worker would.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.models import SyncRun
from integrations.sync import services
from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import field
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def _sandbox_value(page, row: str, column: int = 1) -> str:
    """A value of the form's sandbox table: column 1 is 360Learning, 2 iSpring Learn."""
    cells = page.locator(".sandbox-hint tr", has=page.get_by_role("rowheader", name=row, exact=True)).locator("td")
    return cells.nth(column - 1).inner_text().strip()


def test_a_new_admin_is_guided_from_an_empty_dashboard_to_the_reports(sized_page, alice, sandbox):
    page = sized_page
    log_in(page, "alice", PASSWORD)
    checklist = page.locator("details.getting-started")
    expect(checklist).to_have_attribute("open", "")
    expect(checklist.locator("summary")).to_contain_text("0 of 6 steps done")
    expect(page.get_by_text("No LMS connected yet")).to_be_visible()
    _no_sideways_scroll(page)
    take_screenshot(page, "issue17-steps-01-empty-dashboard")

    # Step 1, with the values the demo form gives for its sandbox.
    checklist.get_by_role("link", name="Add a connection").click()
    expect(page.get_by_role("heading", name="Demo: connect the built-in sandbox LMS")).to_be_visible()
    take_screenshot(page, "issue17-steps-02-form-with-sandbox-values")
    field(page, "Name").fill("Sandbox demo")
    field(page, "Provider").select_option(label="360Learning")
    field(page, "Region").select_option(label="Other base URL")
    field(page, "Base URL").fill(_sandbox_value(page, "Base URL"))
    field(page, "Client id").fill(_sandbox_value(page, "Client id"))
    field(page, "Client secret").fill(_sandbox_value(page, "Client secret"))
    page.get_by_role("button", name="Add connection").click()

    # Its page says what comes next.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox demo")
    next_steps = page.get_by_role("region", name="Next steps")
    expect(next_steps.locator(".step")).to_have_count(3)
    expect(page.get_by_role("button", name="Sync now")).to_be_visible()
    expect(page.get_by_role("link", name="Create an integration")).to_be_visible()
    take_screenshot(page, "issue17-steps-03-connection-next-steps")

    # Step 2 and 3: test it, sync it (the worker's part done here).
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#check-result")).to_contain_text("Success.")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Syncs of Sandbox demo")
    for run in SyncRun.objects.order_by("pk"):
        services.sync_run_execute(run_id=run.pk)
    expect(page.locator("#sync-kinds .state-completed")).to_have_count(5, timeout=20_000)
    take_screenshot(page, "issue17-steps-04-synced")

    # The dashboard ticked them; its row links to the connection and its latest sync.
    page.goto("/")
    checklist = page.locator("details.getting-started")
    expect(checklist).not_to_have_attribute("open", "")
    expect(checklist.locator("summary")).to_contain_text("4 of 6 steps done")
    checklist.locator("summary").click()
    for key in ("connect", "test", "sync", "reports"):
        expect(page.locator(f"#step-{key}")).to_have_class(re.compile("step-done"))
    expect(page.locator("#step-integration .button.primary")).to_have_text("Create an integration")
    row = page.get_by_role("row", name=re.compile("Sandbox demo"))
    expect(row.get_by_role("link", name="Sandbox demo")).to_be_visible()
    expect(row).to_contain_text("Healthy")
    _no_sideways_scroll(page)
    take_screenshot(page, "issue17-steps-05-dashboard-ticked")

    # The latest sync reads its cursor in words.
    row.get_by_role("link", name="Course statistics sync").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Course statistics sync of Sandbox demo")
    next_sync = page.locator("dt:text-is('Next sync asks for') + dd")
    expect(next_sync).to_contain_text(re.compile(r"^attempts completed since \d{1,2} \w{3} \d\d:\d\d"))
    _no_sideways_scroll(page)
    take_screenshot(page, "issue17-steps-06-sync-in-words")


def test_a_managers_home_is_their_sessions_overview(sized_page, bob):
    page = sized_page
    log_in(page, "bob", PASSWORD)
    expect(page).to_have_url(re.compile(r"/reports/path-sessions/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Path sessions")
    expect(page.get_by_text("Getting started")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/reports/path-sessions/$"))
    take_screenshot(page, "issue17-manager-home")
