"""The streaming XLSX writer: typed cells, text that stays text, empty cells in their place,
further sheets past the row limit; read back with openpyxl (normal and read-only modes)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports import xlsx

KINDS = ("text", "int", "float", "datetime", "bool", "text")
HEADER = ("Learner", "Progress", "Score", "Completed at", "Passed", "Note")


def _write(rows, **kwargs) -> bytes:
    fh = io.BytesIO()
    count = xlsx.write_workbook(fh, name="attempts", kinds=KINDS, header=HEADER, rows=rows, **kwargs)
    assert count == len(rows)
    return fh.getvalue()


@pytest.mark.parametrize("read_only", [False, True])
def test_cells_are_typed_and_empty_cells_keep_their_column(read_only):
    paris = timezone(timedelta(hours=1))
    rows = [
        ("Ada <ada@example.com> & co", 100, 87.5, datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC), True, "=1+1"),
        (None, None, None, None, None, "last column after five empty ones"),
        ("  padded  ", 0, Decimal("12.25"), datetime(2026, 3, 1, 10, 30, tzinfo=paris), False, "#N/A"),
        ("bell\x07 and nul\x00 gone", 7, float("nan"), date(2026, 12, 5), None, "0012"),
    ]
    book = load_workbook(io.BytesIO(_write(rows)), read_only=read_only)
    got = [tuple(r) for r in book["attempts"].iter_rows(values_only=True)]
    assert got[0] == HEADER
    assert got[1] == ("Ada <ada@example.com> & co", 100, 87.5, datetime(2026, 3, 1, 9, 30, 15), True, "=1+1")
    assert got[2] == (None, None, None, None, None, "last column after five empty ones")
    # Date-times are UTC (10:30 in Paris is 09:30 UTC); text that looks like a formula, an error
    # or a number is text; leading and trailing spaces survive.
    assert got[3] == ("  padded  ", 0, 12.25, datetime(2026, 3, 1, 9, 30), False, "#N/A")
    assert got[4][0] == "bell and nul gone" and got[4][1] == 7 and got[4][2] is None
    assert got[4][3].date() == date(2026, 12, 5) and got[4][5] == "0012"
    if not read_only:
        sheet = book["attempts"]
        assert sheet["F2"].data_type == "s"  # "=1+1" is a string, not a formula
        assert sheet["D2"].number_format == "yyyy\\-mm\\-dd\\ hh:mm:ss"


def test_the_top_row_comes_above_the_header():
    body = _write([("Ada", 1, 1.0, None, True, "")], top=("Provenance: sync #4", "as of 2026-12-05"))
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("Provenance: sync #4", "as of 2026-12-05")
    assert rows[1] == HEADER and rows[2][0] == "Ada"


def test_an_empty_table_still_has_its_header():
    rows = list(load_workbook(io.BytesIO(_write([]))).active.iter_rows(values_only=True))
    assert rows == [HEADER]


def test_past_the_row_limit_the_table_continues_on_another_sheet(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # header + 2 rows a sheet
    body = _write([(f"L{n}", n, None, None, None, None) for n in range(5)])
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["attempts", "attempts 2", "attempts 3"]
    learners = [r[0] for sheet in book for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert learners == ["L0", "L1", "L2", "L3", "L4"]
    assert all(sheet["A1"].value == "Learner" for sheet in book)


def test_the_package_is_a_well_formed_workbook():
    with zipfile.ZipFile(io.BytesIO(_write([("Ada", 1, 2.0, None, True, "x")]))) as archive:
        names = set(archive.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/styles.xml"} <= names
        assert archive.testzip() is None
        from xml.dom.minidom import parseString

        for name in names:
            parseString(archive.read(name))  # every part is well-formed XML
