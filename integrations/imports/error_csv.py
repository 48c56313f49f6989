"""The downloadable CSV of invalid rows: fix it and upload it again.

One CSV row per invalid row: the original cells under the original headers, then ``line``,
``field`` and ``reason`` (several errors of one row joined with ``"; "``), so the file can be
corrected in a spreadsheet and re-imported (the extra columns are not mapped to any field).
Encoded UTF-8 *with* BOM so Excel opens it as UTF-8.

Every cell, original data included (it comes from an upload), is made formula-safe by
``tabular.safe_cell``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from integrations.imports.validation import InvalidRow
from tabular import csv_chunks, safe_cell

ERROR_CSV_EXTRA_COLUMNS = ("line", "field", "reason")
ERROR_SEPARATOR = "; "


class InvalidRows(Protocol):
    """What the error CSV reads: a ``ValidationReport``, or the invalid rows of a validation
    streamed as they come (``import_files.import_run_invalid_csv``)."""

    @property
    def columns(self) -> Sequence[str]: ...

    @property
    def invalid(self) -> Iterable[InvalidRow]: ...


def error_csv_rows(report: InvalidRows) -> Iterator[list[str]]:
    """The error CSV as rows of cells (header first), formula-safe."""
    width = len(report.columns)
    yield [safe_cell(c) for c in (*report.columns, *ERROR_CSV_EXTRA_COLUMNS)]
    for row in report.invalid:
        yield _row(row, width)


def _row(row: InvalidRow, width: int) -> list[str]:
    cells = list(row.cells[:width]) + [""] * (width - len(row.cells))
    fields = ERROR_SEPARATOR.join(dict.fromkeys(e.field for e in row.errors))
    reasons = ERROR_SEPARATOR.join(e.reason for e in row.errors)
    return [safe_cell(c) for c in (*cells, row.line, fields, reasons)]


def error_csv_chunks(report: InvalidRows, *, rows_per_chunk: int = 500) -> Iterator[bytes]:
    """The error CSV as UTF-8 bytes (BOM first), a few hundred rows per chunk — for a
    streaming HTTP response."""
    return csv_chunks(error_csv_rows(report), rows_per_chunk=rows_per_chunk)
