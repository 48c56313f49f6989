"""The error CSV: original columns plus line, field and reason; UTF-8 with BOM; formula-safe;
readable back by a CSV reader and re-importable once fixed."""

from __future__ import annotations

import csv
import io

from integrations.imports import (
    ERROR_CSV_EXTRA_COLUMNS,
    error_csv_chunks,
    messages as m,
    validate_file,
    validate_records,
)

from .conftest import STATS_HEADERS, csv_bytes, good_stats_row


def _read(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_error_csv_round_trips_and_keeps_the_original_columns(write):
    rows = [good_stats_row(n) for n in range(1, 6)]
    rows[1] |= {"courseExternalId": "=cmd|' /C calc'!A0", "progress": "140"}
    rows[3] |= {"userMail": "caf\u00e9 au lait", "timeSpent": "0", "courseExternalId": "multi\nline"}
    report = validate_file(write("s.csv", csv_bytes(STATS_HEADERS, rows, delimiter=";")), kind="stats")

    parsed = _read(b"".join(error_csv_chunks(report)))

    assert parsed[0] == [*STATS_HEADERS, *ERROR_CSV_EXTRA_COLUMNS]
    assert len(parsed) == 1 + report.invalid_count == 3
    first = dict(zip(parsed[0], parsed[1], strict=True))
    assert first["courseExternalId"] == "'=cmd|' /C calc'!A0"  # neutralised
    assert (first["line"], first["field"]) == ("3", "progress")
    assert first["reason"] == m.OUT_OF_RANGE.format(field="progress", minimum=0, maximum=100, value=140)
    second = dict(zip(parsed[0], parsed[2], strict=True))
    assert second["courseExternalId"] == "multi\nline"
    assert second["userMail"] == "caf\u00e9 au lait"
    assert second["field"] == "userMail; timeSpent"
    assert second["reason"].count("; ") == 1
    assert all(cell == "" or not cell.startswith(("=", "+", "-", "@")) for row in parsed for cell in row)


def test_a_fixed_error_csv_can_be_imported_again(write, tmp_path):
    rows = [good_stats_row(1), good_stats_row(2) | {"progress": "140"}]
    report = validate_file(write("s.csv", csv_bytes(STATS_HEADERS, rows)), kind="stats")
    fixed = b"".join(error_csv_chunks(report)).replace(b",140,", b",40,")
    again = validate_file(write("fixed.csv", fixed), kind="stats")
    assert (again.valid_count, again.invalid_count) == (1, 0)
    assert again.mapping.column_of("progress") == "progress"  # line/field/reason are not mapped


def test_the_error_csv_of_a_json_file_carries_each_record_as_json():
    report = validate_records([{"externalId": ""}, {"externalId": "ok"}], kind="archive-courses")
    parsed = _read(b"".join(error_csv_chunks(report)))
    assert parsed == [
        ["record", "line", "field", "reason"],
        ['{"externalId":""}', "1", "externalId", m.REQUIRED.format(field="externalId")],
    ]


def test_the_error_csv_streams_in_chunks():
    report = validate_records([{"externalId": ""}] * 1200, kind="archive-courses")
    chunks = list(error_csv_chunks(report, rows_per_chunk=500))
    assert len(chunks) == 1 + 3  # BOM, then 1,201 rows in three chunks
    assert len(_read(b"".join(chunks))) == 1201
