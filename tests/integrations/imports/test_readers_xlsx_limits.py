"""Reading hostile or damaged XLSX workbooks (issue 16): zip bombs, cells in column XFD, data
past the row limit, truncated archives and crafted cells are refused with a plain message, the
limits checked before openpyxl parses anything big.

The actors are hand-written workbooks (``_xlsx``): openpyxl would not write these oddities.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from xml.sax.saxutils import escape

import openpyxl
import pytest

from integrations.imports import ImportFileError, messages as m, read_header, validate_file
from integrations.imports.readers import MAX_XLSX_COLUMNS, MAX_XLSX_ROWS, XlsxLimits, read_xlsx

from .conftest import STATS_HEADERS, good_stats_row

# -------------------------------------------------------------------------------------
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN_NS}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        '<Relationship Id="rId2" Target="sharedStrings.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
        "</Relationships>"
    ),
}


def _column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _row(number: int, cells: Iterable[tuple[int, object]]) -> bytes:
    """A ``<row>`` of (column number, value) cells: text inline, numbers as ``<v>``, None as an
    empty (formatted) cell."""
    parts = [f'<row r="{number}">']
    for column, value in cells:
        ref = f"{_column(column)}{number}"
        if value is None:
            parts.append(f'<c r="{ref}" s="0"/>')
        elif isinstance(value, str):
            parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        else:
            parts.append(f'<c r="{ref}"><v>{value}</v></c>')
    parts.append("</row>")
    return "".join(parts).encode()


def _xlsx(
    rows: Iterable[bytes],
    *,
    dimension: str | None = "A1:L3",
    shared_strings: Iterable[bytes] = (),
    strings_part: str = "xl/sharedStrings.xml",
) -> bytes:
    """An XLSX workbook written part by part (openpyxl would not write these oddities); the sheet
    and the shared strings are streamed, so a large part costs no memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            # The shared strings part may have any name; the content types and relations say which.
            text = text.replace("/xl/sharedStrings.xml", f"/{strings_part}")
            text = text.replace('Target="sharedStrings.xml"', f'Target="/{strings_part}"')
            archive.writestr(name, text)
        with archive.open(strings_part, "w", force_zip64=True) as part:
            part.write(f'<sst xmlns="{MAIN_NS}">'.encode())
            for chunk in shared_strings:
                part.write(chunk)
            part.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(f'<worksheet xmlns="{MAIN_NS}">'.encode())
            if dimension:
                part.write(f'<dimension ref="{dimension}"/>'.encode())
            part.write(b"<sheetData>")
            for row in rows:
                part.write(row)
            part.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def _stats_rows(count: int, *, extra: dict[int, list[tuple[int, object]]] | None = None) -> Iterable[bytes]:
    """A header and ``count`` good stats rows; ``extra[row number]`` cells are added to that row."""
    extra = extra or {}
    yield _row(1, [*enumerate(STATS_HEADERS, start=1), *extra.get(1, [])])
    for number in range(2, count + 2):
        values = good_stats_row(number)
        cells = [(c, values[h]) for c, h in enumerate(STATS_HEADERS, start=1) if values[h]]
        yield _row(number, cells + extra.get(number, []))


@pytest.mark.parametrize("strings_part", ["xl/sharedStrings.xml", "xl/renamed.xml"])
def test_the_handmade_workbooks_of_these_tests_are_read_like_excel_files(strings_part):
    strings = [b"<si><t>shared text</t></si>"]
    rows = [*_stats_rows(2), b'<row r="4"><c r="A4" t="s"><v>0</v></c></row>']
    source = read_xlsx(io.BytesIO(_xlsx(rows, shared_strings=strings, strings_part=strings_part)))
    assert source.headers == STATS_HEADERS
    assert [(number, cells[0]) for number, cells in source.rows] == [
        (2, "course-2"),
        (3, "course-3"),
        (4, "shared text"),
    ]


@pytest.mark.parametrize("row", [1, 3])
def test_it_refuses_an_xlsx_with_a_value_in_column_xfd_before_reading_any_row(row):
    data = _xlsx(_stats_rows(3, extra={row: [(16384, 1)]}), dimension="A1:XFD4")

    with pytest.raises(ImportFileError) as caught:
        read_xlsx(io.BytesIO(data))  # opening refuses it: no row is built, not even the header

    assert str(caught.value) == m.FILE_XLSX_TOO_MANY_COLUMNS.format(
        column="XFD", cell=f"XFD{row}", limit=MAX_XLSX_COLUMNS
    )


def test_it_never_builds_rows_wider_than_the_data_when_formatted_empty_cells_reach_xfd():
    # Formatting a whole row stores empty cells far to the right; openpyxl would make that row
    # 16,384 cells wide. Empty cells are not data: the file is read, as wide as its data.
    data = _xlsx(_stats_rows(3, extra={3: [(16384, None)]}), dimension=None)

    source = read_xlsx(io.BytesIO(data))

    assert source.headers == STATS_HEADERS
    assert [(number, len(cells)) for number, cells in source.rows] == [(2, 12), (3, 12), (4, 12)]


def test_it_refuses_an_xlsx_with_data_past_the_row_limit_before_reading_any_row():
    data = _xlsx([*_stats_rows(2), _row(MAX_XLSX_ROWS + 1, [(1, "stray")])])
    with pytest.raises(ImportFileError) as caught:
        read_xlsx(io.BytesIO(data))
    assert str(caught.value) == m.FILE_XLSX_TOO_MANY_ROWS.format(row=MAX_XLSX_ROWS + 1, limit=MAX_XLSX_ROWS)


def test_the_caller_sets_the_xlsx_row_and_column_limits():
    data = _xlsx(_stats_rows(5))
    with pytest.raises(ImportFileError) as caught:
        read_xlsx(io.BytesIO(data), limits=XlsxLimits(max_rows=4))
    assert str(caught.value) == m.FILE_XLSX_TOO_MANY_ROWS.format(row=5, limit=4)  # the first row past it
    with pytest.raises(ImportFileError) as caught:
        read_header(io.BytesIO(data), filename="s.xlsx", xlsx_limits=XlsxLimits(max_columns=10))
    assert str(caught.value) == m.FILE_XLSX_TOO_MANY_COLUMNS.format(column="K", cell="K1", limit=10)


def _shared_strings(megabytes: int) -> Iterable[bytes]:
    item = b"<si><t>" + b"spam " * 200 + b"</t></si>"
    block = item * (1024 * 1024 // len(item))
    for _ in range(megabytes):
        yield block


@pytest.fixture
def openpyxl_must_not_parse(monkeypatch):
    """Fails the test if openpyxl is asked to load a workbook."""

    def load_workbook(*args, **kwargs):
        raise AssertionError("openpyxl.load_workbook was called")

    monkeypatch.setattr(openpyxl, "load_workbook", load_workbook)


def test_it_refuses_an_xlsx_zip_bomb_before_openpyxl_parses_it(openpyxl_must_not_parse):
    data = _xlsx(_stats_rows(1), shared_strings=_shared_strings(20))  # 20 MB of text in ~60 KB
    assert len(data) < 200_000

    with pytest.raises(ImportFileError) as caught:
        validate_file(io.BytesIO(data), kind="stats", filename="stats.xlsx")

    assert str(caught.value).startswith(m.FILE_XLSX_BOMB.split("{", 1)[0])
    assert "xl/sharedStrings.xml" in str(caught.value)


def test_it_refuses_an_xlsx_that_unpacks_past_the_callers_limit(openpyxl_must_not_parse):
    data = _xlsx(_stats_rows(1), shared_strings=_shared_strings(2))
    with pytest.raises(ImportFileError) as caught:
        read_xlsx(io.BytesIO(data), limits=XlsxLimits(max_uncompressed_bytes=1_000_000, max_compression_ratio=10_000))
    assert str(caught.value).startswith(m.FILE_XLSX_TOO_LARGE.split("{", 1)[0])


@pytest.mark.parametrize("strings_part", ["xl/sharedStrings.xml", "xl/renamed.xml"])
def test_it_refuses_an_xlsx_whose_shared_strings_pass_the_callers_limit(openpyxl_must_not_parse, strings_part):
    data = _xlsx(_stats_rows(1), shared_strings=_shared_strings(1), strings_part=strings_part)
    with pytest.raises(ImportFileError) as caught:
        read_header(
            io.BytesIO(data),
            filename="s.xlsx",
            xlsx_limits=XlsxLimits(max_shared_strings_bytes=100_000, max_compression_ratio=10_000),
        )
    assert str(caught.value).startswith(
        m.FILE_XLSX_TOO_MANY_STRINGS.format(member=strings_part, size="1.0 MB", limit="100 kB")
    )


def _saved_workbook(rows: int = 50) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(STATS_HEADERS))
    for n in range(rows):
        sheet.append([good_stats_row(n)[h] for h in STATS_HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_it_refuses_a_truncated_xlsx_in_plain_words(keep):
    data = _saved_workbook()
    with pytest.raises(ImportFileError) as caught:
        validate_file(io.BytesIO(data[: int(len(data) * keep)]), kind="stats", filename="stats.xlsx")
    assert str(caught.value) == m.FILE_BAD_XLSX.format(detail=m.XLSX_DAMAGED_ZIP)


def test_it_refuses_an_xlsx_whose_sheet_data_is_damaged_in_plain_words():
    data = bytearray(_saved_workbook(2000))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    # Past the local header, in the middle of the compressed sheet: the directory stays intact.
    start = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[start : start + 64] = bytes(range(64))
    with pytest.raises(ImportFileError) as caught:
        validate_file(io.BytesIO(bytes(data)), kind="stats", filename="stats.xlsx")
    assert str(caught.value) == m.FILE_BAD_XLSX.format(detail=m.XLSX_DAMAGED_ZIP)


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(b'<c r="B3" t="s"><v>99</v></c>', id="shared-string-index-out-of-range"),
        pytest.param(b'<c r="B3"><v>not a number</v></c>', id="number-that-is-not-a-number"),
        pytest.param(b'<c r="B3" t="e"><v>#WHAT</v></c><c r="C3" t="b"><v>maybe</v></c>', id="odd-types"),
        pytest.param(b'<c r="B3" s="999"><v>5</v></c>', id="style-index-out-of-range"),
    ],
)
def test_it_refuses_a_crafted_cell_that_openpyxl_cannot_read_in_plain_words(cell):
    rows = [*_stats_rows(1), b'<row r="3"><c r="A3" t="inlineStr"><is><t>x</t></is></c>' + cell + b"</row>"]
    with pytest.raises(ImportFileError) as caught:
        validate_file(io.BytesIO(_xlsx(rows)), kind="stats", filename="stats.xlsx")
    assert str(caught.value) == m.FILE_BAD_XLSX.format(detail=m.XLSX_UNREADABLE)


def test_it_refuses_a_sheet_that_is_not_well_formed_xml_in_plain_words():
    rows = [*_stats_rows(1), b'<row r="3"><c r="A3"><v>1</v></row>']
    with pytest.raises(ImportFileError) as caught:
        read_xlsx(io.BytesIO(_xlsx(rows)))
    assert str(caught.value) == m.FILE_BAD_XLSX.format(detail=m.XLSX_BAD_XML)
