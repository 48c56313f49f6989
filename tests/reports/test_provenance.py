"""Freshness and provenance: every report page says as of when (time, sync run, source API), flags
stale data past its connection's threshold, and states the filters applied and the row count;
every export carries the same facts in its name and, when asked, in one sidecar row."""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from integrations.models import SyncRun

PAGES = {
    "sessions": "/reports/path-sessions/?search=Onboarding&phase=ongoing",
    "courses": "/reports/courses/?completed_from=2000-01-01",
    "attempts": "/reports/attempts/?user=zoe%40acme.example",
    "modules": "/reports/module-results/?completion_statuses=passed",
}


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("page", PAGES)
def test_every_report_page_says_as_of_when_which_sync_and_source_the_filters_and_the_row_count(
    cache, manager_client, page
):
    html = manager_client.get(PAGES[page]).content.decode()
    run = SyncRun.objects.filter(
        connection=cache.ispring if page == "modules" else cache.acme,
        kind={"sessions": "sessions", "modules": "module-results"}.get(page, "course-stats"),
    ).get()
    assert (
        f'statistics as of <time datetime="{run.ended_at.astimezone(timezone.get_current_timezone()):%Y-%m-%dT%H:%M}'
        in html
    )
    assert f"sync #{run.pk}" in html and run.source_api in html
    assert "badge-stale" not in html
    applied = {
        "sessions": ["Session or path: <strong>Onboarding</strong>", "Session: <strong>Ongoing</strong>"],
        "courses": ["Completed from: <strong>2000-01-01</strong>"],
        "attempts": ["Learner: <strong>zoe@acme.example</strong>"],
        "modules": ["Completion status: <strong>Passed</strong>"],
    }[page]
    assert all(text in html for text in applied), html.split('class="applied-filters"')[1][:400]
    count = {"sessions": "1 path session", "courses": "2 courses", "attempts": "2 attempts", "modules": "2 modules"}
    assert f'<p class="row-count" role="status">{count[page]}</p>' in html


def test_the_path_session_page_says_where_its_numbers_come_from(cache, manager_client):
    html = manager_client.get(f"/reports/path-sessions/{cache.session.pk}/?status=late").content.decode()
    assert f"sync #{cache.sessions_run.pk}" in html and "360Learning v2 + v1" in html
    assert 'Filters: <span class="applied">Status: <strong>Late</strong></span>' in html
    assert "2 learners match these filters" in html


def test_stale_data_is_flagged_past_its_connections_own_threshold(cache, manager_client):
    SyncRun.objects.filter(connection=cache.acme).update(ended_at=timezone.now() - timedelta(hours=30))
    html = manager_client.get("/reports/courses/").content.decode()
    assert '<span class="badge badge-stale">Stale: older than 24 h</span>' in html

    cache.acme.stale_after_hours = 48
    cache.acme.save()
    assert "badge-stale" not in manager_client.get("/reports/courses/").content.decode()


def test_an_export_is_named_after_its_provenance_and_stays_plain_csv_by_default(cache, manager_client):
    run = SyncRun.objects.get(connection=cache.acme, kind="course-stats")
    response = manager_client.get("/reports/attempts/export.csv")
    stamp = run.ended_at.astimezone(UTC).strftime("%Y-%m-%dT%H%MZ")
    assert response["Content-Disposition"] == f'attachment; filename="course-attempts_as-of-{stamp}_sync-{run.pk}.csv"'
    rows = _csv(_body(response))
    assert rows[0][0] == "attempt_id" and len(rows) == 6  # the header, then the five attempts


def test_the_sidecar_row_says_as_of_which_sync_the_filters_the_scope_and_the_rows(cache, manager_client):
    run = SyncRun.objects.get(connection=cache.acme, kind="course-stats")
    response = manager_client.get("/reports/attempts/export.csv?user=mallory%40acme.example&provenance=1")
    sidecar, header, *rows = _csv(_body(response))
    assert header[0] == "attempt_id" and len(rows) == 2
    facts = dict(cell.split("=", 1) for cell in sidecar[1:])
    assert sidecar[0] == "# provenance"
    assert facts["report"] == "course-attempts"
    assert facts["as_of"] == run.ended_at.astimezone(UTC).isoformat(timespec="seconds")
    assert facts["sources"] == f"Acme 360: sync #{run.pk}, 360Learning v2 + v1, as of {facts['as_of']}"
    assert (facts["stale"], facts["filters"], facts["scope"], facts["rows"]) == (
        "no",
        "Learner: mallory@acme.example",
        "every learner",
        "2",
    )


def test_the_sidecar_of_a_scoped_managers_workbook_names_their_scope(teams, tmp_path):
    from django.test import Client

    erin = Client()
    erin.force_login(teams.erin)
    response = erin.get(f"/reports/path-sessions/{teams.sessions['spring'].pk}/learners.xlsx?provenance=1")
    (tmp_path / "learners.xlsx").write_bytes(_body(response))
    sidecar, header, *rows = load_workbook(tmp_path / "learners.xlsx").active.iter_rows(values_only=True)
    assert sidecar[0] == "# provenance" and "scope=Learners in Ingénierie (with their subgroups)" in sidecar
    assert "rows=2" in sidecar and header[0] == "learner_id" and len(rows) == 2


def test_a_report_never_synced_says_so_in_its_file_name(db, manager_client):
    from tests.reports.conftest import make_connection

    make_connection("Fresh 360")
    response = manager_client.get("/reports/path-sessions/export.csv?provenance=1")
    assert response["Content-Disposition"] == 'attachment; filename="path-sessions_never-synced.csv"'
    sidecar = _csv(_body(response))[0]
    assert "as_of=never synced" in sidecar and "stale=yes" in sidecar and "sources=Fresh 360: never synced" in sidecar


def test_export_report_writes_the_sidecar_row_on_request_and_prints_the_provenance(cache, tmp_path):
    out = io.StringIO()
    target = tmp_path / "learners.csv"
    call_command(
        "export_report", "path-session", "--session", cache.session.remote_id, "--status", "late", "--provenance",
        "--output", str(target), stdout=out,
    )  # fmt: skip
    sidecar, header, *rows = _csv(target.read_bytes())
    assert sidecar[0] == "# provenance" and "filters=Status: Late" in sidecar and "rows=2" in sidecar
    assert header[0] == "learner_id" and len(rows) == 2
    printed = out.getvalue()
    assert f"Acme 360: sync #{cache.sessions_run.pk}, 360Learning v2 + v1" in printed and "Wrote 2 rows" in printed


# Issue 17, broken path 5: freshness is about the connections whose rows are shown. ------------
REPORTS = {
    "sessions": ("/reports/path-sessions/", "sessions", "path-sessions"),
    "courses": ("/reports/courses/", "course-stats", "course-stats"),
    "attempts": ("/reports/attempts/", "course-stats", "course-attempts"),
}


@pytest.fixture
def fresh(cache):
    """A second 360Learning connection, added and never synced: it has no row anywhere."""
    from tests.reports.conftest import make_connection

    return make_connection("Fresh 360")


@pytest.mark.parametrize("report", REPORTS)
def test_a_never_synced_connection_neither_stamps_nor_stales_a_report_of_another_ones_rows(
    cache, fresh, manager_client, report
):
    url, kind, name = REPORTS[report]
    run = SyncRun.objects.get(connection=cache.acme, kind=kind)
    html = manager_client.get(url).content.decode()
    freshness = html.split('id="freshness"')[1].split("</section>")[0]
    assert "Acme 360" in freshness and f"sync #{run.pk}" in freshness
    assert "Fresh 360" not in freshness and "never synced" not in freshness and "badge-stale" not in freshness

    response = manager_client.get(f"{url}export.csv?provenance=1")
    stamp = run.ended_at.astimezone(UTC).strftime("%Y-%m-%dT%H%MZ")
    assert response["Content-Disposition"] == f'attachment; filename="{name}_as-of-{stamp}_sync-{run.pk}.csv"'
    facts = dict(cell.split("=", 1) for cell in _csv(_body(response))[0][1:])
    assert facts["stale"] == "no" and "Fresh 360" not in facts["sources"]


def test_an_admin_is_told_which_connection_is_left_out_because_it_was_never_synced(cache, fresh, admin_client):
    html = admin_client.get("/reports/path-sessions/").content.decode()
    note = html.split('class="muted freshness-unsynced"')[1].split("</p>")[0]
    assert f'<a href="/connections/{fresh.pk}/">Fresh 360</a>, never synced yet.' in note
    assert "badge-stale" not in html.split('id="freshness"')[1].split("</section>")[0]


def test_choosing_the_never_synced_connection_says_so_plainly_in_the_page_and_the_file_name(
    cache, fresh, manager_client
):
    html = manager_client.get(f"/reports/path-sessions/?connection={fresh.pk}").content.decode()
    freshness = html.split('id="freshness"')[1].split("</section>")[0]
    assert "<strong>Fresh 360</strong>:" in freshness and "never synced yet" in freshness
    assert "Acme 360" not in freshness
    response = manager_client.get(f"/reports/path-sessions/export.csv?connection={fresh.pk}")
    assert response["Content-Disposition"] == 'attachment; filename="path-sessions_never-synced.csv"'


def test_a_stale_connection_without_a_row_under_the_filters_does_not_stale_the_others(cache, manager_client):
    from tests.reports.conftest import make_connection, make_sync_run

    old = make_connection("Old 360")
    make_sync_run(old, "course-stats", ended_ago=timedelta(days=3))
    html = manager_client.get("/reports/courses/").content.decode()
    assert "badge-stale" not in html and "Old 360" not in html.split('id="freshness"')[1].split("</section>")[0]


def test_the_report_index_lists_a_never_synced_connection_as_not_synced_yet_without_a_stale_badge(
    cache, fresh, manager_client
):
    html = manager_client.get("/reports/").content.decode()
    rows = [row for row in html.split("<tr>") if "Fresh 360" in row]
    assert len(rows) == 2  # sessions, course statistics (it is no iSpring connection)
    assert all("Not synced yet: none of its data is in this report" in row and "stale" not in row for row in rows)


def test_the_freshness_of_a_report_is_one_query(cache, fresh, django_assert_num_queries):
    from integrations.models import SyncKind
    from reports.filters import ReportFilters
    from reports.freshness import report_freshness

    with django_assert_num_queries(1):
        report = report_freshness(filters=ReportFilters(), kind=SyncKind.SESSIONS)
    assert [c.name for c, _ in report.shown] == ["Acme 360"] and report.never_synced == [fresh]


def test_a_filtered_table_fragment_brings_the_stamp_of_its_own_rows_out_of_band(cache, fresh, manager_client):
    from tests.reports.conftest import HTMX

    html = manager_client.get(f"/reports/path-sessions/?connection={fresh.pk}", headers=HTMX).content.decode()
    assert html.lstrip().startswith('<div id="pathsession-table"')
    stamp = html.split('<section class="freshness" id="freshness"')[1].split("</section>")[0]
    assert stamp.startswith(' aria-label="How fresh these numbers are" hx-swap-oob="true">')
    assert "<strong>Fresh 360</strong>:" in stamp and "Acme 360" not in stamp
