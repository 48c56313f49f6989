"""CSV written a chunk at a time: a streaming HTTP response or a file of any size holds one
chunk in memory, never the whole table.

Every CSV the product writes is UTF-8 with a BOM (so Excel opens accents as text, not
mojibake) and ends its lines with ``\\r\\n`` (RFC 4180, and ``csv.writer``'s own default).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

UTF8_BOM = codecs.BOM_UTF8
LINE_TERMINATOR = "\r\n"


class CsvBuffer:
    """A ``csv.writer`` over one reused in-memory buffer: write rows, then ``take`` their text."""

    def __init__(self, *, lineterminator: str = LINE_TERMINATOR) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator=lineterminator)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(row)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows(rows)

    def take(self) -> str:
        """The text written since the last ``take``; the buffer starts empty again."""
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate(0)
        return text


def csv_chunks(
    rows: Iterable[Iterable[Any]], *, rows_per_chunk: int = 500, lineterminator: str = LINE_TERMINATOR
) -> Iterator[bytes]:
    """``rows`` (header included, cells already as they should be written) as UTF-8 CSV bytes:
    the BOM first, then ``rows_per_chunk`` rows a chunk; never an empty chunk after the BOM."""
    out = CsvBuffer(lineterminator=lineterminator)
    yield UTF8_BOM
    pending = 0
    for row in rows:
        out.writerow(row)
        pending += 1
        if pending >= rows_per_chunk:
            yield out.take().encode("utf-8")
            pending = 0
    if pending:
        yield out.take().encode("utf-8")
