"""Read an import file and validate every record before anything is sent.

``validate_file`` is the entry point: it detects the format, streams the rows, builds each
record in the exact v2 request shape with precompiled field checks (``builders``), reports
duplicates, and returns a ``ValidationReport``. Invalid rows are never among the valid records.

Duplicates (business rule): a row whose key — course + learner + ``firstActivityAt`` for stats,
``externalId`` for courses and archives — was already seen on a *valid* earlier row is
reported on the later row as "duplicate of line N" (same values, or same key with different
values). Rows are compared after normalisation, so ``50`` and ``50.0`` or two spellings of the
same instant are the same values.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from integrations.imports import messages as m
from integrations.imports.builders import CELL_BUILDERS, JSON_BUILDERS, KEYS, Built
from integrations.imports.errors import ImportFileError, MappingIncomplete
from integrations.imports.kinds import Kind, as_kind
from integrations.imports.mapping import ColumnMapping, missing_required, suggest_mapping
from integrations.imports.readers import (
    UNITS,
    V1_COURSES_KEY,
    V1_STATS_KEY,
    JsonSource,
    Source,
    SourceFormat,
    TabularSource,
    XlsxLimits,
    detect_format,
    open_source,
    peek,
    read_csv,
    read_json,
    read_xlsx,
)
from integrations.imports.v1 import (
    V1_COURSES_TOP_LEVEL,
    V1Defaults,
    convert_archive,
    convert_course,
    convert_stat,
    looks_like_v1,
)
from integrations.imports.values import type_name

#: Column of the error CSV (and of ``InvalidRow.cells``) for JSON records.
JSON_RECORD_COLUMN = "record"


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row cannot be sent.

    ``line`` is the row's position (``ValidationReport.unit``: CSV line, XLSX row or JSON
    record number); ``field`` the flat field (CSV/XLSX) or request path (JSON), ``(row)`` for
    duplicates; ``column`` the file column it was read from, when there is one.
    """

    line: int
    field: str
    reason: str
    column: str | None = None


@dataclass(frozen=True, slots=True)
class ValidRecord:
    """A row ready to send: ``payload`` is one item of the request's ``input`` array, exactly;
    ``sha256`` is ``payload_sha256(payload)``, the import ledger's key."""

    line: int
    payload: dict[str, Any]
    notes: tuple[str, ...] = ()
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A row that will not be sent, with the original ``cells`` (for the error CSV)."""

    line: int
    cells: tuple[Any, ...]
    errors: tuple[RowError, ...]
    notes: tuple[str, ...] = ()


def payload_sha256(payload: dict[str, Any]) -> str:
    """The import ledger's key: the exact payload, independent of key order."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _key_digest(key: tuple[str, ...]) -> int:
    # A 128-bit number per row seen instead of the key's strings: a 200,000-row file keeps no
    # copy of every key, and a collision (2**-128) cannot pass for a duplicate.
    return int.from_bytes(hashlib.blake2b("\x1f".join(key).encode(), digest_size=16).digest())


def _first_seen(line: int, sha: str) -> int:
    # The line and 64 bits of the payload's hash in one int (about 40 bytes, where a tuple of
    # the line and the hex string takes 170): enough to say "same values" or not.
    return line << 64 | int(sha[:16], 16)


@dataclass(slots=True)
class FileSummary:
    """What is known of the whole file: the header facts at once, the counts and ``notes``
    once the rows are exhausted."""

    kind: Kind
    source_format: SourceFormat
    columns: tuple[str, ...]
    mapping: ColumnMapping | None = None
    notes: list[str] = field(default_factory=list)
    valid_count: int = 0
    invalid_count: int = 0

    @property
    def unit(self) -> str:
        """What ``line`` counts: ``line`` (CSV), ``row`` (XLSX) or ``record`` (JSON)."""
        return UNITS[self.source_format]

    @property
    def total(self) -> int:
        return self.valid_count + self.invalid_count


@dataclass(slots=True)
class ValidationStream:
    """A file being validated one row at a time.

    Iterate ``rows`` for ``ValidRecord`` and ``InvalidRow`` items in file order (holding one
    row at a time); ``summary`` is complete once ``rows`` is exhausted. ``close()`` stops
    reading early and releases the file's reader.
    """

    summary: FileSummary
    rows: Generator[ValidRecord | InvalidRow, None, None]

    def __iter__(self) -> Iterator[ValidRecord | InvalidRow]:
        return self.rows

    def close(self) -> None:
        self.rows.close()


@dataclass(frozen=True)
class ValidationReport:
    """Everything the preview shows and the launch needs, held in memory (for commands,
    tests and benchmarks; the web flow stores a ``ValidationStream`` batch by batch).

    ``valid`` and ``invalid`` are in file order; ``columns`` are the file's headers (tabular)
    or ``("record",)`` (JSON); ``notes`` are about the whole file; ``mapping`` is the column
    mapping used (tabular files only).
    """

    kind: Kind
    source_format: SourceFormat
    columns: tuple[str, ...]
    valid: tuple[ValidRecord, ...]
    invalid: tuple[InvalidRow, ...]
    notes: tuple[str, ...] = ()
    mapping: ColumnMapping | None = None

    @classmethod
    def collect(cls, stream: ValidationStream) -> ValidationReport:
        valid: list[ValidRecord] = []
        invalid: list[InvalidRow] = []
        with closing(stream):
            for item in stream:
                (valid if type(item) is ValidRecord else invalid).append(item)
        s = stream.summary
        return cls(s.kind, s.source_format, s.columns, tuple(valid), tuple(invalid), tuple(s.notes), s.mapping)

    @property
    def unit(self) -> str:
        """What ``line`` counts: ``line`` (CSV), ``row`` (XLSX) or ``record`` (JSON)."""
        return UNITS[self.source_format]

    @property
    def total(self) -> int:
        return len(self.valid) + len(self.invalid)

    @property
    def valid_count(self) -> int:
        return len(self.valid)

    @property
    def invalid_count(self) -> int:
        return len(self.invalid)

    @property
    def errors(self) -> tuple[RowError, ...]:
        """Every error of every invalid row, in file order."""
        return tuple(error for row in self.invalid for error in row.errors)

    def payloads(self) -> Iterator[dict[str, Any]]:
        """The valid records' payloads, in file order (what the Bulk API calls carry)."""
        return (record.payload for record in self.valid)


@dataclass(slots=True)
class _Collector:
    """Turns built rows into ``ValidRecord``/``InvalidRow`` items, finding duplicates.

    Only a digest of each valid row's key is kept, with its line and payload hash (enough to
    say "duplicate of line N, same values or not"), so memory does not hold the payloads.
    """

    kind: Kind
    unit: str
    summary: FileSummary
    seen: dict[int, int] = field(default_factory=dict)  # key digest -> _first_seen(line, sha)
    v1: bool = False  # JSON only: the records were in the v1 shape

    def add(
        self,
        line: int,
        built: Built,
        cells: Callable[[], tuple[Any, ...]],
        *,
        columns: dict[str, str] | None = None,
        notes: tuple[str, ...] = (),
    ) -> ValidRecord | InvalidRow:
        payload, errors, built_notes = built
        all_notes = notes + tuple(built_notes) if built_notes else notes
        if payload is not None:
            digest = _key_digest(KEYS[self.kind](payload))
            sha = payload_sha256(payload)
            first = self.seen.get(digest)
            if first is None:
                self.seen[digest] = _first_seen(line, sha)
                self.summary.valid_count += 1
                return ValidRecord(line, payload, all_notes, sha)
            first_line, same = first >> 64, first == _first_seen(first >> 64, sha)
            template = m.DUPLICATE_SAME_VALUES if same else m.DUPLICATE_SAME_KEY
            reason = template.format(unit=self.unit, line=first_line, key=m.DUPLICATE_KEYS[self.kind.value])
            errors = [(m.ROW_FIELD, reason)]
        columns = columns or {}
        row_errors = tuple(RowError(line, f, reason, columns.get(f)) for f, reason in errors)
        self.summary.invalid_count += 1
        return InvalidRow(line, cells(), row_errors, all_notes)


# --- the cyclic garbage collector -------------------------------------------------------------
_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic GC while a file is validated.

    The loop makes no reference cycles: each row's objects are freed by reference counting or
    kept in the report, so the collector would only re-scan the growing report again and again
    (measured: 40% of the time at 200,000 rows). The pause is process-wide, hence counted under a
    lock so that concurrent validations in threads restore the collector exactly once, and only
    if it was enabled before the first of them.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


# --- tabular ----------------------------------------------------------------------------------
def _stream_tabular(source: TabularSource, kind: Kind, mapping: ColumnMapping | None) -> ValidationStream:
    headers = source.headers
    mapping = mapping.restricted_to(headers) if mapping is not None else suggest_mapping(headers, kind)
    missing = missing_required(mapping, kind)
    if missing:
        source.close()
        raise MappingIncomplete(headers=headers, suggested=mapping, missing=missing)
    summary = FileSummary(kind, source.format, headers, mapping)
    return ValidationStream(summary, _tabular_rows(source, summary))


def _tabular_rows(source: TabularSource, summary: FileSummary) -> Generator[ValidRecord | InvalidRow, None, None]:
    kind, headers, mapping = summary.kind, summary.columns, summary.mapping
    index_of = {}
    for index, header in enumerate(headers):
        index_of.setdefault(header, index)  # a repeated header: the first column is read
    plan = tuple((index_of[column], field_name) for column, field_name in mapping.pairs)
    columns = {field_name: column for column, field_name in mapping.pairs}
    build = CELL_BUILDERS[kind]
    collector = _Collector(kind, UNITS[source.format], summary)
    add = collector.add
    width = len(headers)
    with closing(source):
        for line, row in source.rows:
            size = len(row)
            values: dict[str, Any] = {}
            for index, field_name in plan:
                if index < size:
                    cell = row[index]
                    if type(cell) is str:
                        cell = cell.strip()
                        if cell:
                            values[field_name] = cell
                    elif cell is not None:
                        values[field_name] = cell
            yield add(line, build(values), lambda row=row: _pad(row, width), columns=columns)
    summary.notes.extend(m.FILE_NOTE_DUPLICATE_HEADER.format(column=c) for c in source.duplicate_headers)
    if source.empty_rows:
        summary.notes.append(m.FILE_NOTE_EMPTY_ROWS.format(count=source.empty_rows, unit=UNITS[source.format]))


def _pad(row: Sequence[Any], width: int) -> tuple[Any, ...]:
    cells = tuple(row)
    return cells + ("",) * (width - len(cells)) if len(cells) < width else cells


# --- JSON -------------------------------------------------------------------------------------
_V1_CONVERTERS = {Kind.STATS: convert_stat, Kind.COURSES: convert_course, Kind.ARCHIVE_COURSES: convert_archive}


def _record_cell(record: Any) -> tuple[str]:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str),)


def _json_rows(
    records: Iterable[tuple[int, Any]],
    collector: _Collector,
    *,
    v1: bool | None,
    defaults: V1Defaults,
) -> Iterator[ValidRecord | InvalidRow]:
    """Validate ``(number, record)`` pairs; ``v1=None`` decides from the first record."""
    kind = collector.kind
    build = JSON_BUILDERS[kind]
    convert = _V1_CONVERTERS[kind]
    stats = kind is Kind.STATS
    for number, record in records:
        if v1 is None:
            v1 = looks_like_v1(record, stats=stats)
            collector.v1 = v1
        if not isinstance(record, dict):
            built: Built = (None, [(m.ROW_FIELD, m.NOT_A_RECORD.format(type=type_name(record)))], [])
            yield collector.add(number, built, lambda r=record: _record_cell(r))
            continue
        if v1:
            converted = convert(record, defaults)
            built = build(converted.record, preset=list(converted.errors))
            yield collector.add(number, built, lambda r=record: _record_cell(r), notes=converted.notes)
        else:
            yield collector.add(number, build(record), lambda r=record: _record_cell(r))


def _stream_json(source: JsonSource, kind: Kind, defaults: V1Defaults) -> ValidationStream:
    container = source.container
    if container == V1_STATS_KEY and kind is not Kind.STATS:
        source.close()
        raise ImportFileError(m.FILE_WRONG_KIND.format(payload="stats", kind=kind.value))
    if container == V1_COURSES_KEY and kind is Kind.STATS:
        source.close()
        raise ImportFileError(m.FILE_WRONG_KIND.format(payload="courses", kind=kind.value))
    v1 = True if container in (V1_STATS_KEY, V1_COURSES_KEY) else None
    summary = FileSummary(kind, SourceFormat.JSON_V1 if v1 else SourceFormat.JSON, (JSON_RECORD_COLUMN,))
    return ValidationStream(summary, _json_file_rows(source, summary, v1=v1, defaults=defaults))


def _json_file_rows(
    source: JsonSource, summary: FileSummary, *, v1: bool | None, defaults: V1Defaults
) -> Generator[ValidRecord | InvalidRow, None, None]:
    collector = _Collector(summary.kind, "record", summary, v1=bool(v1))
    try:
        yield from _json_rows(source.records, collector, v1=v1, defaults=defaults)
    finally:
        source.close()
    if collector.v1:
        summary.source_format = SourceFormat.JSON_V1
    extras = dict(source.extras)
    if collector.v1:
        summary.notes.append(m.FILE_NOTE_V1.format(payload="stats" if summary.kind is Kind.STATS else "courses"))
        summary.notes.extend(
            m.FILE_NOTE_V1_TOP_LEVEL.format(field=k) for k in V1_COURSES_TOP_LEVEL if extras.pop(k, None) is not None
        )
    if extras:
        summary.notes.append(m.FILE_NOTE_EXTRA_KEYS.format(keys=", ".join(sorted(extras))))


# --- entry points -----------------------------------------------------------------------------
def read_header(
    source: Source, *, filename: str | None = None, xlsx_limits: XlsxLimits | None = None
) -> tuple[str, ...] | None:
    """The header row of a CSV/XLSX file (for the mapping step), or None for JSON files.

    ``source`` is a path or a seekable binary file (left open, rewound). ``xlsx_limits`` bound
    the reading of a workbook (``XlsxLimits()`` when None). Raises ``ImportFileError``.
    """
    fh, owned = open_source(source)
    try:
        fmt = detect_format(filename or _name_of(fh), peek(fh))
        if fmt is SourceFormat.JSON:
            return None
        tabular = read_csv(fh) if fmt is SourceFormat.CSV else read_xlsx(fh, limits=xlsx_limits)
        tabular.close()
        return tabular.headers
    finally:
        if owned:
            fh.close()
        else:
            fh.seek(0)


def open_validation(
    fh: IO[bytes],
    *,
    kind: Kind | str,
    filename: str | None = None,
    mapping: ColumnMapping | None = None,
    v1_defaults: V1Defaults | None = None,
) -> ValidationStream:
    """Start validating an import file, one row at a time (see ``ValidationStream``).

    ``fh`` is a seekable binary file, left open for the caller to close once the stream is
    done. ``filename`` helps format detection when ``fh`` has no name. Tabular files use
    ``mapping`` as given (only the columns the file has) or, when None, ``suggest_mapping`` of
    their headers. ``v1_defaults`` fills what v1 payloads lack (see ``v1``).

    Raises ``MappingIncomplete`` when required fields have no column (show the mapping step),
    ``ImportFileError`` when the file cannot be read as an import (also while iterating),
    ``ValueError`` for an unknown ``kind``. Row problems never raise: they are the items.
    """
    kind = as_kind(kind)
    fmt = detect_format(filename or _name_of(fh), peek(fh))
    if fmt is SourceFormat.CSV:
        return _stream_tabular(read_csv(fh), kind, mapping)
    if fmt is SourceFormat.XLSX:
        return _stream_tabular(read_xlsx(fh), kind, mapping)
    return _stream_json(read_json(fh), kind, v1_defaults or V1Defaults())


def validate_file(
    source: Source,
    *,
    kind: Kind | str,
    filename: str | None = None,
    mapping: ColumnMapping | None = None,
    v1_defaults: V1Defaults | None = None,
) -> ValidationReport:
    """Read and validate a whole import file into memory (``open_validation``'s rules).

    ``source`` is a path or a seekable binary file (an upload; left open).
    The report holds every valid payload (about 1 KB per stats row). Python's cyclic garbage
    collector is paused while rows are read (process-wide, restored afterwards; see
    ``_cyclic_gc_paused``).
    """
    fh, owned = open_source(source)
    try:
        stream = open_validation(fh, kind=kind, filename=filename, mapping=mapping, v1_defaults=v1_defaults)
        with _cyclic_gc_paused():
            return ValidationReport.collect(stream)
    finally:
        if owned:
            fh.close()


def validate_rows(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    kind: Kind | str,
    mapping: ColumnMapping | None = None,
) -> ValidationReport:
    """Validate in-memory tabular rows (header excluded) as if read from a CSV whose header is
    line 1 and each row one line. Raises ``MappingIncomplete`` like ``validate_file``."""
    headers = tuple(h.strip() for h in headers)
    source = TabularSource(SourceFormat.CSV, headers, ((n, list(r)) for n, r in enumerate(rows, start=2)))
    with _cyclic_gc_paused():
        return ValidationReport.collect(_stream_tabular(source, as_kind(kind), mapping))


def validate_records(
    records: Iterable[Any],
    *,
    kind: Kind | str,
    v1: bool = False,
    v1_defaults: V1Defaults | None = None,
) -> ValidationReport:
    """Validate decoded JSON records (v2 request shape, or v1 when ``v1``), numbered from 1 —
    e.g. stored payloads of failed records before a re-run."""
    kind = as_kind(kind)
    summary = FileSummary(kind, SourceFormat.JSON_V1 if v1 else SourceFormat.JSON, (JSON_RECORD_COLUMN,))
    collector = _Collector(kind, "record", summary, v1=v1)
    rows = _json_rows(enumerate(records, start=1), collector, v1=v1, defaults=v1_defaults or V1Defaults())
    with _cyclic_gc_paused():
        return ValidationReport.collect(ValidationStream(summary, (item for item in rows)))


def _name_of(fh: Any) -> str | None:
    name = getattr(fh, "name", None)
    return name if isinstance(name, str) else None
