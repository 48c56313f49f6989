"""A manager exports a big report in Chromium, at 1440 px and 390 px: the export link opens the
background export's page, whose progress bar turns into a Download button once the worker is
done; the file downloads under its provenance name; "My exports" (in the user menu) lists it.
Screenshots: var/screenshots/exports-{progress,ready,list}-{laptop,phone}.png."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from reports.background_exports import report_export_run
from reports.models import ReportExport
from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import assert_accessible, assert_fits
from tests.conftest import PASSWORD
from tests.reports.conftest import cache  # noqa: F401  (the small report cache: 5 course attempts)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def big_exports(settings, tmp_path):
    """Any export of more than 2 rows is big: a worker writes it."""
    settings.EXPORT_BACKGROUND_ROWS = 2
    settings.EXPORT_FILES_DIR = tmp_path / "exports"


def test_a_manager_exports_a_big_report_follows_its_progress_and_downloads_it(sized_page, bob, cache, big_exports):  # noqa: F811
    page = sized_page
    log_in(page, "bob", PASSWORD)
    page.goto("/reports/attempts/")
    page.locator("#attempt-table .downloads").get_by_role("link", name="CSV", exact=True).click()

    expect(page.get_by_role("heading", level=1, name="Course attempts as CSV")).to_be_visible()
    export = ReportExport.objects.get(owner=bob)
    expect(page).to_have_url(re.compile(rf"/reports/exports/{export.pk}/$"))
    progress = page.locator("#export-progress")
    expect(progress).to_contain_text("Waiting for a worker")
    expect(progress.get_by_role("progressbar", name="Rows written")).to_be_visible()
    expect(progress).to_contain_text("0 of 5 rows written")
    assert_fits(page)
    assert_accessible(page)
    take_screenshot(page, "exports-progress")

    # The worker writes it; the page, polling, turns the progress bar into the download.
    assert report_export_run(export_id=export.pk)
    download_link = progress.get_by_role("link", name="Download the CSV file")
    expect(download_link).to_be_visible()
    expect(progress).to_contain_text("Ready: 5 rows")
    expect(progress.get_by_role("progressbar")).to_have_count(0)
    assert_fits(page)
    assert_accessible(page)
    take_screenshot(page, "exports-ready")

    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert re.fullmatch(r"course-attempts_as-of-\d{4}-\d\d-\d\dT\d{4}Z_sync-\d+\.csv", download.suggested_filename)
    content = Path(download.path()).read_bytes()
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert len(rows) == 5
    assert {row["course"] for row in rows} == {"Écoute active, niveau 2", "<img src=x onerror=alert(1)>"}

    # "My exports", from the user menu.
    page.locator(".user-menu summary").click()
    page.locator(".user-menu").get_by_role("link", name="My exports").click()
    expect(page.get_by_role("heading", level=1, name="My exports")).to_be_visible()
    row = page.locator("#export-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Course attempts (CSV)")
    expect(row).to_contain_text("Ready")
    expect(row.get_by_role("link", name=re.compile("^Download"))).to_be_visible()
    assert_fits(page)
    assert_accessible(page)
    take_screenshot(page, "exports-list")


def test_a_small_export_still_simply_downloads(page, bob, cache, settings):  # noqa: F811
    settings.EXPORT_BACKGROUND_ROWS = 50_000
    log_in(page, "bob", PASSWORD)
    page.goto("/reports/attempts/")
    with page.expect_download() as download_info:
        page.locator("#attempt-table .downloads").get_by_role("link", name="Excel").click()
    assert download_info.value.suggested_filename.endswith(".xlsx")
    expect(page).to_have_url(re.compile(r"/reports/attempts/$"))  # still on the report
    assert not ReportExport.objects.exists()
