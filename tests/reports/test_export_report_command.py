"""``manage.py export_report``: the pages' exports from the command line, CSV or XLSX by the
output's extension, with the pages' filters; clear errors for what it cannot do."""

from __future__ import annotations

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests.reports.conftest import HYPERLINK


def _export(*args: str) -> str:
    out = StringIO()
    call_command("export_report", *args, stdout=out)
    return out.getvalue()


def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_it_exports_a_path_session_by_its_360learning_id(cache, tmp_path):
    output = tmp_path / "learners.csv"

    said = _export("path-session", "--session", cache.session.remote_id, "--output", str(output))

    assert said.startswith(f"Wrote 12 rows to {output} (csv, ")
    assert output.read_bytes().startswith(b"\xef\xbb\xbflearner_id,")
    rows = _rows(output)
    assert len(rows) == 12 and {r["first_name"] for r in rows} >= {"'" + HYPERLINK, 'Zoë "Z"'}


def test_it_exports_a_path_session_by_its_local_id_with_the_table_filters(cache, tmp_path):
    output = tmp_path / "late.csv"

    _export(
        "path-session", "--session", str(cache.session.pk), "--status=late", "--sort=-name", "--output", str(output)
    )

    rows = _rows(output)
    assert [r["status"] for r in rows] == ["late", "late"]
    assert rows[0]["last_name"] == "<script>alert(1)</script>"  # "<" sorts after "#", so first when descending


@pytest.mark.parametrize(
    "table,columns", [("statuses", ["status", "reason", "learners", "percent", "lms_count"]), ("trend", None)]
)
def test_it_exports_the_other_tables_of_a_path_session(cache, tmp_path, table, columns):
    output = tmp_path / f"{table}.csv"

    _export("path-session", "--session", cache.session.remote_id, "--table", table, "--output", str(output))

    rows = _rows(output)
    assert rows and (columns is None or list(rows[0]) == columns)


def test_it_exports_the_sessions_overview_with_filters(cache, tmp_path):
    output = tmp_path / "sessions.csv"

    said = _export("sessions", "--phase", "ended", "--connection", "Acme 360", "--output", str(output))

    assert "Wrote 1 rows" in said
    assert [r["path_session"] for r in _rows(output)] == ["Onboarding · Cohort 0"]


def test_it_exports_course_statistics_and_attempts_of_a_group(cache, tmp_path):
    courses, attempts = tmp_path / "courses.csv", tmp_path / "attempts.xlsx"

    _export("course-stats", "--output", str(courses))
    said = _export("course-stats", "--table", "attempts", "--group", "Sales", "--output", str(attempts))

    assert len(_rows(courses)) == 2
    assert said.startswith(f"Wrote 3 rows to {attempts} (xlsx, ")
    sheet = load_workbook(attempts).active
    assert sheet.max_row == 4 and sheet["A1"].value == "attempt_id"


def test_it_exports_module_results_with_the_api_filters(cache, tmp_path):
    output = tmp_path / "results.csv"

    _export(
        "module-results", "--table", "results", "--completion-status", "passed", "--completion-status", "failed",
        "--user-id", "user-2", "--output", str(output),
    )  # fmt: skip

    assert [(r["user_id"], r["completion_status"], r["module_id"]) for r in _rows(output)] == [
        ("user-2", "passed", "module-3")
    ]


@pytest.mark.parametrize(
    "args,message",
    [
        (["path-session"], "needs --session"),
        (["path-session", "--session", "nope"], "No path session has the id 'nope'"),
        (["sessions", "--session", "1"], "--session applies to the path-session report only"),
        (["sessions", "--course", "x"], "Not a filter of the sessions report: --course"),
        (["module-results", "--group", "Sales"], "Not a filter of the module-results report: --group"),
        (["course-stats", "--group", "Nobody"], "No group has the id or name 'Nobody'"),
        (["course-stats", "--completed-from", "soon"], "Invalid filters: Completed from: Enter a valid date."),
        (["course-stats", "--table", "learners"], "course-stats has the tables courses, attempts"),
        (["sessions", "--connection", "Nope"], "No connection is named 'Nope'"),
    ],
)
def test_it_says_what_it_cannot_do(cache, tmp_path, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _export(*args, "--output", str(tmp_path / "out.csv"))


def test_it_refuses_an_output_that_is_neither_csv_nor_xlsx(cache, tmp_path):
    with pytest.raises(CommandError, match="must end in .csv or .xlsx"):
        _export("sessions", "--output", str(tmp_path / "out.pdf"))
