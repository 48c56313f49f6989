"""Streaming readers for import files: CSV, XLSX and JSON (v2 request shape or v1 payloads).

Each reader holds one row or record at a time (plus the parser's own buffer), so memory does
not grow with the file; nothing is kept twice.

- **Text** (CSV and JSON): UTF-8 with or without BOM, or UTF-16/UTF-32 with a BOM (Excel's
  "Unicode text"), decoded on the fly. UTF-16/32 without a BOM is refused with a hint to save
  as CSV UTF-8: its byte order would be a guess.
- **CSV**: delimiter sniffed from the header line (``,``, ``;`` or
  tab, outside quotes; comma on a tie); quoted fields may hold delimiters and newlines. Lines
  end with LF or CRLF (classic-Mac CR-only files are refused by the csv module's error).
  Positions are physical line numbers as an editor shows them: 1 is the header, and a record
  spanning several lines is reported at its first line.
- **XLSX**: first worksheet, openpyxl read-only mode, first row is the header; positions are
  Excel row numbers. Cells with a percent format (``50%`` is stored as 0.5) are read as
  percentages (50). ``XlsxLimits`` bound the work, checked before openpyxl parses anything big
  (zip bombs, a value in column XFD or row 1,048,576); rows are as wide as the sheet's data.
  Damaged or crafted workbooks are refused in plain words, also while rows are read.
- **JSON**: an array of records, ``{"input": [...]}`` (the request body), ``{"statistics":
  [...]}`` (v1 stats) or ``{"externalCourses": [...]}`` (v1 courses); records are decoded one at
  a time by an incremental parser. Positions are 1-based record indexes ("record N"). Nesting
  deeper than the interpreter's recursion limit (about 1,000 levels) is refused.

Fully empty rows of tabular files are skipped (and counted). Format detection: a ZIP signature
is XLSX; the signature of an image, a PDF or another archive is refused by name ("the file is a
PNG image"); then a ``.csv``/``.tsv``/``.txt`` name is CSV (a ``.txt`` only when its first line
has a comma, semicolon or tab: prose is refused), a ``.json`` name is JSON; otherwise a first
non-blank character ``[`` or ``{`` is JSON and anything else CSV.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import json
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from integrations.imports import messages
from integrations.imports.errors import ImportFileError
from tabular import column_letters


class SourceFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    #: A v1 API payload (JSON), converted to the v2 request shape while reading.
    JSON_V1 = "json-v1"


#: What a position counts in each format ("line 12", "row 12", "record 12").
UNITS = {
    SourceFormat.CSV: "line",
    SourceFormat.XLSX: "row",
    SourceFormat.JSON: "record",
    SourceFormat.JSON_V1: "record",
}

#: Keys of a JSON object whose array holds the records.
V2_RECORDS_KEY = "input"
V1_STATS_KEY = "statistics"
V1_COURSES_KEY = "externalCourses"
RECORDS_KEYS = (V2_RECORDS_KEY, V1_STATS_KEY, V1_COURSES_KEY)

#: Largest single JSON record, in characters (bounds the parser's buffer).
MAX_JSON_RECORD_CHARS = 4 * 1024 * 1024
_JSON_CHUNK = 64 * 1024
_TEXT_CHUNK = 64 * 1024
# Bigger than the csv module's default (131,072) so a long description fits; still bounded.
CSV_FIELD_SIZE_LIMIT = 1024 * 1024
MAX_CSV_LINE_BYTES = 16 * 1024 * 1024

Source = str | Path | IO[bytes]


def open_source(source: Source) -> tuple[IO[bytes], bool]:
    """``(binary file, whether the caller must close it)`` for a path or an open binary file."""
    if isinstance(source, str | Path):
        return open(source, "rb"), True  # noqa: SIM115 - closed by the caller, see the flag
    return source, False


#: First bytes of formats people upload by mistake, keyed as ``messages.OTHER_FORMATS``.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"{\\rtf", "rtf"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
)

#: Byte order marks of the UTF-16/32 texts read, UTF-32 first (its LE mark starts like UTF-16's),
#: with the codec for what follows the mark and the encoding's name for messages.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


_TXT_SEPARATORS = (",", ";", "\t")


def detect_format(filename: str | None, head: bytes) -> SourceFormat:
    """The format of a file from its name and first bytes (see the module docstring).

    Raises ``ImportFileError`` for legacy .xls, images and other known formats, UTF-16/32
    without a byte order mark, binary content and empty files.
    """
    suffix = Path(filename).suffix.lower() if filename else ""
    if head.startswith(b"PK\x03\x04"):
        return SourceFormat.XLSX
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(messages.FILE_LEGACY_XLS)
    if suffix == ".xlsx":
        raise ImportFileError(messages.FILE_BAD_XLSX.format(detail="not a ZIP archive"))
    other = _other_format(head)
    if other:
        raise ImportFileError(messages.FILE_OTHER_FORMAT.format(what=messages.OTHER_FORMATS[other]))
    bom = next((b for b in _BOMS if head.startswith(b[0])), None)
    if bom:
        mark, codec, _ = bom
        text = head[len(mark) :].decode(codec, errors="ignore").lstrip()  # the head may cut a character
        first = text[:1]
        if "\x00" in text:
            raise ImportFileError(messages.FILE_BINARY)
    else:
        stripped = head.removeprefix(codecs.BOM_UTF8).lstrip()
        first = stripped[:1].decode("latin-1")
        if stripped and b"\x00" in head:
            encoding = _bomless_unicode(head)
            raise ImportFileError(messages.FILE_NO_BOM.format(encoding=encoding) if encoding else messages.FILE_BINARY)
    if not first:
        raise ImportFileError(messages.FILE_EMPTY)
    if suffix == ".txt":
        # A tab- or comma-separated export saved as .txt is read; prose is not: its first line
        # would become a single "column".
        line = (text if bom else stripped.decode("utf-8", errors="ignore")).lstrip().partition("\n")[0]
        if not any(separator in line for separator in _TXT_SEPARATORS):
            raise ImportFileError(messages.FILE_PLAIN_TEXT)
    if suffix in (".csv", ".tsv", ".txt"):
        return SourceFormat.CSV
    if suffix == ".json" or first in ("[", "{"):
        return SourceFormat.JSON
    return SourceFormat.CSV


def _other_format(head: bytes) -> str | None:
    """The ``messages.OTHER_FORMATS`` key of a known non-import format, from its signature."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((name for signature, name in _SIGNATURES if head.startswith(signature)), None)


def _bomless_unicode(head: bytes) -> str | None:
    """ "UTF-16" or "UTF-32" when ``head`` looks like such text without a byte order mark.

    A header row is mostly ASCII, so UTF-16 has a NUL in every other byte and UTF-32 in three
    bytes of four (which ones depends on the byte order); other binary files have NULs here and
    there.
    """
    sample = head[:1024]
    sample = sample[: len(sample) // 4 * 4]
    if len(sample) < 8:
        return None
    quarter = len(sample) // 4
    nul = [sample[i::4].count(0) / quarter for i in range(4)]

    def mostly(*positions: int) -> bool:
        return all(nul[i] >= 0.7 for i in positions)

    def rarely(*positions: int) -> bool:
        return all(nul[i] <= 0.1 for i in positions)

    if (mostly(1, 2, 3) and rarely(0)) or (mostly(0, 1, 2) and rarely(3)):
        return "UTF-32"
    if (mostly(1, 3) and rarely(0, 2)) or (mostly(0, 2) and rarely(1, 3)):
        return "UTF-16"
    return None


def _text_encoding(fh: IO[bytes]) -> tuple[str, str | None]:
    """``(codec, name)`` for the text in ``fh``: past a UTF-16/32 byte order mark (``fh`` is left
    after it) that codec and "UTF-16"/"UTF-32"; else ``("utf-8", None)`` and ``fh`` unmoved (a
    UTF-8 BOM is the readers' to strip)."""
    start = fh.tell()
    head = fh.read(4)
    for mark, codec, name in _BOMS:
        if head.startswith(mark):
            fh.seek(start + len(mark))
            return codec, name
    fh.seek(start)
    return "utf-8", None


class _Utf8Recoder(io.RawIOBase):
    """UTF-16/32 text from a binary file, as UTF-8 bytes, decoded in chunks as it is read.

    The CSV reader then has one path for every encoding (lines split on LF only, bounded line
    length, line numbers as an editor shows them). A decoding error is raised only once the
    text before it has been read, so it is reported at its own line.
    """

    def __init__(self, fh: IO[bytes], codec: str) -> None:
        super().__init__()
        self._fh = fh
        self._codec = codec
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._pending = memoryview(b"")
        self._error: UnicodeDecodeError | None = None
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._error is not None:
                raise self._error
            if self._eof:
                return 0
            chunk = self._fh.read(_TEXT_CHUNK)
            self._eof = not chunk
            try:
                text = self._decoder.decode(chunk, final=self._eof)
            except UnicodeDecodeError as error:
                # ``error.object`` is what the decoder was given (its carry-over included).
                text = error.object[: error.start].decode(self._codec)
                self._error = error
            self._pending = memoryview(text.encode("utf-8"))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def peek(fh: IO[bytes], size: int = 4096) -> bytes:
    """The first ``size`` bytes of a seekable binary file, leaving it at its start."""
    fh.seek(0)
    head = fh.read(size)
    fh.seek(0)
    return head


# --- tabular ----------------------------------------------------------------------------------
@dataclass(slots=True)
class TabularSource:
    """A tabular file being read: its ``headers`` and an iterator of ``(position, cells)``.

    ``empty_rows`` counts the fully empty rows skipped so far (final once ``rows`` is exhausted);
    ``duplicate_headers`` lists header names that occur more than once.
    """

    format: SourceFormat
    headers: tuple[str, ...]
    rows: Iterator[tuple[int, list[Any]]]
    empty_rows: int = 0
    duplicate_headers: tuple[str, ...] = field(default=())
    #: Releases what the reader holds (the XLSX workbook), even if ``rows`` never started.
    closer: Callable[[], None] | None = None

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close:
            close()
        if self.closer is not None:
            closer, self.closer = self.closer, None
            closer()


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV header line: the most frequent of ``,`` ``;`` tab outside quotes."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _duplicates(headers: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    return tuple(dict.fromkeys(h for h in headers if h and (h in seen or seen.add(h))))


def read_csv(fh: IO[bytes]) -> TabularSource:
    """Open a CSV file for reading (see the module docstring). Raises ``ImportFileError``."""
    # Lines are split and decoded here rather than by a TextIOWrapper: a decoding error then
    # names its line, and no line longer than MAX_CSV_LINE_BYTES is ever held. UTF-16/32 is
    # recoded to UTF-8 first, as it is read.
    codec, encoding = _text_encoding(fh)
    binary = fh if encoding is None else io.BufferedReader(_Utf8Recoder(fh, codec), _TEXT_CHUNK)

    def raw_lines() -> Iterator[bytes]:
        for number in itertools.count(1):
            try:
                raw = binary.readline(MAX_CSV_LINE_BYTES + 1)
            except UnicodeDecodeError:
                raise ImportFileError(messages.FILE_BAD_ENCODING.format(encoding=encoding, line=number)) from None
            if not raw:
                return
            yield raw

    def lines() -> Iterator[str]:
        for number, raw in enumerate(raw_lines(), start=1):
            if len(raw) > MAX_CSV_LINE_BYTES:
                raise ImportFileError(messages.FILE_CSV_ERROR.format(line=number, detail="line too long"))
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ImportFileError(messages.FILE_NOT_UTF8.format(line=number)) from None

    text_lines = lines()
    first = next(text_lines, "")
    if not first.strip():
        raise ImportFileError(messages.FILE_NO_HEADER)
    delimiter = sniff_delimiter(first)
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_SIZE_LIMIT))
    reader = csv.reader(itertools.chain((first,), text_lines), delimiter=delimiter)
    try:
        headers = tuple(h.strip() for h in next(reader))
    except csv.Error as error:
        raise ImportFileError(messages.FILE_CSV_ERROR.format(line=1, detail=error)) from None
    source = TabularSource(SourceFormat.CSV, headers, iter(()), duplicate_headers=_duplicates(headers))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        previous = reader.line_num
        try:
            for row in reader:
                start = previous + 1  # a multi-line record is reported at its first line
                previous = reader.line_num
                if not "".join(row).strip():
                    source.empty_rows += 1
                    continue
                yield start, row
        except csv.Error as error:
            raise ImportFileError(messages.FILE_CSV_ERROR.format(line=previous + 1, detail=error)) from None

    source.rows = rows()
    return source


# --- XLSX -------------------------------------------------------------------------------------
#: Defaults of ``XlsxLimits``.
MAX_XLSX_UNCOMPRESSED_BYTES = 500_000_000
MAX_XLSX_COMPRESSION_RATIO = 200
XLSX_RATIO_CHECKED_FROM_BYTES = 1_000_000
MAX_XLSX_SHARED_STRINGS_BYTES = 100_000_000
MAX_XLSX_ROWS = 1_000_000
MAX_XLSX_COLUMNS = 200


@dataclass(frozen=True, slots=True)
class XlsxLimits:
    """How much work an XLSX workbook may ask of the reader; past a limit, ``ImportFileError``.

    From the ZIP central directory, before openpyxl parses anything (a member's declared size
    is enforced by zipfile while it unpacks, so it is a trustworthy cap):

    - ``max_uncompressed_bytes``: all members together;
    - ``max_compression_ratio``, for each member of ``ratio_checked_from_bytes`` or more:
      deflate packs repeated text about 1,000:1, real sheets 5 to 50:1;
    - ``max_shared_strings_bytes``: the shared strings part, which openpyxl holds in memory
      whole (about twice its XML size).

    Then, from one streaming pass over the first sheet's XML, before any row is built:
    ``max_rows`` and ``max_columns``, Excel numbering (the header is row 1). Only cells with a
    value count: formatting that reaches column XFD or row 1,048,576 is not data.
    """

    max_uncompressed_bytes: int = MAX_XLSX_UNCOMPRESSED_BYTES
    max_compression_ratio: int = MAX_XLSX_COMPRESSION_RATIO
    ratio_checked_from_bytes: int = XLSX_RATIO_CHECKED_FROM_BYTES
    max_shared_strings_bytes: int = MAX_XLSX_SHARED_STRINGS_BYTES
    max_rows: int = MAX_XLSX_ROWS
    max_columns: int = MAX_XLSX_COLUMNS


# What zipfile and its decompressors raise on a damaged or truncated archive.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    NotImplementedError,  # an unsupported compression method
    RuntimeError,  # an encrypted member
    struct.error,
)
# What openpyxl raises on damaged or crafted parts, besides the archive's errors: it trusts the
# XML (an index out of a table, a number that is not one, a missing attribute).
_OPENPYXL_ERRORS = (
    *_ARCHIVE_ERRORS,
    SyntaxError,  # xml.etree.ElementTree.ParseError
    expat.ExpatError,
    ValueError,  # defusedxml's refusals too
    LookupError,
    TypeError,
    AttributeError,
    ArithmeticError,
    MemoryError,
)

_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW, _CELL = f"{_SHEET_NS} row", f"{_SHEET_NS} c"
_VALUE_TAGS = frozenset((f"{_SHEET_NS} v", f"{_SHEET_NS} is"))  # a value, or an inline string
_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_XML_CHUNK = 256 * 1024
_EXCEL_MAX_COLUMN = 16_384  # XFD


def _bad_xlsx(detail: str) -> ImportFileError:
    return ImportFileError(messages.FILE_BAD_XLSX.format(detail=detail))


def _openpyxl_error(error: BaseException) -> ImportFileError:
    """The message for an error openpyxl raised while reading."""
    if isinstance(error, MemoryError):
        return ImportFileError(messages.FILE_OUT_OF_MEMORY)
    if isinstance(error, RecursionError):
        return _bad_xlsx(messages.XLSX_UNREADABLE)
    if isinstance(error, _ARCHIVE_ERRORS):
        return _bad_xlsx(messages.XLSX_DAMAGED_ZIP)
    if isinstance(error, SyntaxError | expat.ExpatError):
        return _bad_xlsx(messages.XLSX_BAD_XML)
    return _bad_xlsx(messages.XLSX_UNREADABLE)


def _size(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB" if size >= 1_000_000 else f"{max(size, 1) / 1000:,.0f} kB"


def _column_number(reference: str, known: dict[str, int]) -> int:
    """The column of a cell reference such as ``AB12`` (``known`` caches letters seen)."""
    letters = reference.rstrip("0123456789")
    number = known.get(letters)
    if number is None:
        if not (0 < len(letters) <= 3 and letters.isascii() and letters.isalpha()):
            return _EXCEL_MAX_COLUMN + 1  # not a column openpyxl would accept either
        number = 0
        for char in letters.upper():
            number = number * 26 + ord(char) - 64
        known[letters] = number
    return number


def _xml_parser(start: Callable[[str, dict[str, str]], None]) -> Any:
    """An expat parser (namespace URI and local name joined by a space) that refuses DTDs: no
    spreadsheet part has one, and entities are how XML bombs are built."""

    def refuse_dtd(*args: Any) -> None:
        raise _bad_xlsx(messages.XLSX_UNREADABLE)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    return parser


def _parse_part(archive: zipfile.ZipFile, name: str, start: Callable[[str, dict[str, str]], None]) -> None:
    """Stream an archive member through ``start``; raises ``ImportFileError``."""
    parser = _xml_parser(start)
    try:
        with archive.open(name) as part:
            try:
                while chunk := part.read(_XML_CHUNK):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
            except expat.ExpatError as error:
                # A damaged member unpacks to garbage before its CRC is checked at its end:
                # read to the end so that damage is reported as damage, not as bad XML.
                while part.read(_XML_CHUNK):
                    pass
                raise _bad_xlsx(messages.XLSX_BAD_XML) from error
    except ImportFileError:
        raise
    except (*_ARCHIVE_ERRORS, KeyError) as error:
        raise _bad_xlsx(messages.XLSX_DAMAGED_ZIP) from error


def _check_archive(fh: IO[bytes], limits: XlsxLimits) -> None:
    """Refuse a workbook whose members would unpack too big (see ``XlsxLimits``)."""
    try:
        with zipfile.ZipFile(fh) as archive:
            members = archive.infolist()
            for member in members:
                if member.file_size >= limits.ratio_checked_from_bytes and member.file_size > (
                    limits.max_compression_ratio * member.compress_size
                ):
                    raise ImportFileError(
                        messages.FILE_XLSX_BOMB.format(
                            member=member.filename,
                            compressed=_size(member.compress_size),
                            size=_size(member.file_size),
                            ratio=f"{member.file_size / max(member.compress_size, 1):,.0f}",
                        )
                    )
            total = sum(member.file_size for member in members)
            if total > limits.max_uncompressed_bytes:
                raise ImportFileError(
                    messages.FILE_XLSX_TOO_LARGE.format(size=_size(total), limit=_size(limits.max_uncompressed_bytes))
                )
            strings = _shared_strings_member(archive)
    except ImportFileError:
        raise
    except _ARCHIVE_ERRORS as error:
        raise _bad_xlsx(messages.XLSX_DAMAGED_ZIP) from error
    if strings is not None and strings.file_size > limits.max_shared_strings_bytes:
        raise ImportFileError(
            messages.FILE_XLSX_TOO_MANY_STRINGS.format(
                member=strings.filename, size=_size(strings.file_size), limit=_size(limits.max_shared_strings_bytes)
            )
        )


def _shared_strings_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """The shared strings part, found as openpyxl finds it: the first ``Override`` of that
    content type in ``[Content_Types].xml`` (its name is the writer's choice)."""
    found: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if not found and name.endswith("Override") and attrs.get("ContentType") == _SHARED_STRINGS_TYPE:
            found.append(attrs.get("PartName", "")[1:])

    if "[Content_Types].xml" not in archive.NameToInfo:
        return None  # not a workbook: openpyxl says so
    _parse_part(archive, "[Content_Types].xml", start)
    return archive.NameToInfo.get(found[0]) if found else None


@dataclass(frozen=True, slots=True)
class _Extent:
    """Where a sheet's values are: the last row and the last column holding one (0: none)."""

    rows: int
    columns: int


def _scan_sheet(fh: IO[bytes], name: str, limits: XlsxLimits) -> _Extent:
    """The extent of the sheet in member ``name``, from one streaming pass over its XML (about a
    tenth of openpyxl's own read). Raises ``ImportFileError`` at the first value past the limits.

    Positions follow openpyxl's rules: a row is its ``r`` or the previous row + 1; a cell's
    column is its ``r`` reference's or the previous cell's + 1; a cell has a value when it has
    a ``<v>`` or an inline string.
    """
    max_rows, max_columns = limits.max_rows, limits.max_columns
    known: dict[str, int] = {}
    row = column = last_row = last_column = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal row, column, last_row, last_column
        if name == _CELL:
            reference = attrs.get("r")
            column = _column_number(reference, known) if reference else column + 1
        elif name in _VALUE_TAGS:
            if column > last_column:
                if column > max_columns:
                    letters = column_letters(column)
                    raise ImportFileError(
                        messages.FILE_XLSX_TOO_MANY_COLUMNS.format(
                            column=letters, cell=f"{letters}{row}", limit=max_columns
                        )
                    )
                last_column = column
            if row > last_row:
                if row > max_rows:
                    raise ImportFileError(messages.FILE_XLSX_TOO_MANY_ROWS.format(row=row, limit=max_rows))
                last_row = row
        elif name == _ROW:
            reference = attrs.get("r")
            try:
                row = int(reference) if reference else row + 1
            except ValueError:
                row += 1  # openpyxl refuses it when the row is read
            column = 0

    with zipfile.ZipFile(fh) as archive:
        _parse_part(archive, name, start)
    return _Extent(last_row, last_column)


def _number_format(cell: Any) -> str:
    try:
        return cell.number_format or ""
    except (LookupError, TypeError, AttributeError) as error:  # a style index out of the table
        raise _bad_xlsx(messages.XLSX_UNREADABLE) from error


def read_xlsx(fh: IO[bytes], *, limits: XlsxLimits | None = None) -> TabularSource:
    """Open the first worksheet of an XLSX workbook (see the module docstring).

    ``limits`` bound the work (``XlsxLimits()`` when None); they are checked before openpyxl
    parses the workbook and before any row is built, so a refused file costs little. Rows are
    as wide as the sheet's data (never padded to a far formatted cell) and stop at its last
    row with a value; the header stops at its last non-empty cell.

    Raises ``ImportFileError`` for a damaged, crafted or too large workbook, a sheet past the
    limits or without header row, also while ``rows`` is iterated.
    """
    limits = limits or XlsxLimits()
    _check_archive(fh, limits)
    import openpyxl  # imported here: only XLSX imports pay for it

    try:
        workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except _OPENPYXL_ERRORS as error:
        raise _openpyxl_error(error) from error
    try:
        if not workbook.worksheets:
            raise ImportFileError(messages.FILE_NO_HEADER)
        sheet = workbook.worksheets[0]
        # ``_worksheet_path`` is private but has named the sheet's part since openpyxl 2.4; the
        # scan must read the part openpyxl reads. The stored <dimension> is not used: writers
        # get it wrong, and it can claim column XFD.
        extent = _scan_sheet(fh, sheet._worksheet_path, limits)
        if not extent.rows:
            raise ImportFileError(messages.FILE_NO_HEADER)
        cells = sheet.iter_rows(max_row=extent.rows, max_col=extent.columns)
        try:
            header_cells = next(cells, None)
        except _OPENPYXL_ERRORS as error:
            raise _openpyxl_error(error) from error
        headers = ["" if c.value is None else str(c.value).strip() for c in header_cells or ()]
        while headers and not headers[-1]:
            headers.pop()
        if not headers:
            raise ImportFileError(messages.FILE_NO_HEADER)
    except BaseException:
        workbook.close()
        raise
    source = TabularSource(
        SourceFormat.XLSX,
        tuple(headers),
        iter(()),
        duplicate_headers=_duplicates(tuple(headers)),
        closer=workbook.close,
    )

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            # The count is the Excel row number: openpyxl fills gaps between stored rows.
            for number in itertools.count(2):
                try:
                    row = next(cells, None)
                except _OPENPYXL_ERRORS as error:
                    raise _openpyxl_error(error) from error
                if row is None:
                    return
                values = []
                for cell in row:
                    value = cell.value
                    if isinstance(value, str):
                        value = value.strip()
                    elif isinstance(value, int | float) and not isinstance(value, bool) and "%" in _number_format(cell):
                        value = value * 100
                    values.append(value)
                if all(v is None or v == "" for v in values):
                    source.empty_rows += 1
                    continue
                yield number, values
        finally:
            workbook.close()

    source.rows = rows()
    return source


# --- JSON -------------------------------------------------------------------------------------
_WHITESPACE = re.compile(r"[ \t\n\r]*")


@dataclass(slots=True)
class JsonSource:
    """A JSON file being read: ``records`` yields ``(record number, decoded record)``.

    ``container`` is the key whose array holds the records (None for a top-level array), known
    before the first record; ``extras`` holds the other top-level keys, complete once
    ``records`` is exhausted (they may follow the array).
    """

    container: str | None
    records: Generator[tuple[int, Any], None, None]
    extras: dict[str, Any]
    text: io.TextIOWrapper

    def close(self) -> None:
        """Stop reading and give the binary file back to its owner (open)."""
        self.records.close()
        _release(self.text)


def _release(text: io.TextIOWrapper) -> None:
    # Detach rather than close: closing the wrapper (or letting it be collected) would close
    # the caller's upload. Detaching twice raises ValueError; once is enough.
    with contextlib.suppress(ValueError):
        text.detach()


class _JsonStream:
    """An incremental JSON reader over text: values are decoded one at a time with
    ``json.JSONDecoder.raw_decode`` from a buffer refilled in 64 KiB chunks."""

    def __init__(self, text: IO[str], encoding: str | None = None) -> None:
        self._text = text
        self._encoding = encoding  # "UTF-16"/"UTF-32" for messages; None for UTF-8
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._line_base = 1  # line number of the buffer's first character
        self._decoder = json.JSONDecoder()
        self.record = 0

    def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            chunk = self._text.read(_JSON_CHUNK)
        except UnicodeDecodeError:
            if self._encoding:
                message = messages.FILE_BAD_ENCODING.format(encoding=self._encoding, line=self._line_base)
            else:
                message = messages.FILE_NOT_UTF8.format(line=self._line_base)
            raise ImportFileError(message) from None
        if not chunk:
            self._eof = True
            return False
        consumed = self._buffer[: self._pos]
        self._line_base += consumed.count("\n")
        self._buffer = self._buffer[self._pos :] + chunk
        self._pos = 0
        return True

    def _where(self, pos: int) -> tuple[int, int]:
        """``(line, column)`` of buffer position ``pos``, both from 1."""
        line = self._line_base + self._buffer.count("\n", 0, pos)
        column = pos - (self._buffer.rfind("\n", 0, pos) + 1) + 1
        return line, column

    def _fail(self, detail: str, pos: int | None = None) -> ImportFileError:
        line, column = self._where(self._pos if pos is None else pos)
        return ImportFileError(messages.FILE_BAD_JSON.format(line=line, column=column, detail=detail))

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end of the text)."""
        while True:
            self._pos = _WHITESPACE.match(self._buffer, self._pos).end()
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def expect(self, chars: str) -> str:
        char = self.peek()
        if not char or char not in chars:
            raise self._fail(f"expected {' or '.join(repr(c) for c in chars)}")
        self._pos += 1
        return char

    def value(self) -> Any:
        """Decode the next value, reading more text while it is incomplete."""
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except RecursionError:
                # The decoder recurses once per nesting level: "[[[[..." 10,000 deep exhausts
                # the stack long before any size bound. Valid JSON, but no import record.
                line, column = self._where(self._pos)
                raise ImportFileError(messages.FILE_JSON_TOO_DEEP.format(line=line, column=column)) from None
            except MemoryError:
                raise ImportFileError(messages.FILE_OUT_OF_MEMORY) from None
            except json.JSONDecodeError as error:
                # Cut by the buffer's end (an open string, or a failure in the last few
                # characters: "tru", "\\u12"): read more. Anywhere else it is a real error.
                cut = error.msg.startswith("Unterminated string") or error.pos >= len(self._buffer) - 8
                if cut and not self._eof:
                    if len(self._buffer) - self._pos >= MAX_JSON_RECORD_CHARS:
                        raise ImportFileError(
                            messages.FILE_JSON_RECORD_TOO_LARGE.format(record=self.record, limit=MAX_JSON_RECORD_CHARS)
                        ) from None
                    if self._fill():
                        continue
                raise self._fail(error.msg, error.pos) from None
            # A number cut by the buffer's end would decode short ("12" of "123"): read on.
            if end == len(self._buffer) and self._fill():
                continue
            if end - self._pos > MAX_JSON_RECORD_CHARS:
                raise ImportFileError(
                    messages.FILE_JSON_RECORD_TOO_LARGE.format(record=self.record, limit=MAX_JSON_RECORD_CHARS)
                )
            self._pos = end
            return value

    def array(self) -> Iterator[Any]:
        self.expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            self.record += 1
            # ``record`` is numbered before decoding so errors name the record being read.
            yield self.value()
            if self.expect(",]") == "]":
                return

    def end(self) -> None:
        if self.peek():
            raise self._fail("unexpected content after the end of the JSON document")


def read_json(fh: IO[bytes]) -> JsonSource:
    """Open a JSON import (see the module docstring). Raises ``ImportFileError`` for invalid
    JSON or an unexpected shape (possibly while iterating ``records``)."""
    codec, encoding = _text_encoding(fh)
    text = io.TextIOWrapper(fh, encoding="utf-8-sig" if encoding is None else codec)
    stream = _JsonStream(text, encoding)
    extras: dict[str, Any] = {}
    try:
        first = stream.peek()
        if first == "[":
            container = None
        elif first == "{":
            stream.expect("{")
            container = _seek_records(stream, extras)
        else:
            raise ImportFileError(messages.FILE_JSON_SHAPE if first else messages.FILE_EMPTY)
    except BaseException:
        _release(text)
        raise

    def records() -> Generator[tuple[int, Any], None, None]:
        try:
            for record in stream.array():
                yield stream.record, record
            if container is not None:
                _rest_of_object(stream, extras)
            stream.end()
        finally:
            _release(text)

    return JsonSource(container, records(), extras, text)


def _seek_records(stream: _JsonStream, extras: dict[str, Any]) -> str:
    # Read top-level keys up to the first records array; other keys' values go to extras.
    if stream.peek() == "}":
        raise ImportFileError(messages.FILE_JSON_SHAPE)
    while True:
        key = stream.value()
        if not isinstance(key, str):
            raise stream._fail("expected a string key")
        stream.expect(":")
        if key in RECORDS_KEYS and stream.peek() == "[":
            return key
        extras[key] = stream.value()
        if stream.expect(",}") == "}":
            raise ImportFileError(messages.FILE_JSON_SHAPE)


def _rest_of_object(stream: _JsonStream, extras: dict[str, Any]) -> None:
    while stream.expect(",}") == ",":
        key = stream.value()
        if not isinstance(key, str):
            raise stream._fail("expected a string key")
        stream.expect(":")
        extras[key] = stream.value()
