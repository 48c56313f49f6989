"""A manager reads the reports in Chromium: the overview, one session's breakdown, a status
clicked to filter its learners, the learner CSV downloaded and read back; the same links
without JavaScript; screenshots of every report page (var/screenshots/reports-*.png)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(connection_360, connection_ispring):
    out = io.StringIO()
    call_command("sync_lms", "all", "--connection", connection_360.name, stdout=out)
    call_command("sync_lms", "all", "--connection", connection_ispring.name, stdout=out)
    return connection_360


@pytest.fixture
def no_dialogs(page):
    """Fails the test if any page opens an alert (remote data is never run as script)."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield
    assert dialogs == []


def test_a_manager_drills_from_the_overview_into_a_session_and_downloads_its_late_learners(
    page, screenshot, bob, synced, no_dialogs
):
    log_in(page, "bob", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Path sessions").click()
    expect(page.get_by_role("heading", level=1, name="Path sessions")).to_be_visible()
    expect(page.get_by_text("6 path sessions")).to_be_visible()
    screenshot("reports-overview")

    # Filtering swaps the table only (htmx) and keeps the URL shareable.
    page.get_by_label("Has learners").select_option("late")
    expect(page).to_have_url(re.compile(r"status=late"))
    table = page.locator("#pathsession-table")
    expect(table.get_by_text(re.compile(r"^[1-5] path sessions?$"))).to_be_visible()
    session_link = table.locator("tbody th a").first
    session_name = session_link.inner_text()
    screenshot("reports-overview-late")

    session_link.click()
    expect(page.get_by_role("heading", level=1, name=session_name)).to_be_visible()
    expect(page.get_by_text("These counts equal 360Learning's own counts for this session.")).to_be_visible()
    expect(page.locator("svg.status-bar-large")).to_be_visible()
    screenshot("reports-path-session")

    late_link = page.locator("#breakdown-table a[aria-label*='Late']")
    late_count = int(late_link.inner_text().replace(",", ""))
    assert late_count > 0
    late_link.click()
    expect(page).to_have_url(re.compile(r"status=late"))
    learners = page.locator("#learner-table")
    expect(learners.get_by_text(f"{late_count} learner")).to_be_visible()
    expect(page.locator("#id_status")).to_have_value("late")
    statuses = learners.locator("tbody tr td:nth-child(4)")
    expect(statuses.first).to_have_text(re.compile("Late"))
    assert {text.strip() for text in statuses.all_inner_texts()} == {"Late"}
    screenshot("reports-path-session-late")

    with page.expect_download() as download_info:
        learners.get_by_role("link", name="CSV").click()
    download = download_info.value
    # Named after where its numbers come from: as of the last sync, which run.
    assert re.search(r"-learners_as-of-\d{4}-\d\d-\d\dT\d{4}Z_sync-\d+\.csv$", download.suggested_filename)
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert len(rows) == late_count
    assert {row["status"] for row in rows} == {"late"}
    assert all(row["first_name"] and row["mail"] for row in rows)


def test_a_manager_reads_course_statistics_attempts_and_module_results(page, screenshot, bob, synced, no_dialogs):
    log_in(page, "bob", PASSWORD)
    page.goto("/reports/courses/")
    expect(page.get_by_role("heading", level=1, name="Course statistics")).to_be_visible()
    page.locator("#course-table thead").get_by_role("link", name="Completion").click()
    expect(page).to_have_url(re.compile(r"sort=completion"))
    screenshot("reports-course-stats")

    page.locator("#course-table tbody th a").first.click()
    expect(page.get_by_role("heading", level=1, name="Course attempts")).to_be_visible()
    expect(page).to_have_url(re.compile(r"course=\d+"))
    screenshot("reports-attempts")

    page.goto("/reports/module-results/")
    expect(page.get_by_role("heading", level=1, name="iSpring module results")).to_be_visible()
    page.get_by_role("checkbox", name="Failed").check()
    expect(page).to_have_url(re.compile(r"completion_statuses=failed"))
    screenshot("reports-module-results")


def test_the_status_links_and_pages_work_without_javascript(browser, live_server, bob, synced):
    from reports.models import PathSession

    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "bob", PASSWORD)
        session = PathSession.objects.filter(name__isnull=False).order_by("-enrolled_count").first()
        page.goto(f"/reports/path-sessions/{session.pk}/")
        link = page.locator("#breakdown-table a").first
        count = int(link.inner_text().replace(",", ""))
        link.click()
        expect(page).to_have_url(re.compile(r"\?status=\w+.*#learners"))
        expect(page.locator("#learner-table").get_by_text(f"{count} learner")).to_be_visible()

        page.get_by_label("Name, mail or id").fill("zzz-nobody")
        page.get_by_role("button", name="Apply filters").click()
        expect(page.get_by_text("No learner matches these filters")).to_be_visible()
    finally:
        context.close()
