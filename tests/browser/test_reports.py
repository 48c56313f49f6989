"""A manager and an admin read the reports in Chromium, at 1440 px and 390 px: the overview, one
session's breakdown, a status clicked to filter its learners, the learner CSV downloaded and read
back; freshness stamped by the connections whose rows are shown (issue 17, broken path 5); the
same links without JavaScript; screenshots of every report page
(var/screenshots/reports-*-{laptop,phone}.png)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import log_in, take_screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(connection_360, connection_ispring):
    out = io.StringIO()
    call_command("sync_lms", "all", "--connection", connection_360.name, stdout=out)
    call_command("sync_lms", "all", "--connection", connection_ispring.name, stdout=out)
    return connection_360


@pytest.fixture
def no_dialogs(sized_page):
    """Fails the test if any page opens an alert (remote data is never run as script)."""
    dialogs = []
    sized_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield
    assert dialogs == []


def _no_sideways_scroll(page) -> None:
    """The page itself never scrolls sideways (wide tables scroll inside their own box)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_manager_drills_from_the_overview_into_a_session_and_downloads_its_late_learners(
    sized_page, bob, synced, no_dialogs
):
    page = sized_page

    def screenshot(name: str) -> None:
        take_screenshot(page, name)

    log_in(page, "bob", PASSWORD)
    page.goto("/reports/")
    page.get_by_role("link", name="Path sessions").click()
    expect(page.get_by_role("heading", level=1, name="Path sessions")).to_be_visible()
    expect(page.get_by_text("6 path sessions")).to_be_visible()
    # The names have room: each fits on at most two lines, its path and connection beneath.
    for name in page.locator("table.sessions tbody th > a").all():
        box = name.bounding_box()
        line = float(name.evaluate("a => parseFloat(getComputedStyle(a).lineHeight)"))
        assert box["height"] <= 2 * line + 1, name.inner_text()
    expect(page.locator("table.sessions tbody .session-facts").first).to_contain_text(synced.name)
    expect(page.get_by_role("list", name="Key to the detailed-status bars")).to_contain_text("Late")
    _no_sideways_scroll(page)
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


def test_a_manager_reads_course_statistics_attempts_and_module_results(sized_page, bob, synced, no_dialogs):
    page = sized_page

    def screenshot(name: str) -> None:
        take_screenshot(page, name)

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


@pytest.fixture
def never_synced(synced):
    """A second 360Learning connection, added after the first one's sync and never synced."""
    from tests.reports.conftest import make_connection

    return make_connection("New 360")


def _freshness_names_only(page, connection) -> None:
    """The stamp (an admin's note on connections left out apart) speaks of ``connection`` alone."""
    stamps = page.locator("#freshness p:not(.freshness-unsynced)")
    expect(stamps).to_have_count(1)
    expect(stamps).to_contain_text(f"{connection.name}: statistics as of")
    expect(stamps).not_to_contain_text("never synced")
    expect(page.locator("#freshness .badge-stale")).to_have_count(0)


def test_a_never_synced_connection_neither_stales_nor_names_the_reports_of_a_synced_one(
    sized_page, alice, bob, synced, never_synced
):
    """Issue 17, broken path 5: one connection never synced made every report page and export say
    "never synced" / "Stale" (``…_never-synced.csv``) although every row came from the synced one."""
    page = sized_page
    log_in(page, "bob", PASSWORD)
    page.goto("/reports/path-sessions/")
    _freshness_names_only(page, synced)
    expect(page.locator("#freshness")).not_to_contain_text(never_synced.name)
    take_screenshot(page, "reports-freshness-manager-sessions")
    with page.expect_download() as download_info:
        page.locator("#pathsession-table .downloads").get_by_role("link", name="CSV", exact=True).click()
    assert re.fullmatch(
        r"path-sessions_as-of-\d{4}-\d\d-\d\dT\d{4}Z_sync-\d+\.csv", download_info.value.suggested_filename
    )

    page.goto("/reports/courses/")
    _freshness_names_only(page, synced)
    with page.expect_download() as download_info:
        page.locator("#course-table .downloads").get_by_role("link", name="Excel").click()
    assert re.fullmatch(r"course-stats_as-of-\S+_sync-\d+\.xlsx", download_info.value.suggested_filename)
    take_screenshot(page, "reports-freshness-manager-courses")

    # The index lists the new connection as not synced yet, without a stale badge.
    page.goto("/reports/")
    row = page.get_by_role("row", name=re.compile(f"Sessions overview.*{never_synced.name}"))
    expect(row).to_contain_text("Not synced yet: none of its data is in this report")
    expect(row.locator(".badge-stale")).to_have_count(0)
    take_screenshot(page, "reports-freshness-index")
    page.context.clear_cookies()

    # An admin, who can sync it, is told which connection is not in the numbers, and why.
    log_in(page, "alice", PASSWORD)
    page.goto("/reports/path-sessions/")
    _freshness_names_only(page, synced)
    note = page.locator("#freshness .freshness-unsynced")
    expect(note).to_have_text(f"Not in these numbers: {never_synced.name}, never synced yet.")
    take_screenshot(page, "reports-freshness-admin-sessions")

    # Choosing that connection is where "never synced" matters: the stamp follows the filter.
    page.get_by_label("Connection", exact=True).select_option(label=never_synced.name)
    expect(page.get_by_text("No path sessions match these filters")).to_be_visible()
    expect(page.locator("#freshness")).to_contain_text(f"{never_synced.name}: never synced yet")
    expect(page.locator("#freshness")).not_to_contain_text(synced.name)
    with page.expect_download() as download_info:
        page.locator("#pathsession-table .downloads").get_by_role("link", name="CSV", exact=True).click()
    assert download_info.value.suggested_filename == "path-sessions_never-synced.csv"
    take_screenshot(page, "reports-freshness-admin-never-synced")
    page.goto("/reports/path-sessions/")
    page.locator("#freshness .freshness-unsynced").get_by_role("link", name=never_synced.name).click()
    expect(page.get_by_role("heading", level=1, name=never_synced.name)).to_be_visible()


def test_the_status_links_and_pages_work_without_javascript(browser, live_server, bob, synced):
    from lms_cache.models import PathSession

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


def test_no_learner_shows_a_last_activity_before_their_first(sized_page, bob, synced):
    """Issue 17, broken path 12: the sandbox's learners had a last activity before their first.
    Every session's learner table, and the attempts table, read first ≤ last."""
    from lms_cache.models import PathSession

    page = sized_page
    log_in(page, "bob", PASSWORD)
    pairs = 0
    for session in PathSession.objects.order_by("start_date"):
        page.goto(f"/reports/path-sessions/{session.pk}/?sort=activity")
        rows = page.locator("#learner-table tbody tr")
        expect(rows.first).to_be_visible()
        for first, last in zip(
            rows.locator("td:nth-child(9)").all_inner_texts(),
            rows.locator("td:nth-child(10)").all_inner_texts(),
            strict=True,
        ):
            assert first != "—" or last == "—", (session.name, first, last)  # no activity before a start
            if last != "—":
                pairs += 1
                assert first <= last, (session.name, first, last)  # ISO dates compare as text
    assert pairs > 0
    take_screenshot(page, "reports-learner-activity")

    page.goto("/reports/attempts/?sort=-activity")
    rows = page.locator("table.attempts tbody tr")
    expect(rows.first).to_be_visible()
    for first, last in zip(
        rows.locator("td:nth-child(7)").all_inner_texts(),
        rows.locator("td:nth-child(8)").all_inner_texts(),
        strict=True,
    ):
        assert first <= last, (first, last)
    take_screenshot(page, "reports-attempt-activity")
