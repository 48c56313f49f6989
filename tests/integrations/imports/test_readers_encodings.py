"""Reading text that is not UTF-8 (issue 16): UTF-16 and UTF-32 with a byte order mark read like
the UTF-8 file; without one, or for images and PDFs renamed to .csv, a message that says what the
file is and how to save it as CSV UTF-8."""

from __future__ import annotations

import codecs
import io
import json

import pytest

from integrations.imports import ImportFileError, SourceFormat, messages as m, read_header, validate_file

from .conftest import STATS_HEADERS, csv_bytes, good_stats_row


# --- text encodings ---------------------------------------------------------------------------
def _stats_csv() -> bytes:
    rows = [good_stats_row(n) for n in range(1, 6)]
    rows[0]["courseExternalId"] = "cours d'été;\nsur deux lignes"  # non-ASCII, delimiter, newline
    rows[3]["progress"] = "140"
    return csv_bytes(STATS_HEADERS, rows, delimiter=";")


ENCODINGS = [
    pytest.param(codecs.BOM_UTF16_LE, "utf-16-le", id="utf-16-le"),
    pytest.param(codecs.BOM_UTF16_BE, "utf-16-be", id="utf-16-be"),
    pytest.param(codecs.BOM_UTF32_LE, "utf-32-le", id="utf-32-le"),
    pytest.param(codecs.BOM_UTF32_BE, "utf-32-be", id="utf-32-be"),
]


def _recoded(data: bytes, bom: bytes, encoding: str) -> bytes:
    return bom + data.decode("utf-8").encode(encoding)


def _facts(report) -> tuple:
    return (
        report.source_format,
        report.columns,
        [(r.line, r.payload) for r in report.valid],
        [(r.line, r.cells, r.errors) for r in report.invalid],
        report.notes,
    )


@pytest.mark.parametrize(("bom", "encoding"), ENCODINGS)
def test_it_reads_a_utf16_or_utf32_csv_with_a_bom_like_the_utf8_file(write, bom, encoding):
    utf8 = validate_file(write("stats.csv", _stats_csv()), kind="stats")
    upload = io.BytesIO(_recoded(_stats_csv(), bom, encoding))

    report = validate_file(upload, kind="stats", filename="stats.csv")

    assert _facts(report) == _facts(utf8)
    assert [r.line for r in report.valid] == [2, 4, 5, 7]  # physical lines, as in the UTF-8 file
    assert [e.line for e in report.errors] == [6]
    assert not upload.closed


@pytest.mark.parametrize(("bom", "encoding"), ENCODINGS)
def test_it_reads_the_header_of_a_utf16_csv_for_the_mapping_step(bom, encoding):
    data = _recoded(csv_bytes(["Learner e-mail", "Cours"], [["a@example.com", "c"]]), bom, encoding)
    assert read_header(io.BytesIO(data), filename="upload.txt") == ("Learner e-mail", "Cours")


@pytest.mark.parametrize(("bom", "encoding"), ENCODINGS)
def test_it_reads_a_utf16_or_utf32_json_with_a_bom(write, bom, encoding):
    records = [{"externalId": f"cours-été-{n}"} for n in range(3)]
    data = json.dumps({"input": records}, ensure_ascii=False, indent=2).encode("utf-8")

    report = validate_file(write("courses.json", _recoded(data, bom, encoding)), kind="archive-courses")

    assert report.source_format is SourceFormat.JSON
    assert list(report.payloads()) == records


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32-le", "UTF-32"), ("utf-32-be", "UTF-32")],
)
def test_it_says_a_utf16_file_without_a_bom_should_be_saved_as_csv_utf8(write, encoding, name):
    data = csv_bytes(STATS_HEADERS, [good_stats_row(1)]).decode().encode(encoding)
    with pytest.raises(ImportFileError) as caught:
        validate_file(write("stats.csv", data), kind="stats")
    assert str(caught.value) == m.FILE_NO_BOM.format(encoding=name)


def test_it_says_on_which_line_a_utf16_csv_stops_being_utf16(write):
    good = _recoded(csv_bytes(["externalId"], [["a"], ["b"]]), codecs.BOM_UTF16_LE, "utf-16-le")
    data = good + b"\x00\xd8" + "c\r\n".encode("utf-16-le")  # a lone high surrogate on line 4
    with pytest.raises(ImportFileError) as caught:
        validate_file(write("a.csv", data), kind="archive-courses")
    assert str(caught.value) == m.FILE_BAD_ENCODING.format(encoding="UTF-16", line=4)


# --- other formats ----------------------------------------------------------------------------
SIGNED_FILES = [
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "png", id="png"),
    pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "jpeg", id="jpeg"),
    pytest.param(b"GIF89a\x10\x00\x10\x00\x80\x00\x00", "gif", id="gif"),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "pdf", id="pdf"),
]


@pytest.mark.parametrize(("head", "what"), SIGNED_FILES)
@pytest.mark.parametrize("name", ["learners.csv", "learners.txt", "learners.json", None])
def test_it_says_an_image_or_a_pdf_is_not_an_import_file(write, head, what, name):
    upload = io.BytesIO(head + b"\n" * 100)
    with pytest.raises(ImportFileError) as caught:
        validate_file(upload, kind="stats", filename=name)
    assert str(caught.value) == m.FILE_OTHER_FORMAT.format(what=m.OTHER_FORMATS[what])


def test_it_still_reads_a_tab_delimited_txt_file(write):
    report = validate_file(
        write("export.txt", csv_bytes(STATS_HEADERS, [good_stats_row(1)], delimiter="\t")), kind="stats"
    )
    assert report.source_format is SourceFormat.CSV and report.valid_count == 1
