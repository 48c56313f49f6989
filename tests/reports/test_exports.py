"""Every report table downloads as CSV (streamed, UTF-8 with BOM, ISO dates, formula-safe, and
parsed back intact) and as XLSX (typed cells, text never a formula), with the page's filters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from lms_cache.models import PathSession
from reports import exports, xlsx
from reports.filters import ReportFilters
from reports.selectors.courses import attempt_list
from reports.selectors.module_results import module_result_list
from reports.selectors.path_sessions import path_session_learners
from tests.reports.conftest import HYPERLINK, SCRIPT

LEARNER_COLUMNS = [
    "learner_id",
    "first_name",
    "last_name",
    "mail",
    "group",
    "group_id",
    "status",
    "reason",
    "progress",
    "score",
    "time_spent_seconds",
    "enrolled_at",
    "first_activity_at",
    "last_activity_at",
    "completed_at",
    "due_date",
    "certificate",
    "custom_field:Country",
    "custom_field:Employee ID",
]


def _download(client, url: str, query: dict | None = None):
    response = client.get(url, query or {})
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def _csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_learner_csv_parses_back_with_accents_commas_quotes_new_lines_and_formulas_escaped(cache, manager_client):
    response, body = _download(manager_client, f"/reports/path-sessions/{cache.session.pk}/learners.csv")

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    # The file is named after where its numbers come from: the session's last sync, and its run.
    as_of = cache.sessions_run.ended_at.astimezone(UTC)
    assert response["Content-Disposition"] == (
        'attachment; filename="path-session-onboarding-cohort-1-learners'
        f'_as-of-{as_of:%Y-%m-%dT%H%MZ}_sync-{cache.sessions_run.pk}.csv"'
    )
    rows = _csv(body)
    assert list(rows[0]) == LEARNER_COLUMNS
    assert len(rows) == 12  # the learner who left the session is not exported
    by_mail = {row["mail"]: row for row in rows}
    zoe = by_mail["zoe@acme.example"]
    assert (zoe["first_name"], zoe["last_name"]) == ('Zoë "Z"', "O'Brien-Dubois, Jr.\nsecond line")
    assert (zoe["group"], zoe["status"], zoe["certificate"]) == ("Ingénierie", "successful", "true")
    assert (zoe["custom_field:Country"], zoe["custom_field:Employee ID"], zoe["time_spent_seconds"]) == (
        "Österreich",
        "E-1",
        "3723",
    )
    assert datetime.fromisoformat(zoe["completed_at"]).tzinfo == UTC
    assert zoe["completed_at"].endswith("+00:00")
    formula = by_mail["'@formula@acme.example"]  # a mail starting with @ is escaped too
    assert formula["first_name"] == "'" + HYPERLINK
    assert formula["custom_field:Country"] == "'=1+1"
    mallory = by_mail["mallory@acme.example"]
    assert mallory["last_name"] == SCRIPT  # text stays text: no HTML escaping in a CSV


def test_no_cell_of_any_csv_export_starts_a_formula(cache, manager_client):
    urls = [
        f"/reports/path-sessions/{cache.session.pk}/learners.csv",
        "/reports/path-sessions/export.csv",
        "/reports/attempts/export.csv",
        "/reports/courses/export.csv",
        "/reports/module-results/export.csv",
        "/reports/module-results/rows.csv",
    ]
    for url in urls:
        _, body = _download(manager_client, url)
        for row in csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (url, cell)
                assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit(), (url, cell)


def test_the_learner_export_keeps_the_table_filters_and_order(cache, manager_client):
    _, body = _download(
        manager_client,
        f"/reports/path-sessions/{cache.session.pk}/learners.csv",
        {"status": "unsuccessful", "sort": "-progress"},
    )

    rows = _csv(body)
    assert [(r["status"], r["reason"], r["progress"]) for r in rows] == [
        ("unsuccessful", "", "100"),
        ("unsuccessful", "sessionEnded", "40"),
    ]


def test_the_sessions_export_has_a_column_per_status_summing_to_enrolled(cache, manager_client):
    _, body = _download(manager_client, "/reports/path-sessions/export.csv", {"phase": "ongoing"})

    (row,) = _csv(body)
    statuses = ["notYetStarted", "onTime", "late", "awaitingCorrection", "successful", "toRetake", "unsuccessful"]
    assert row["path_session"] == "Onboarding · Cohort 1" and row["path"] == "Onboarding <b>2025</b>"
    assert sum(int(row[s]) for s in [*statuses, "sessionNotOpened"]) == int(row["enrolled"]) == 12
    assert (row["toRetake"], row["toRetake_mandatoryReplay"], row["unsuccessful_sessionEnded"]) == ("2", "1", "1")
    assert (row["completion_rate_percent"], row["phase"], row["certificates"]) == ("16.7", "ongoing", "2")


def test_the_breakdown_and_trend_exports(cache, manager_client):
    _, statuses = _download(manager_client, f"/reports/path-sessions/{cache.session.pk}/statuses.csv")
    _, trend = _download(manager_client, f"/reports/path-sessions/{cache.session.pk}/trend.csv")

    rows = _csv(statuses)
    assert list(rows[0]) == ["status", "reason", "learners", "percent", "lms_count"]
    assert sum(int(r["learners"]) for r in rows) == 12
    assert round(sum(float(r["percent"]) for r in rows), 1) == 100.0
    assert [r["lms_count"] for r in rows if r["status"] == "toRetake"] == ["2", ""]
    points = _csv(trend)
    assert [p["enrolled"] for p in points] == ["10", "12"] and points[1]["late"] == "2"


def test_the_course_exports(cache, manager_client):
    _, courses = _download(manager_client, "/reports/courses/export.csv", {"sort": "course"})
    _, attempts = _download(manager_client, "/reports/attempts/export.csv", {"group": cache.sales.pk})

    rows = _csv(courses)
    assert [r["course"] for r in rows] == ["<img src=x onerror=alert(1)>", "Écoute active, niveau 2"]
    ecoute = rows[1]
    assert (ecoute["attempts"], ecoute["learners"], ecoute["learners_completed"]) == ("3", "3", "2")
    assert (ecoute["completion_rate_percent"], ecoute["average_score"]) == ("66.7", "80.0")
    assert (ecoute["time_spent_seconds"], ecoute["average_time_spent_seconds"]) == ("1800", "600")
    sales = _csv(attempts)
    assert {r["last_name"] for r in sales} == {"Formula", SCRIPT} and len(sales) == 3
    assert {r["group"] for r in sales} == {"Sales"}


def test_the_module_result_exports_use_the_api_statuses(cache, manager_client):
    _, modules = _download(manager_client, "/reports/module-results/export.csv")
    _, results = _download(manager_client, "/reports/module-results/rows.csv", {"completion_statuses": ["complete"]})

    rows = _csv(modules)
    assert list(rows[0])[:5] == ["connection", "course_id", "module_id", "module", "results"]
    module_1 = next(r for r in rows if r["module_id"] == "module-1")
    assert (module_1["results"], module_1["complete"], module_1["passed"], module_1["not_started"]) == (
        "6",
        "2",
        "1",
        "1",
    )
    assert [r["completion_status"] for r in _csv(results)] == ["complete", "complete"]


def test_xlsx_exports_type_their_cells_and_never_store_a_formula(cache, manager_client, tmp_path):
    response, body = _download(manager_client, f"/reports/path-sessions/{cache.session.pk}/learners.xlsx")

    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    assert 'filename="path-session-onboarding-cohort-1-learners_as-of-' in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith(f'_sync-{cache.sessions_run.pk}.xlsx"')
    (tmp_path / "learners.xlsx").write_bytes(body)
    sheet = load_workbook(tmp_path / "learners.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == LEARNER_COLUMNS and len(rows) == 13
    formula = next(r for r in rows if r[2] == "Formula")
    assert formula[1] == HYPERLINK and formula[3] == "@formula@acme.example"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    zoe = next(r for r in rows if r[3] == "zoe@acme.example")
    assert isinstance(zoe[14], datetime) and zoe[8] == 100 and zoe[16] is True


def test_the_xlsx_of_an_empty_table_still_has_its_header(cache, manager_client, tmp_path):
    _, body = _download(manager_client, "/reports/attempts/export.xlsx", {"user": "nobody at all"})

    (tmp_path / "empty.xlsx").write_bytes(body)
    rows = list(load_workbook(tmp_path / "empty.xlsx").active.iter_rows(values_only=True))
    assert rows == [tuple(exports.attempts_table(filters=exports.ReportFilters()).columns)]


def test_an_export_with_invalid_filters_is_refused_rather_than_too_wide(cache, manager_client):
    response = manager_client.get("/reports/attempts/export.csv", {"completed_from": "yesterday-ish"})

    assert response.status_code == 400
    assert "nothing was exported" in response.content.decode() and "Enter a valid date." in response.content.decode()


def test_an_unknown_format_is_not_found(cache, manager_client):
    assert manager_client.get("/reports/attempts/export.pdf").status_code == 404


def test_an_export_reads_rows_in_a_fixed_number_of_queries(cache, manager_client, django_assert_max_num_queries):
    from tests.reports.conftest import make_attempt

    for _ in range(30):
        make_attempt(cache.zoe, cache.courses[0], completed_days_ago=2)

    # One of them counts the rows: whether a worker writes the file (reports.background_exports).
    with django_assert_max_num_queries(7):
        _, body = _download(manager_client, "/reports/attempts/export.csv")

    assert len(_csv(body)) == 35


def test_csv_chunks_stream_a_bounded_number_of_rows_at_a_time():
    rows = ((f"name {n}", n) for n in range(2500))
    table = exports.Table("t", ("name", "n"), (exports.TEXT, exports.INT), lambda: rows)

    chunks = list(exports.csv_chunks(table))

    assert len(chunks) == 1 + 3  # the header, then 1000 rows a chunk
    assert chunks[0] == b"\xef\xbb\xbfname,n\r\n"


DANGEROUS = ["=1+1", "+33 6 12", "-cmd", "@SUM(A1)", "\tx", "\rx", 'say "=hi"', "a,=b", "line\n=2"]


@pytest.mark.parametrize("dangerous", DANGEROUS)
@pytest.mark.parametrize("column", [0, 2])
@pytest.mark.parametrize("at", [1000, 1234], ids=["first-of-a-chunk", "mid-chunk"])
def test_every_text_cell_is_formula_safe_wherever_it_sits_in_a_chunk(dangerous, column, at):
    """A chunk is written as it comes and rewritten only when a cell may start a formula:
    whatever the position (first column, last, mid-chunk), the text comes back escaped the
    same way as cell by cell, and numbers (negative too) and dates are untouched."""
    when = datetime(2025, 6, 1, 9, 30)
    rows = [["safe", n, "x", when] for n in range(1500)]
    rows[1][1] = -1  # a negative number in the first chunk only: the second one takes the fast path
    rows[at][column] = dangerous
    table = exports.Table(
        "t", ("a", "n", "b", "at"), (exports.TEXT, exports.INT, exports.TEXT, exports.DATETIME), lambda: iter(rows)
    )

    body = b"".join(exports.csv_chunks(table))
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))[1:]

    assert len(parsed) == 1500
    assert parsed[at][column] == exports._text(dangerous)
    assert parsed[at][column] != dangerous or not dangerous.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert [row[1] for row in parsed[:3]] == ["0", "-1", "2"]
    assert {row[3] for row in parsed} == {"2025-06-01T09:30:00+00:00"}
    assert all(row[column] == "safe" or row[column] == "x" for i, row in enumerate(parsed) if i != at)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain = text", "plain = text"),
        ("", ""),
        (None, ""),
    ],
)
def test_text_cells_are_escaped_against_formulas(value, expected):
    assert exports._text(value) == expected


def test_numbers_dates_and_booleans_keep_their_value():
    assert exports._iso(datetime(2025, 6, 1, 11, 30)) == "2025-06-01T11:30:00+00:00"  # naive: UTC (SQLite cursor)
    assert exports._iso(datetime(2025, 6, 1, 11, 30, tzinfo=UTC)) == "2025-06-01T11:30:00+00:00"
    assert exports._bool(False) == "false" and exports._bool(None) == ""


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2025-06-01 11:30:05", "2025-06-01T11:30:05+00:00"),
        ("2025-06-01 11:30:05.123456", "2025-06-01T11:30:05+00:00"),
        ("2025-06-01", "2025-06-01"),
        ("2025-06-01T11:30:05+02:00", "2025-06-01T09:30:05+00:00"),
        ("=not a date", "'=not a date"),
    ],
)
def test_sqlite_stored_date_text_is_written_as_iso_utc(stored, expected):
    # export_values selects SQLite date-times as their stored text; anything else is parsed or kept as safe text.
    assert exports._iso(stored) == expected


def test_xlsx_reads_sqlite_stored_date_text_as_a_date():
    assert xlsx._when("2025-06-01 12:00:00.000000") == xlsx._when(datetime(2025, 6, 1, 12))
    assert xlsx._when("2025-06-01") == xlsx._when(date(2025, 6, 1))


@pytest.mark.parametrize(
    ("queryset", "fields"),
    [
        (lambda: attempt_list(filters=ReportFilters()), exports.ATTEMPT_FIELDS),
        (lambda: module_result_list(filters=ReportFilters()), exports.RESULT_FIELDS),
        (
            lambda: path_session_learners(
                session=PathSession.objects.get(name="Onboarding · Cohort 1"), filters=ReportFilters()
            ),
            exports.LEARNER_FIELDS,
        ),
    ],
    ids=["attempts", "module-results", "learners"],
)
def test_the_cursor_reader_gives_the_values_django_gives(cache, queryset, fields):
    """Exports read rows without Django's converters: the values must still be the same
    (aware UTC date-times, dates, booleans, JSON), on SQLite and on PostgreSQL."""
    expected = list(queryset().values_list(*fields))
    rows = list(exports.cursor_rows(queryset().values_list(*fields)))

    assert len(rows) == len(expected) > 0

    # Naive date-times are UTC (SQLite) and booleans may be 0/1: the writers read both.
    def as_django_gives(value):
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value

    assert [tuple(map(as_django_gives, row)) for row in rows] == [tuple(row) for row in expected]
    for row, django_row in zip(rows, expected, strict=True):
        for value, django_value in zip(row, django_row, strict=True):
            if not isinstance(django_value, bool):
                assert type(value) is type(django_value), (value, django_value)
    assert any(isinstance(value, datetime) for row in rows for value in row)


def test_the_cursor_reader_of_an_empty_queryset_yields_nothing(db):
    assert list(exports.cursor_rows(attempt_list(filters=ReportFilters()).none().values_list("pk"))) == []
