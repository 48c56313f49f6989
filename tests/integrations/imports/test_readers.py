"""Reading files: CSV dialects, XLSX, JSON shapes, format detection, unreadable files."""

from __future__ import annotations

import io
import json
from datetime import datetime

import openpyxl
import pytest

from integrations.imports import ImportFileError, SourceFormat, detect_format, messages as m, read_header, validate_file
from integrations.imports.readers import MAX_JSON_RECORD_CHARS, read_json, sniff_delimiter

from .conftest import STATS_HEADERS, csv_bytes, good_stats_row, request_errors


def test_it_reads_a_semicolon_csv_with_a_bom_and_quoted_newlines(write):
    rows = [good_stats_row(1), good_stats_row(2), good_stats_row(3)]
    rows[0]["courseExternalId"] = "course;with\nnewline"  # delimiter and newline inside quotes
    path = write("stats.csv", csv_bytes(STATS_HEADERS, rows, delimiter=";", bom=True))

    report = validate_file(path, kind="stats")

    assert report.source_format is SourceFormat.CSV
    assert report.columns == STATS_HEADERS  # the BOM is not part of the first header
    assert report.invalid == ()
    assert [r.line for r in report.valid] == [2, 4, 5]  # the two-line record reports its first line
    assert report.valid[0].payload["courseIdentifier"]["value"] == "course;with\nnewline"


def test_it_reports_physical_line_numbers_after_a_multiline_record(write):
    rows = [good_stats_row(1), good_stats_row(2)]
    rows[0]["courseExternalId"] = "a\nb\nc"
    rows[1]["progress"] = "140"
    report = validate_file(write("s.csv", csv_bytes(STATS_HEADERS, rows)), kind="stats")
    assert [(e.line, e.field) for e in report.errors] == [(5, "progress")]


def test_it_reads_a_comma_csv_without_a_bom_and_skips_empty_lines(write):
    data = (
        csv_bytes(STATS_HEADERS, [good_stats_row(1)])
        + b"\r\n,,,,,,,,,,,\r\n"
        + csv_bytes(STATS_HEADERS, [good_stats_row(2)]).split(b"\r\n", 1)[1]
    )
    report = validate_file(write("s.csv", data), kind="stats")
    assert [r.line for r in report.valid] == [2, 5]
    assert report.notes == (m.FILE_NOTE_EMPTY_ROWS.format(count=2, unit="line"),)


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [("a,b;c,d", ","), ("a;b;c,d", ";"), ('"x,y,z";b;c', ";"), ("a\tb\tc", "\t"), ("single", ","), ("a;b,c", ",")],
)
def test_it_sniffs_the_delimiter_from_the_header_line_outside_quotes(line, delimiter):
    assert sniff_delimiter(line) == delimiter


def test_it_refuses_a_csv_that_is_not_utf8_and_says_where(write):
    data = csv_bytes(["externalId"], [["ok"], ["caf\u00e9"]]).replace("é".encode(), b"\xe9")
    with pytest.raises(ImportFileError) as caught:
        validate_file(write("a.csv", data), kind="archive-courses")
    assert str(caught.value) == m.FILE_NOT_UTF8.format(line=3)


def _xlsx(tmp_path, rows, *, percent_column=None):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if percent_column:
        for cell in sheet[percent_column][1:]:
            cell.number_format = "0%"
    workbook.create_sheet("ignored").append(["not", "read"])
    path = tmp_path / "stats.xlsx"
    workbook.save(path)
    return path


def test_it_reads_the_first_sheet_of_an_xlsx_with_excel_row_numbers_and_native_cells(tmp_path):
    header = ["Course external id", "Email", "Progress", "Time spent", "First activity", "Last activity", "Force new"]
    rows = [
        header,
        ["c-1", "a@example.com", 0.5, 60000, datetime(2025, 7, 8, 22, 0), datetime(2025, 7, 9, 8, 30), False],
        [None] * 7,  # an empty row in the middle: skipped, numbering kept
        [12345, "b@example.com", 1, 1.0, "2025-07-08", "2025-07-08T23:00:00+02:00", True],
        ["c-3", "c@example.com", 1.4, 100, datetime(2025, 7, 8), datetime(2025, 7, 9), None],
    ]
    report = validate_file(_xlsx(tmp_path, rows, percent_column="C"), kind="stats")

    assert report.source_format is SourceFormat.XLSX and report.unit == "row"
    assert [r.line for r in report.valid] == [2, 4]
    first, second = (r.payload for r in report.valid)
    assert first["progress"] == 50  # 50% is stored as 0.5
    assert first["firstActivityAt"] == "2025-07-08T22:00:00.000Z"  # naive Excel dates are UTC
    assert first["forceNew"] is False
    assert second["courseIdentifier"] == {"type": "externalId", "value": "12345"}  # a number cell, as text
    assert second["timeSpent"] == 1
    assert second["lastActivityAt"] == "2025-07-08T21:00:00.000Z"
    assert [(e.line, e.field, e.reason) for e in report.errors] == [
        (5, "progress", m.OUT_OF_RANGE.format(field="progress", minimum=0, maximum=100, value=140))
    ]
    assert request_errors("stats", list(report.payloads())) == []


def test_it_reads_the_xlsx_header_for_the_mapping_step(tmp_path):
    path = _xlsx(tmp_path, [["mail", " course "], ["a@example.com", "c"]])
    assert read_header(path) == ("mail", "course")


def test_it_reads_a_json_array_and_an_input_object_alike(write):
    payloads = [
        {
            "courseIdentifier": {"type": "externalId", "value": f"c{n}"},
            "userIdentifier": {"type": "mail", "value": "a@example.com"},
            "progress": 100,
            "timeSpent": 3600000,
            "firstActivityAt": "2025-07-08T22:00:00.000Z",
            "lastActivityAt": "2025-07-08T23:00:00.000Z",
        }
        for n in range(3)
    ]
    as_array = validate_file(write("a.json", json.dumps(payloads).encode()), kind="stats")
    as_body = validate_file(write("b.json", json.dumps({"input": payloads}, indent=2).encode()), kind="stats")

    for report in (as_array, as_body):
        assert report.source_format is SourceFormat.JSON and report.unit == "record"
        assert [r.line for r in report.valid] == [1, 2, 3]
        assert list(report.payloads()) == payloads  # already canonical: sent exactly as given


def test_it_streams_json_records_across_buffer_boundaries(write):
    # Records straddle the 64 KiB read size many times; numbers and strings get cut.
    records = [{"externalId": f"course-{n}-" + "x" * (n % 50), "n": 12345678901234} for n in range(20_000)]
    report = validate_file(write("archive.json", json.dumps(records).encode()), kind="archive-courses")
    assert report.valid_count == 20_000
    assert report.valid[-1].payload == {"externalId": "course-19999-" + "x" * 49}


def test_it_says_where_json_is_broken(write):
    data = b'{"input": [\n  {"externalId": "a"},\n  {"externalId": "b",, }\n]}'
    with pytest.raises(ImportFileError) as caught:
        validate_file(write("x.json", data), kind="archive-courses")
    assert str(caught.value).startswith("the file is not valid JSON at line 3, column 22")


def test_it_refuses_json_of_another_shape(write):
    with pytest.raises(ImportFileError, match="must be an array of records"):
        validate_file(write("x.json", b'{"records": []}'), kind="stats")
    with pytest.raises(ImportFileError, match="must be an array of records"):
        validate_file(write("x.json", b'"just a string"'), kind="stats")


def test_it_refuses_a_json_record_bigger_than_the_bound():
    huge = b'[{"externalId": "' + b"x" * (MAX_JSON_RECORD_CHARS + 10) + b'"}]'
    source = read_json(io.BytesIO(huge))
    with pytest.raises(ImportFileError, match="record 1 is larger than"):
        list(source.records)


def test_it_reports_a_non_object_json_record_as_an_invalid_row(write):
    report = validate_file(write("x.json", b'[{"externalId": "a"}, 42]'), kind="archive-courses")
    assert [(e.line, e.field, e.reason) for e in report.errors] == [(2, "(row)", m.NOT_A_RECORD.format(type="number"))]


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.csv", b"a,b\n", SourceFormat.CSV),
        ("a.txt", b"[odd header],b\n", SourceFormat.CSV),
        ("a.json", b"  \n[{}]", SourceFormat.JSON),
        (None, b'\xef\xbb\xbf{"input": []}', SourceFormat.JSON),
        ("upload", b"mail;course\n", SourceFormat.CSV),
        ("data.csv", b"PK\x03\x04rest", SourceFormat.XLSX),  # content wins over a wrong name
    ],
)
def test_it_detects_the_format_from_name_and_content(name, head, expected):
    assert detect_format(name, head) is expected


@pytest.mark.parametrize(
    ("name", "head", "message"),
    [
        ("a.xls", b"\xd0\xcf\x11\xe0....", m.FILE_LEGACY_XLS),
        ("a.csv", b"", m.FILE_EMPTY),
        ("a.bin", b"a\x00b", m.FILE_BINARY),
    ],
)
def test_it_refuses_files_it_cannot_read(name, head, message):
    with pytest.raises(ImportFileError) as caught:
        detect_format(name, head)
    assert str(caught.value) == message


def test_it_reads_an_uploaded_file_object_and_leaves_it_open():
    upload = io.BytesIO(csv_bytes(["externalId"], [["a"], ["b"]]))
    report = validate_file(upload, kind="archive-courses", filename="upload.csv")
    assert report.valid_count == 2
    assert not upload.closed


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'{"statistics": [{"externalId": "c", "mail": "a@example.com"}]}', "courses"),  # wrong kind
        (b'{"input": [{"externalId": "a"},, ]}', "archive-courses"),  # broken JSON
        (b'{"records": []}', "stats"),  # wrong shape
        (b"Learner,Course\na@example.com,c\n", "stats"),  # mapping step needed
    ],
)
def test_an_upload_stays_open_whatever_goes_wrong(data, kind):
    upload = io.BytesIO(data)
    with pytest.raises(ImportFileError):
        validate_file(upload, kind=kind, filename="upload")
    assert not upload.closed
    upload.seek(0)  # and usable again, e.g. by the mapping step
    assert upload.read() == data


@pytest.mark.parametrize(
    "head",
    [b"Meeting notes\nWe talked about the Q3 plan.\n", b"\xef\xbb\xbfJust one line of prose", b"\xff\xfeN\x00o\x00"],
    ids=["prose", "prose-with-bom", "utf16-prose"],
)
def test_it_refuses_a_txt_file_of_prose_rather_than_make_its_first_line_a_column(head):
    with pytest.raises(ImportFileError) as caught:
        detect_format("notes.txt", head)
    assert str(caught.value) == m.FILE_PLAIN_TEXT


def test_a_one_column_csv_is_still_a_csv():
    # An archive file is one column of external ids: only .txt names need a separator.
    assert detect_format("archive.csv", b"externalId\nSA-1\n") is SourceFormat.CSV
