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
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

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
    """A row ready to send: ``payload`` is one item of the request's ``input`` array, exactly."""

    line: int
    payload: dict[str, Any]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A row that will not be sent, with the original ``cells`` (for the error CSV)."""

    line: int
    cells: tuple[Any, ...]
    errors: tuple[RowError, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationReport:
    """Everything the preview shows and the launch needs.

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
        """The valid records' payloads, in file order (what ``chunked`` splits)."""
        return (record.payload for record in self.valid)


@dataclass(slots=True)
class _Collector:
    kind: Kind
    unit: str
    valid: list[ValidRecord] = field(default_factory=list)
    invalid: list[InvalidRow] = field(default_factory=list)
    # Duplicate index: hash(key) -> index in ``valid``. Hashes rather than key tuples keep it
    # small (a 200,000-row file holds no copy of every key); a hit is confirmed against the
    # stored payload's key, and the rare different key with an equal hash goes to ``overflow``.
    seen: dict[int, int] = field(default_factory=dict)
    overflow: dict[tuple[str, ...], int] = field(default_factory=dict)
    v1: bool = False  # JSON only: the records were in the v1 shape

    def add(
        self,
        line: int,
        built: Built,
        cells: Callable[[], tuple[Any, ...]],
        *,
        columns: dict[str, str] | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        payload, errors, built_notes = built
        all_notes = notes + tuple(built_notes) if built_notes else notes
        if payload is not None:
            key = KEYS[self.kind](payload)
            index = self._find(key)
            if index is None:
                self._remember(key, len(self.valid))
                self.valid.append(ValidRecord(line, payload, all_notes))
                return
            first = self.valid[index]
            template = m.DUPLICATE_SAME_VALUES if first.payload == payload else m.DUPLICATE_SAME_KEY
            reason = template.format(unit=self.unit, line=first.line, key=m.DUPLICATE_KEYS[self.kind.value])
            errors = [(m.ROW_FIELD, reason)]
        columns = columns or {}
        row_errors = tuple(RowError(line, f, reason, columns.get(f)) for f, reason in errors)
        self.invalid.append(InvalidRow(line, cells(), row_errors, all_notes))

    def _find(self, key: tuple[str, ...]) -> int | None:
        index = self.seen.get(hash(key))
        if index is None or KEYS[self.kind](self.valid[index].payload) == key:
            return index
        return self.overflow.get(key)

    def _remember(self, key: tuple[str, ...], index: int) -> None:
        digest = hash(key)
        if digest in self.seen:
            self.overflow[key] = index
        else:
            self.seen[digest] = index


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
def _validate_tabular(source: TabularSource, kind: Kind, mapping: ColumnMapping | None) -> ValidationReport:
    headers = source.headers
    mapping = mapping.restricted_to(headers) if mapping is not None else suggest_mapping(headers, kind)
    missing = missing_required(mapping, kind)
    if missing:
        source.close()
        raise MappingIncomplete(headers=headers, suggested=mapping, missing=missing)
    index_of = {}
    for index, header in enumerate(headers):
        index_of.setdefault(header, index)  # a repeated header: the first column is read
    plan = tuple((index_of[column], field_name) for column, field_name in mapping.pairs)
    columns = {field_name: column for column, field_name in mapping.pairs}
    build = CELL_BUILDERS[kind]
    key_of = KEYS[kind]
    collector = _Collector(kind, UNITS[source.format])
    seen, valid = collector.seen, collector.valid
    width = len(headers)
    with _cyclic_gc_paused(), closing(source):
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
            built = build(values)
            payload = built[0]
            if payload is not None:
                # Hot path inlined: a new valid row costs one key, one lookup, one append.
                digest = hash(key_of(payload))
                if digest not in seen:
                    seen[digest] = len(valid)
                    valid.append(ValidRecord(line, payload))
                    continue
            collector.add(line, built, lambda row=row: _pad(row, width), columns=columns)
    notes = [m.FILE_NOTE_DUPLICATE_HEADER.format(column=c) for c in source.duplicate_headers]
    if source.empty_rows:
        notes.append(m.FILE_NOTE_EMPTY_ROWS.format(count=source.empty_rows, unit=UNITS[source.format]))
    return ValidationReport(
        kind=kind,
        source_format=source.format,
        columns=headers,
        valid=tuple(collector.valid),
        invalid=tuple(collector.invalid),
        notes=tuple(notes),
        mapping=mapping,
    )


def _pad(row: Sequence[Any], width: int) -> tuple[Any, ...]:
    cells = tuple(row)
    return cells + ("",) * (width - len(cells)) if len(cells) < width else cells


# --- JSON -------------------------------------------------------------------------------------
_V1_CONVERTERS = {Kind.STATS: convert_stat, Kind.COURSES: convert_course, Kind.ARCHIVE_COURSES: convert_archive}


def _record_cell(record: Any) -> tuple[str]:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str),)


def _validate_json_records(
    records: Iterable[tuple[int, Any]],
    kind: Kind,
    *,
    v1: bool | None,
    defaults: V1Defaults,
) -> tuple[_Collector, bool]:
    """Validate ``(number, record)`` pairs; ``v1=None`` decides from the first record."""
    build = JSON_BUILDERS[kind]
    convert = _V1_CONVERTERS[kind]
    collector = _Collector(kind, "record")
    with _cyclic_gc_paused():
        _json_loop(records, collector, build, convert, v1=v1, defaults=defaults, stats=kind is Kind.STATS)
    return collector, bool(collector.v1)


def _json_loop(
    records: Iterable[tuple[int, Any]],
    collector: _Collector,
    build: Callable[..., Built],
    convert: Callable[[dict[str, Any], V1Defaults], Any],
    *,
    v1: bool | None,
    defaults: V1Defaults,
    stats: bool,
) -> None:
    for number, record in records:
        if v1 is None:
            v1 = looks_like_v1(record, stats=stats)
        if not isinstance(record, dict):
            built: Built = (None, [(m.ROW_FIELD, m.NOT_A_RECORD.format(type=type_name(record)))], [])
            collector.add(number, built, lambda r=record: _record_cell(r))
            continue
        if v1:
            converted = convert(record, defaults)
            built = build(converted.record, preset=list(converted.errors))
            collector.add(number, built, lambda r=record: _record_cell(r), notes=converted.notes)
        else:
            collector.add(number, build(record), lambda r=record: _record_cell(r))
    if v1 is not None:
        collector.v1 = v1


def _validate_json(source: JsonSource, kind: Kind, defaults: V1Defaults) -> ValidationReport:
    container = source.container
    if container == V1_STATS_KEY and kind is not Kind.STATS:
        source.close()
        raise ImportFileError(m.FILE_WRONG_KIND.format(payload="stats", kind=kind.value))
    if container == V1_COURSES_KEY and kind is Kind.STATS:
        source.close()
        raise ImportFileError(m.FILE_WRONG_KIND.format(payload="courses", kind=kind.value))
    v1 = True if container in (V1_STATS_KEY, V1_COURSES_KEY) else None
    try:
        collector, v1 = _validate_json_records(source.records, kind, v1=v1, defaults=defaults)
    finally:
        source.close()
    notes: list[str] = []
    extras = dict(source.extras)
    if v1:
        notes.append(m.FILE_NOTE_V1.format(payload="stats" if kind is Kind.STATS else "courses"))
        notes.extend(
            m.FILE_NOTE_V1_TOP_LEVEL.format(field=k) for k in V1_COURSES_TOP_LEVEL if extras.pop(k, None) is not None
        )
    if extras:
        notes.append(m.FILE_NOTE_EXTRA_KEYS.format(keys=", ".join(sorted(extras))))
    return ValidationReport(
        kind=kind,
        source_format=SourceFormat.JSON_V1 if v1 else SourceFormat.JSON,
        columns=(JSON_RECORD_COLUMN,),
        valid=tuple(collector.valid),
        invalid=tuple(collector.invalid),
        notes=tuple(notes),
    )


# --- entry points -----------------------------------------------------------------------------
def read_header(source: Source, *, filename: str | None = None) -> tuple[str, ...] | None:
    """The header row of a CSV/XLSX file (for the mapping step), or None for JSON files.

    ``source`` is a path or a seekable binary file (left open, rewound). Raises ``ImportFileError``.
    """
    fh, owned = open_source(source)
    try:
        fmt = detect_format(filename or _name_of(fh), peek(fh))
        if fmt is SourceFormat.JSON:
            return None
        tabular = read_csv(fh) if fmt is SourceFormat.CSV else read_xlsx(fh)
        tabular.close()
        return tabular.headers
    finally:
        if owned:
            fh.close()
        else:
            fh.seek(0)


def validate_file(
    source: Source,
    *,
    kind: Kind | str,
    filename: str | None = None,
    mapping: ColumnMapping | None = None,
    v1_defaults: V1Defaults | None = None,
) -> ValidationReport:
    """Read and validate a whole import file.

    ``source`` is a path or a seekable binary file (an upload; left open). ``filename`` helps
    format detection when ``source`` has no name. Tabular files use ``mapping`` as given (only
    the columns the file has) or, when None, ``suggest_mapping`` of their headers.
    ``v1_defaults`` fills what v1 payloads lack (see ``v1``).

    Raises ``MappingIncomplete`` when required fields have no column (show the mapping step),
    ``ImportFileError`` when the file cannot be read as an import, ``ValueError`` for an unknown
    ``kind``. Row problems never raise: they are in the report.

    The report holds every valid payload (about 1 KB per stats row). Python's cyclic garbage
    collector is paused while rows are read (process-wide, restored afterwards; see
    ``_cyclic_gc_paused``).
    """
    kind = as_kind(kind)
    fh, owned = open_source(source)
    try:
        fmt = detect_format(filename or _name_of(fh), peek(fh))
        if fmt is SourceFormat.CSV:
            return _validate_tabular(read_csv(fh), kind, mapping)
        if fmt is SourceFormat.XLSX:
            return _validate_tabular(read_xlsx(fh), kind, mapping)
        return _validate_json(read_json(fh), kind, v1_defaults or V1Defaults())
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
    return _validate_tabular(source, as_kind(kind), mapping)


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
    collector, _ = _validate_json_records(
        enumerate(records, start=1), kind, v1=v1, defaults=v1_defaults or V1Defaults()
    )
    return ValidationReport(
        kind=kind,
        source_format=SourceFormat.JSON_V1 if v1 else SourceFormat.JSON,
        columns=(JSON_RECORD_COLUMN,),
        valid=tuple(collector.valid),
        invalid=tuple(collector.invalid),
    )


def _name_of(fh: Any) -> str | None:
    name = getattr(fh, "name", None)
    return name if isinstance(name, str) else None
