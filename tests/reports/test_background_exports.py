"""Background exports (``reports.background_exports``): an export over ``EXPORT_BACKGROUND_ROWS``
rows is written by a worker, into a file that holds the same bytes the link would have
streamed, under its owner's scope at the time it runs; one per double click; only its owner
ever sees or downloads it; kept ``EXPORT_KEEP_DAYS`` days; the owner is mailed when it is ready.

The worker's task runs in-process here (``report_export_run``); a real worker killed mid-export
is in ``test_background_export_worker_restart.py``."""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_htmx.http import HTMX_STOP_POLLING
from openpyxl import load_workbook

from lms_cache.models import LmsGroup
from reports import background_exports
from reports.background_exports import (
    INVALID_FILTERS,
    MAX_ATTEMPTS,
    NO_LONGER_A_READER,
    SESSION_GONE,
    TOO_MANY_ATTEMPTS,
    report_export_run,
    report_exports_due,
    report_exports_purge,
)
from reports.models import ReportExport
from tests.conftest import make_account
from tests.reports.conftest import HTMX, make_sync_run, set_scope

State = ReportExport.State
PROGRESS = {"HX-Request": "true", "HX-Target": "export-progress"}


@pytest.fixture
def export_dir(settings, tmp_path) -> Path:
    settings.EXPORT_FILES_DIR = tmp_path / "exports"
    return settings.EXPORT_FILES_DIR


@pytest.fixture
def background(settings, export_dir) -> Path:
    """Every export of more than one row goes to the worker (the cache has 5 attempts, 2 courses,
    3 path sessions)."""
    settings.EXPORT_BACKGROUND_ROWS = 1
    return export_dir


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _request(client, url: str, query: dict | None = None) -> ReportExport:
    response = client.get(url, query or {})
    assert response.status_code == 302, response.content[:300]
    export = ReportExport.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert response["Location"] == f"/reports/exports/{export.pk}/"
    return export


def _run(export: ReportExport) -> ReportExport:
    assert report_export_run(export_id=export.pk)
    export.refresh_from_db()
    return export


# Routing ----------------------------------------------------------------------------------------
def test_an_export_over_the_threshold_is_handed_to_a_worker_and_opens_its_page(
    cache, bob, manager_client, background, task_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.get("/reports/attempts/export.xlsx", {"group": cache.sales.pk})
    assert response.status_code == 302
    export = ReportExport.objects.get()
    assert response["Location"] == f"/reports/exports/{export.pk}/"
    assert (export.owner, export.report, export.file_format, export.state) == (bob, "attempts", "xlsx", State.QUEUED)
    assert export.query == f"group={cache.sales.pk}"
    assert export.filters_text == "group: Sales"
    assert export.rows_total == 3
    assert task_queue.queue_size() == 1  # enqueued once the request's transaction committed

    page = manager_client.get(response["Location"])
    html = page.content.decode()
    assert "Course attempts as Excel" in html
    assert "Waiting for a worker" in html and "0</strong> of 3 rows written" in html
    assert 'hx-trigger="every 1s"' in html
    assert "group: Sales" in html


def test_an_export_at_or_under_the_threshold_still_streams(cache, manager_client, settings, export_dir):
    settings.EXPORT_BACKGROUND_ROWS = 5  # the cache has 5 attempts
    response = manager_client.get("/reports/attempts/export.csv")
    assert response.status_code == 200
    assert response.streaming
    assert len(list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))) == 1 + 5
    assert not ReportExport.objects.exists()


def test_the_export_report_command_stays_synchronous(cache, background, tmp_path):
    output = tmp_path / "attempts.csv"
    call_command("export_report", "course-stats", "--table", "attempts", "--output", str(output), stdout=io.StringIO())
    assert len(list(csv.reader(io.StringIO(output.read_bytes().decode("utf-8-sig"))))) == 1 + 5
    assert not ReportExport.objects.exists()


def test_invalid_filters_are_refused_before_anything_is_queued(cache, manager_client, background):
    response = manager_client.get("/reports/attempts/export.csv", {"completed_from": "not a date"})
    assert response.status_code == 400
    assert not ReportExport.objects.exists()


# Same file as the link streams ---------------------------------------------------------------------
REPORTS = [
    ("sessions", "/reports/path-sessions/export.{fmt}", {"status": "late"}),
    ("path-session-learners", "/reports/path-sessions/{session}/learners.{fmt}", {"sort": "-progress"}),
    ("course-stats", "/reports/courses/export.{fmt}", {}),
    ("attempts", "/reports/attempts/export.{fmt}", {"sort": "learner"}),
    ("module-results", "/reports/module-results/export.{fmt}", {}),
    ("module-result-rows", "/reports/module-results/rows.{fmt}", {"completion_statuses": "complete"}),
]


@pytest.mark.parametrize("report,url,query", REPORTS, ids=[r for r, _, _ in REPORTS])
def test_a_background_csv_holds_the_same_bytes_and_name_as_the_streamed_one(
    report, url, query, cache, manager_client, settings, export_dir
):
    url = url.format(session=cache.session.pk, fmt="csv")
    settings.EXPORT_BACKGROUND_ROWS = 1_000_000
    streamed = manager_client.get(url, query)
    assert streamed.status_code == 200

    settings.EXPORT_BACKGROUND_ROWS = 0
    export = _run(_request(manager_client, url, query))
    assert (export.report, export.state) == (report, State.DONE)
    downloaded = manager_client.get(f"/reports/exports/{export.pk}/download/")

    assert downloaded.status_code == 200
    assert downloaded["Content-Disposition"] == streamed["Content-Disposition"]
    assert downloaded["Content-Type"] == streamed["Content-Type"]
    assert "no-store" in downloaded["Cache-Control"]
    body = _body(downloaded)
    assert body == _body(streamed)
    assert export.file_size == len(body)
    assert export.rows_written == export.rows_total == len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) - 1


def test_a_background_xlsx_with_a_provenance_row_holds_the_streamed_cells(cache, manager_client, settings, export_dir):
    url, query = "/reports/attempts/export.xlsx", {"provenance": "1", "group": cache.sales.pk}
    settings.EXPORT_BACKGROUND_ROWS = 1_000_000
    streamed = manager_client.get(url, query)
    settings.EXPORT_BACKGROUND_ROWS = 0
    export = _run(_request(manager_client, url, query))
    downloaded = manager_client.get(f"/reports/exports/{export.pk}/download/")

    def cells(body: bytes) -> list[tuple]:
        return list(load_workbook(io.BytesIO(body), read_only=True).active.iter_rows(values_only=True))

    background, streamed_cells = cells(_body(downloaded)), cells(_body(streamed))
    assert export.sidecar
    assert background[0][0] == "# provenance"
    # Every provenance cell but the time of export; then the header and the rows, cell by cell.
    assert [c for c in background[0] if not str(c).startswith("exported_at=")] == [
        c for c in streamed_cells[0] if not str(c).startswith("exported_at=")
    ]
    assert "scope=every learner" in background[0] and "rows=3" in background[0]
    assert background[1:] == streamed_cells[1:]
    assert len(background) == 2 + 3
    assert downloaded["Content-Disposition"] == streamed["Content-Disposition"]


def test_the_worker_applies_the_owners_scope_as_it_is_when_it_runs(cache, bob, manager_client, background):
    export = _request(manager_client, "/reports/attempts/export.csv")
    assert export.rows_total == 5
    set_scope(bob, cache.sales)  # narrowed after the click, before a worker took it

    export = _run(export)

    rows = list(
        csv.DictReader(
            io.StringIO(_body(manager_client.get(f"/reports/exports/{export.pk}/download/")).decode("utf-8-sig"))
        )
    )
    assert {row["group"] for row in rows} == {"Sales"}
    assert export.rows_written == export.rows_total == len(rows) == 3


def test_progress_and_the_lease_are_written_every_few_rows(cache, manager_client, background, settings):
    settings.EXPORT_PROGRESS_ROWS = 2
    export = _request(manager_client, "/reports/attempts/export.csv")
    with CaptureQueriesContext(connection) as queries:
        _run(export)
    progress = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and '"rows_written" = 2' in q["sql"]]
    progress += [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and '"rows_written" = 4' in q["sql"]]
    assert len(progress) == 2, [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert all('"lease_expires_at"' in sql for sql in progress)


# Double clicks ----------------------------------------------------------------------------------
def test_a_double_click_or_a_reload_joins_the_export_under_way(cache, manager_client, background):
    first = _request(manager_client, "/reports/attempts/export.csv", {"group": cache.sales.pk})
    again = _request(manager_client, "/reports/attempts/export.csv", {"group": cache.sales.pk, "page": "2"})
    assert again.pk == first.pk
    # Another format or other filters are another export.
    assert _request(manager_client, "/reports/attempts/export.xlsx", {"group": cache.sales.pk}).pk != first.pk
    assert _request(manager_client, "/reports/attempts/export.csv").pk != first.pk
    assert ReportExport.objects.count() == 3


def test_a_finished_export_of_the_same_data_is_handed_out_again_until_a_sync_changes_it(
    cache, manager_client, background
):
    done = _run(_request(manager_client, "/reports/attempts/export.csv"))
    assert _request(manager_client, "/reports/attempts/export.csv").pk == done.pk

    make_sync_run(cache.acme, "course-stats", ended_ago=timedelta(minutes=1))  # newer numbers
    fresh = _request(manager_client, "/reports/attempts/export.csv")
    assert fresh.pk != done.pk and fresh.state == State.QUEUED


def test_a_failed_export_is_not_handed_out_again(cache, manager_client, background):
    failed = _request(manager_client, "/reports/attempts/export.csv")
    ReportExport.objects.filter(pk=failed.pk).update(state=State.FAILED, error="x")
    assert _request(manager_client, "/reports/attempts/export.csv").pk != failed.pk


def test_two_requests_that_race_make_one_export(cache, bob, background):
    from django.http import QueryDict

    from reports.filters import ReportFilters
    from reports.scopes import reader_scope

    built = background_exports.report_table(
        report="attempts", base=ReportFilters(scope=reader_scope(user=bob)), query=QueryDict("")
    )
    first, created = background_exports.report_export_request(
        owner=bob, report="attempts", file_format="csv", query=QueryDict(""), built=built, rows=5
    )
    assert created
    # The second request looked before the first inserted: the unique constraint settles it.
    original = background_exports._reusable
    background_exports._reusable = lambda **kwargs: None
    try:
        second, created = background_exports.report_export_request(
            owner=bob, report="attempts", file_format="csv", query=QueryDict(""), built=built, rows=5
        )
    finally:
        background_exports._reusable = original
    assert (second.pk, created) == (first.pk, False)
    assert ReportExport.objects.count() == 1


# Owner only -------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["another manager", "an admin"])
def test_only_the_owner_sees_or_downloads_an_export(who, cache, manager_client, background, client, alice):
    export = _run(_request(manager_client, "/reports/attempts/export.csv"))
    other = alice if who == "an admin" else make_account("dave", "Manager")
    if who == "another manager":
        set_scope(other, every_learner=True)
    client.force_login(other)

    assert client.get(f"/reports/exports/{export.pk}/").status_code == 404
    assert client.get(f"/reports/exports/{export.pk}/download/").status_code == 404
    assert client.get(f"/reports/exports/{export.pk}/", headers=PROGRESS).status_code == 404
    assert f"/reports/exports/{export.pk}/" not in client.get("/reports/exports/").content.decode()
    # The owner does.
    assert manager_client.get(f"/reports/exports/{export.pk}/download/").status_code == 200


def test_my_exports_lists_the_owners_exports_newest_first(
    cache, bob, alice, manager_client, background, django_assert_max_num_queries
):
    older = _run(_request(manager_client, "/reports/attempts/export.csv"))
    newer = _request(manager_client, "/reports/path-sessions/export.xlsx", {"search": "Onboarding"})
    ReportExport.objects.create(owner=alice, report="attempts", file_format="csv", request_key="alice's")

    with django_assert_max_num_queries(8):
        html = manager_client.get("/reports/exports/").content.decode()

    assert html.index(f"/reports/exports/{newer.pk}/") < html.index(f"/reports/exports/{older.pk}/")
    assert f"/reports/exports/{ReportExport.objects.get(owner=alice).pk}/" not in html
    assert len(re.findall(r'href="/reports/exports/\d+/"', html)) == 2
    assert "Path sessions (Excel)" in html and "Session or path: Onboarding" in html and "Waiting for a worker" in html
    assert "Course attempts (CSV)" in html and f"/reports/exports/{older.pk}/download/" in html
    assert "Ready" in html
    assert older.expires_at.strftime("%Y-%m-%d") in html
    # Linked from the user menu.
    assert 'href="/reports/exports/">My exports</a>' in manager_client.get("/reports/").content.decode()


# The progress page ------------------------------------------------------------------------------
def test_the_progress_fragment_polls_until_the_file_is_ready(
    cache, manager_client, background, django_assert_max_num_queries
):
    export = _request(manager_client, "/reports/attempts/export.csv")
    ReportExport.objects.filter(pk=export.pk).update(state=State.RUNNING, rows_written=2)

    with django_assert_max_num_queries(4):  # the session, the user, their roles, the export
        running = manager_client.get(f"/reports/exports/{export.pk}/", headers=PROGRESS)
    assert running.status_code == 200
    assert running.content.decode().lstrip().startswith('<section id="export-progress"')
    assert "<strong>2</strong> of 5 rows written (40%)" in running.content.decode()

    ReportExport.objects.filter(pk=export.pk).update(state=State.QUEUED, rows_written=0)
    _run(export)
    done = manager_client.get(f"/reports/exports/{export.pk}/", headers=PROGRESS)
    assert done.status_code == HTMX_STOP_POLLING
    html = done.content.decode()
    assert "every 1s" not in html
    assert f'href="/reports/exports/{export.pk}/download/"' in html
    assert "Ready: 5 rows" in html


def test_a_download_before_the_file_is_ready_leads_to_its_page(cache, manager_client, background):
    export = _request(manager_client, "/reports/attempts/export.csv")
    response = manager_client.get(f"/reports/exports/{export.pk}/download/")
    assert (response.status_code, response["Location"]) == (302, f"/reports/exports/{export.pk}/")


# Failures in plain words ------------------------------------------------------------------------
def test_filters_that_no_longer_validate_fail_the_export_with_the_reason(cache, manager_client, background, mailoutbox):
    export = _request(manager_client, "/reports/attempts/export.csv", {"group": cache.sales.pk})
    LmsGroup.objects.filter(pk=cache.sales.pk).delete()

    export = _run(export)

    assert export.state == State.FAILED
    assert export.error == INVALID_FILTERS.format(
        errors="group: Select a valid choice. That choice is not one of the available choices."
    )
    html = manager_client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert "Select a valid choice" in html and "Export again" in html
    assert f'href="/reports/attempts/export.csv?group={cache.sales.pk}"' in html
    assert mailoutbox[0].subject == "[LMS Admin] Your export failed: Course attempts (CSV)"
    assert not list(Path(background).glob("*"))


def test_a_session_no_longer_in_the_readers_reports_fails_the_export(cache, bob, manager_client, background):
    export = _request(manager_client, f"/reports/path-sessions/{cache.session.pk}/learners.csv")
    set_scope(bob)  # an empty scope: no learner, no session
    assert _run(export).error == SESSION_GONE


def test_a_reader_who_lost_the_role_gets_no_file(cache, bob, manager_client, background):
    export = _request(manager_client, "/reports/attempts/export.csv")
    bob.groups.clear()
    assert _run(export).error == NO_LONGER_A_READER
    assert not ReportExport.objects.filter(pk=export.pk).exclude(file_path="").exists()


def test_the_owner_is_mailed_a_link_to_the_ready_export(cache, bob, manager_client, background, mailoutbox, settings):
    settings.LMS_PUBLIC_URL = "https://lms-admin.example"
    export = _run(_request(manager_client, "/reports/attempts/export.csv"))

    [mail] = mailoutbox
    assert mail.to == [bob.email]
    assert mail.subject == "[LMS Admin] Your export is ready: Course attempts (CSV)"
    assert f"https://lms-admin.example/reports/exports/{export.pk}/" in mail.body
    assert "5 rows" in mail.body
    assert f'href="https://lms-admin.example/reports/exports/{export.pk}/"' in mail.alternatives[0][0]


def test_no_mail_for_an_owner_without_an_address(cache, bob, manager_client, background, mailoutbox):
    User.objects.filter(pk=bob.pk).update(email="")
    assert _run(_request(manager_client, "/reports/attempts/export.csv")).state == State.DONE
    assert mailoutbox == []


# Restarts, expiry -------------------------------------------------------------------------------
def test_a_restarted_export_is_written_again_from_the_first_row(cache, manager_client, background):
    export = _request(manager_client, "/reports/attempts/export.csv")
    # A worker died half way: its lease lapsed, its temporary file is still there.
    ReportExport.objects.filter(pk=export.pk).update(
        state=State.RUNNING,
        attempts=1,
        rows_written=2,
        lease_owner="dead-worker",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    background.mkdir(parents=True)
    (background / f"export-{export.pk}-dead.part").write_bytes(b"half a file")
    assert report_export_run(export_id=export.pk, owner="second-worker")  # the lease lapsed: taken

    export.refresh_from_db()
    assert (export.state, export.attempts, export.rows_written) == (State.DONE, 2, 5)
    assert sorted(p.name for p in background.iterdir()) == [f"export-{export.pk}.csv"]


def test_a_worker_whose_export_was_taken_over_stops_and_leaves_no_file(
    cache, manager_client, background, settings, monkeypatch
):
    settings.EXPORT_PROGRESS_ROWS = 2
    export = _request(manager_client, "/reports/attempts/export.csv")
    spec = background_exports.REPORTS["attempts"]

    def taken_over_at_row_2(*, filters):
        table = spec.table(filters=filters)

        def rows():
            for n, row in enumerate(table.rows()):
                if n == 1:  # this worker was presumed dead: another one took the export
                    ReportExport.objects.filter(pk=export.pk).update(lease_owner="another-worker")
                yield row

        return replace(table, rows=rows)

    monkeypatch.setitem(background_exports.REPORTS, "attempts", replace(spec, table=taken_over_at_row_2))

    assert report_export_run(export_id=export.pk, owner="first-worker") is False

    export.refresh_from_db()
    assert (export.state, export.lease_owner, export.file_path) == (State.RUNNING, "another-worker", "")
    assert list(background.iterdir()) == []


def test_resume_finds_exports_whose_worker_died_and_gives_up_after_three_starts(cache, manager_client, background):
    now = timezone.now()
    lapsed = _request(manager_client, "/reports/attempts/export.csv")
    crashing = _request(manager_client, "/reports/attempts/export.xlsx")
    alive = _request(manager_client, "/reports/courses/export.xlsx")
    lost = _request(manager_client, "/reports/path-sessions/export.csv")
    fresh = _request(manager_client, "/reports/path-sessions/export.xlsx")
    ReportExport.objects.filter(pk=lapsed.pk).update(state=State.RUNNING, attempts=1, lease_expires_at=now)
    ReportExport.objects.filter(pk=crashing.pk).update(state=State.RUNNING, attempts=MAX_ATTEMPTS, lease_expires_at=now)
    ReportExport.objects.filter(pk=alive.pk).update(
        state=State.RUNNING, attempts=1, lease_expires_at=now + timedelta(minutes=1)
    )
    ReportExport.objects.filter(pk=lost.pk).update(enqueued_at=now - timedelta(hours=1))

    assert report_exports_due(now=now + timedelta(seconds=1)) == [lapsed.pk, lost.pk]

    crashing.refresh_from_db()
    assert crashing.state == State.FAILED
    assert crashing.error == TOO_MANY_ATTEMPTS.format(attempts=MAX_ATTEMPTS)
    fresh.refresh_from_db()
    assert fresh.state == State.QUEUED


def test_the_resume_task_enqueues_what_is_due(cache, manager_client, background, task_queue):
    from reports.tasks import report_exports_resume

    export = _request(manager_client, "/reports/attempts/export.csv")
    ReportExport.objects.filter(pk=export.pk).update(
        state=State.RUNNING, attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    task_queue.purge_queue()
    assert report_exports_resume() == 1
    assert task_queue.queue_size() == 1


def test_expired_files_are_purged_and_their_exports_marked_expired(cache, manager_client, background):
    old = _run(_request(manager_client, "/reports/attempts/export.csv"))
    kept = _run(_request(manager_client, "/reports/attempts/export.xlsx"))
    ReportExport.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    orphan = background / "export-999-gone.part"
    orphan.write_bytes(b"left by a worker that died")
    recent_orphan = background / "export-998-writing.part"
    recent_orphan.write_bytes(b"being written")
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(orphan, (two_days_ago, two_days_ago))

    assert report_exports_purge() == 1

    old.refresh_from_db()
    assert (old.state, old.file_path) == (State.EXPIRED, "")
    assert sorted(p.name for p in background.iterdir()) == sorted(["export-998-writing.part", f"export-{kept.pk}.xlsx"])
    # Its page says so, its download leads there, a click exports again.
    response = manager_client.get(f"/reports/exports/{old.pk}/download/")
    assert response.status_code == 302
    html = manager_client.get(f"/reports/exports/{old.pk}/").content.decode()
    assert "Its file was deleted" in html and 'href="/reports/attempts/export.csv"' in html
    assert manager_client.get(f"/reports/exports/{kept.pk}/download/").status_code == 200


def test_the_schedules_are_made_by_the_migration(db):
    from django_q.models import Schedule

    schedules = dict(Schedule.objects.filter(name__endswith="-report-exports").values_list("name", "func"))
    assert schedules == {
        "resume-report-exports": "reports.tasks.report_exports_resume",
        "purge-report-exports": "reports.tasks.report_exports_purge",
    }


def test_a_full_page_and_its_fragment_vary_on_htmx(cache, manager_client, background):
    export = _request(manager_client, "/reports/attempts/export.csv")
    assert "HX-Request" in manager_client.get(f"/reports/exports/{export.pk}/")["Vary"]
    assert manager_client.get(f"/reports/exports/{export.pk}/", headers=HTMX).status_code == 200
