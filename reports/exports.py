"""Every report table as a file: CSV (streamed) or XLSX, for the pages' download links and
``export_report``. No HTTP here: the views wrap ``csv_chunks``/``xlsx_write`` in responses.

A ``Table`` is a header of stable column names (in the domain's words; the 360Learning and
iSpring names for statuses) and rows read lazily in chunks (``cursor_rows``), so a million-row
export holds one chunk of rows in memory at a time.

Cells:

- CSV is UTF-8 with a BOM (Excel then reads accents right), comma-separated, quoted where needed
  (commas, quotes, new lines in names survive a round trip);
- dates and times are ISO 8601 in UTC (``2025-06-01T09:30:00+00:00``), booleans ``true``/``false``,
  durations in whole seconds, rates in percent;
- text from the LMS is untrusted: a CSV cell starting with ``= + - @``, tab or carriage return
  gets a leading apostrophe (``tabular.safe_cell``) so no spreadsheet runs it as a formula. XLSX cells are typed: text is always stored as text, never a formula.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from itertools import islice
from pathlib import Path
from typing import IO, Any

from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.sql.constants import MULTI
from django.utils import timezone

from lms_cache.models import DETAILED_STATUSES, STATUS_REASONS, PathSession
from reports import vocabulary, xlsx
from reports.charts import StatusCounts
from reports.filters import ReportFilters
from reports.provenance import Provenance
from reports.selectors.courses import attempt_list, course_stats
from reports.selectors.learners import learner_list, learner_rows, learners_item_count
from reports.selectors.module_results import module_result_list, module_result_summary
from reports.selectors.path_sessions import (
    path_session_breakdown,
    path_session_custom_field_names,
    path_session_learners,
    path_session_list,
    path_session_phase,
    path_session_status_counts,
    path_session_trend,
)
from reports.xlsx import BOOL, DATETIME, FLOAT, INT, TEXT
from tabular import FORMULA_PREFIXES, UTF8_BOM, CsvBuffer, safe_cell

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Rows per streamed CSV chunk, and per database round trip.
CSV_CHUNK_ROWS = 1000
DB_CHUNK_ROWS = 2000


@dataclass(frozen=True)
class Table:
    """One exportable table: ``name`` is the file name's stem; ``count`` says how many rows
    ``rows`` yields without reading them (for the sidecar row); ``provenance`` is set by the
    caller (``reports.provenance``) and goes into the file name and the sidecar row."""

    name: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: Callable[[], Iterator[tuple]]
    count: Callable[[], int] | None = None
    provenance: Provenance | None = None

    def filename(self, file_format: str) -> str:
        if self.provenance is None:
            return f"{self.name}-{timezone.localdate():%Y-%m-%d}.{file_format}"
        return f"{self.name}{self.provenance.filename_suffix()}.{file_format}"

    def row_count(self) -> int:
        return self.count() if self.count is not None else sum(1 for _ in self.rows())

    def sidecar(self) -> list[str] | None:
        """The provenance row written above the header, when the table has a provenance."""
        if self.provenance is None:
            return None
        return self.provenance.sidecar_cells(report=self.name, rows=self.row_count())


def _table(
    name: str, columns: list[tuple[str, str]], rows: Callable[[], Iterator[tuple]], count: Callable[[], int]
) -> Table:
    return Table(name, tuple(c for c, _ in columns), tuple(k for _, k in columns), rows, count)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "report"


def _seconds(ms: int | None) -> int | None:
    return None if ms is None else (ms + 500) // 1000


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _batched(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


# Django's converters the cursor reader skips, per database: Django's SQLite connection already
# parses declared date-time and date columns (into naive UTC date-times and dates), and the
# writers read booleans' 0/1 by truthiness.
_SKIPPED_CONVERTERS = {"sqlite": {"DateTimeField", "DateField", "BooleanField"}}


def export_values(queryset: QuerySet, fields: Iterable[str], kinds: Iterable[str]) -> QuerySet:
    """``queryset.values_list(*fields)`` for ``cursor_rows``, where ``kinds`` are the fields'
    cell kinds. On SQLite, date-time fields are selected as the stored text
    (``2025-06-01 09:30:00[.ffffff]``, UTC): the driver would parse each into a ``datetime``
    that the CSV writer formats again, a fifth of a million-row export; ``_iso`` slices the text
    and ``reports.xlsx`` parses it."""
    if connections[queryset.db].vendor != "sqlite":
        return queryset.values_list(*fields)
    datetimes = {field for field, kind in zip(fields, kinds, strict=False) if kind == DATETIME}
    return queryset.values_list(*(Cast(field, TextField()) if field in datetimes else field for field in fields))


def cursor_rows(queryset: QuerySet) -> Iterator[tuple]:
    """The rows of a ``values_list`` queryset, read from the DB-API cursor in chunks of
    ``DB_CHUNK_ROWS`` (a server-side cursor on PostgreSQL, as ``.iterator()`` uses).

    ``.iterator()`` sends every value through Django's converter chain (a list per row, three
    calls per date-time on SQLite), a large part of the cost above a bare ``SELECT`` dump
    (bench/export.py). Here values come as the driver gives them, so **date-times are naive
    UTC on SQLite** (aware UTC on PostgreSQL), or their stored text when selected through
    ``export_values``, and booleans may be 0/1: the writers (``_iso``, ``reports.xlsx``) read
    all of them. Only the other typed columns (JSON, decimals)
    keep Django's converters."""
    connection = connections[queryset.db]
    compiler = queryset.query.get_compiler(using=queryset.db)
    chunked = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    chunks = compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=DB_CHUNK_ROWS)
    skipped = _SKIPPED_CONVERTERS.get(connection.vendor, set())
    columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
    converters = {
        position: (chain, expression)
        for position, (chain, expression) in compiler.get_converters(columns).items()
        if expression.output_field.get_internal_type() not in skipped
    }
    for chunk in chunks:
        if converters:
            yield from map(tuple, compiler.apply_converters(chunk, converters))
        else:
            yield from map(tuple, chunk)


# The tables ------------------------------------------------------------------------------------
STATUS_COLUMNS = [
    *((status, INT) for status in DETAILED_STATUSES),
    *((f"{status}_{reason}", INT) for status, reasons in STATUS_REASONS.items() for reason in reasons),
]


def _status_cells(counts: StatusCounts) -> list[int]:
    by_type = counts.by_type()
    cells = [by_type[status] for status in DETAILED_STATUSES]
    cells += [counts.counts.get((s, r), 0) for s, reasons in STATUS_REASONS.items() for r in reasons]
    return cells


def sessions_table(*, filters: ReportFilters) -> Table:
    """The sessions overview: one row per path session. Status columns count learners per
    detailed status (they add up to ``enrolled``); ``toRetake_mandatoryReplay`` and
    ``unsuccessful_sessionEnded`` are the part of their status with that reason."""
    columns = [
        ("connection", TEXT),
        ("path", TEXT),
        ("path_id", TEXT),
        ("path_session", TEXT),
        ("path_session_id", TEXT),
        ("start_date", DATETIME),
        ("end_date", DATETIME),
        ("phase", TEXT),
        ("enrolled", INT),
        *STATUS_COLUMNS,
        ("certificates", INT),
        ("completion_rate_percent", FLOAT),
        ("stats_synced_at", DATETIME),
    ]

    def rows() -> Iterator[tuple]:
        now = timezone.now()
        sessions = path_session_list(filters=filters).iterator(chunk_size=DB_CHUNK_ROWS)
        for batch in _batched(sessions, 500):
            counts = path_session_status_counts(sessions=batch, filters=filters)
            for session in batch:
                c = counts[session.pk]
                yield (
                    session.connection.name,
                    session.path.name if session.path else "",
                    session.path_remote_id,
                    session.name,
                    session.remote_id,
                    session.start_date,
                    session.end_date,
                    path_session_phase(session, now=now),
                    c.enrolled,
                    *_status_cells(c),
                    c.certificates,
                    c.successful_rate(),
                    session.stats_synced_at,
                )

    return _table("path-sessions", columns, rows, path_session_list(filters=filters).count)


LEARNER_FIELDS = (
    "user_remote_id",
    "first_name",
    "last_name",
    "mail",
    "group_name",
    "group_remote_id",
    "status_type",
    "status_reason",
    "progress",
    "score",
    "time_spent_ms",
    "enrolled_at",
    "started_at",
    "last_activity_at",
    "completed_at",
    "due_date",
    "has_certificate",
    "custom_fields",
)


def path_session_learners_table(*, session: PathSession, filters: ReportFilters) -> Table:
    """One path session's learners (the table's filters and order), then one column per custom
    field (``custom_field:<name>``, from API v1)."""
    names = path_session_custom_field_names(session=session, filters=filters)
    columns = [
        ("learner_id", TEXT),
        ("first_name", TEXT),
        ("last_name", TEXT),
        ("mail", TEXT),
        ("group", TEXT),
        ("group_id", TEXT),
        ("status", TEXT),
        ("reason", TEXT),
        ("progress", INT),
        ("score", INT),
        ("time_spent_seconds", INT),
        ("enrolled_at", DATETIME),
        ("first_activity_at", DATETIME),
        ("last_activity_at", DATETIME),
        ("completed_at", DATETIME),
        ("due_date", DATETIME),
        ("certificate", BOOL),
        *((f"custom_field:{name}", TEXT) for name in names),
    ]

    def rows() -> Iterator[tuple]:
        learners = export_values(
            path_session_learners(session=session, filters=filters),
            LEARNER_FIELDS,
            [kind for _, kind in columns],
        )
        for row in cursor_rows(learners):
            custom = row[17] or {}
            yield (
                *row[:10],
                _seconds(row[10]),
                *row[11:17],
                *(_custom_value(custom.get(name)) for name in names),
            )

    count = path_session_learners(session=session, filters=filters).count
    return _table(f"path-session-{_slug(session.name)}-learners", columns, rows, count)


def _custom_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def path_session_breakdown_table(*, session: PathSession, filters: ReportFilters) -> Table:
    """Learners per detailed status and reason, their share of the enrolled total, and the
    LMS's own count per status (on the first row of each status)."""
    columns = [("status", TEXT), ("reason", TEXT), ("learners", INT), ("percent", FLOAT), ("lms_count", INT)]

    breakdown = cache(lambda: path_session_breakdown(session=session, filters=filters))

    def rows() -> Iterator[tuple]:
        for row in breakdown().rows:
            yield row.status, row.reason, row.count, row.percent, row.lms_count

    return _table(f"path-session-{_slug(session.name)}-statuses", columns, rows, lambda: len(breakdown().rows))


def path_session_trend_table(*, session: PathSession, filters: ReportFilters) -> Table:
    """Counts per detailed status after each sync (the trend), oldest first."""
    columns = [
        ("taken_at", DATETIME),
        ("sync_run_id", INT),
        ("enrolled", INT),
        *((status, INT) for status in DETAILED_STATUSES),
        ("certificates", INT),
    ]

    trend = cache(lambda: path_session_trend(session=session, filters=filters))

    def rows() -> Iterator[tuple]:
        for point in trend():
            yield (
                point.taken_at,
                point.sync_run_id,
                point.enrolled,
                *(point.by_type.get(s, 0) for s in DETAILED_STATUSES),
                point.certificates,
            )

    return _table(f"path-session-{_slug(session.name)}-trend", columns, rows, lambda: len(trend()))


def course_stats_table(*, filters: ReportFilters) -> Table:
    """Per course: attempts, learners, learners with a completed attempt and their share,
    average score, total and average time spent."""
    columns = [
        ("connection", TEXT),
        ("course", TEXT),
        ("course_id", TEXT),
        ("attempts", INT),
        ("learners", INT),
        ("learners_completed", INT),
        ("completion_rate_percent", FLOAT),
        ("average_score", FLOAT),
        ("time_spent_seconds", INT),
        ("average_time_spent_seconds", INT),
    ]

    courses = cache(lambda: course_stats(filters=filters))

    def rows() -> Iterator[tuple]:
        for row in courses():
            yield (
                row.connection_name,
                row.course_name or "",
                row.course_remote_id,
                row.attempts,
                row.learners,
                row.learners_completed,
                _percent(row.completion_rate),
                _round(row.average_score),
                _seconds(row.total_time_spent_ms),
                _seconds(None if row.average_time_spent_ms is None else round(row.average_time_spent_ms)),
            )

    return _table("course-stats", columns, rows, lambda: len(courses()))


ATTEMPT_FIELDS = (
    "remote_id",
    "connection__name",
    "course__name",
    "course_remote_id",
    "user_remote_id",
    "user__first_name",
    "user__last_name",
    "user__mail",
    "user__group__name",
    "progress",
    "score",
    "time_spent_ms",
    "first_activity_at",
    "last_activity_at",
    "completed_at",
    "lang",
    "session_remote_id",
)


def attempts_table(*, filters: ReportFilters) -> Table:
    """Course attempts (one row per attempt of ``/courses/stats``) matching the filters."""
    columns = [
        ("attempt_id", TEXT),
        ("connection", TEXT),
        ("course", TEXT),
        ("course_id", TEXT),
        ("learner_id", TEXT),
        ("first_name", TEXT),
        ("last_name", TEXT),
        ("mail", TEXT),
        ("group", TEXT),
        ("progress", INT),
        ("score", INT),
        ("time_spent_seconds", INT),
        ("first_activity_at", DATETIME),
        ("last_activity_at", DATETIME),
        ("completed_at", DATETIME),
        ("lang", TEXT),
        ("path_session_id", TEXT),
    ]

    def rows() -> Iterator[tuple]:
        attempts = export_values(attempt_list(filters=filters), ATTEMPT_FIELDS, [kind for _, kind in columns])
        for row in cursor_rows(attempts):
            yield (*row[:11], _seconds(row[11]), *row[12:])

    return _table("course-attempts", columns, rows, attempt_list(filters=filters).count)


def module_results_table(*, filters: ReportFilters) -> Table:
    """iSpring results per course and module: one count per completion status, as the API names them."""
    statuses = vocabulary.completion_statuses()
    columns = [
        ("connection", TEXT),
        ("course_id", TEXT),
        ("module_id", TEXT),
        ("module", TEXT),
        ("results", INT),
        *((status, INT) for status in statuses),
        ("overdue", INT),
        ("average_progress", FLOAT),
        ("average_score", FLOAT),
        ("time_spent_seconds", INT),
    ]

    modules = cache(lambda: module_result_summary(filters=filters))

    def rows() -> Iterator[tuple]:
        for row in modules():
            yield (
                row.connection_name,
                row.course_id,
                row.module_id,
                row.module_title,
                row.results,
                *(row.counts[status] for status in statuses),
                row.overdue,
                _round(row.average_progress),
                _round(row.average_score),
                row.total_time_spent_seconds,
            )

    return _table("module-results", columns, rows, lambda: len(modules()))


RESULT_FIELDS = (
    "user_id",
    "user_status",
    "course_id",
    "module_id",
    "module_title",
    "course_item_id",
    "enrollment_id",
    "completion_status",
    "progress",
    "awarded_score",
    "passing_score",
    "time_spent_seconds",
    "access_date",
    "due_date",
    "expiration_date",
    "completion_date",
    "is_overdue",
    "views_count",
)


def module_result_rows_table(*, filters: ReportFilters) -> Table:
    """The iSpring module results themselves (one row per learner and module), as the API lists them."""
    columns = [
        ("user_id", TEXT),
        ("user_status", INT),
        ("course_id", TEXT),
        ("module_id", TEXT),
        ("module", TEXT),
        ("course_item_id", TEXT),
        ("enrollment_id", TEXT),
        ("completion_status", TEXT),
        ("progress", FLOAT),
        ("awarded_score", FLOAT),
        ("passing_score", FLOAT),
        ("time_spent_seconds", INT),
        ("access_date", DATETIME),
        ("due_date", DATETIME),
        ("expiration_date", DATETIME),
        ("completion_date", DATETIME),
        ("overdue", BOOL),
        ("views_count", INT),
    ]

    def rows() -> Iterator[tuple]:
        results = export_values(module_result_list(filters=filters), RESULT_FIELDS, [kind for _, kind in columns])
        yield from cursor_rows(results)

    return _table("module-result-rows", columns, rows, module_result_list(filters=filters).count)


LEARNER_RECORD = "learner record"


def learners_table(*, filters: ReportFilters) -> Table:
    """The Learners report in long format: per person, one row per learner record (how the
    person was matched, the record's own status), then one row per path session, course attempt
    and module result of that record, each with its raw status and reason beside the shared one."""
    columns = [
        ("person_id", INT),
        ("person", TEXT),
        ("mail", TEXT),
        ("matched", TEXT),
        ("connection", TEXT),
        ("lms", TEXT),
        ("learner_id", TEXT),
        ("learner_mail", TEXT),
        ("item_type", TEXT),
        ("item", TEXT),
        ("course_id", TEXT),
        ("raw_status", TEXT),
        ("reason", TEXT),
        ("shared_status", TEXT),
        ("progress", FLOAT),
        ("due_date", DATETIME),
        ("completed_at", DATETIME),
    ]

    def rows() -> Iterator[tuple]:
        people = learner_list(filters=filters).iterator(chunk_size=DB_CHUNK_ROWS)
        for batch in _batched(people, 200):
            for row in learner_rows(batch):
                person = row.person
                head = (person.pk, str(person), person.mail)
                for record in row.records:
                    user, connection = record.user, record.connection
                    learner = (
                        record.record.get_matched_display(),
                        connection.name,
                        connection.get_provider_display(),
                        user.remote_id,
                        user.mail.strip(),
                    )
                    yield (*head, *learner, LEARNER_RECORD, str(user), "", user.status, "", "", None, None, None)
                    for items in record.items.values():
                        for item in items:
                            yield (
                                *head,
                                *learner,
                                item.kind,
                                item.name,
                                item.detail,
                                item.raw_status or item.raw_label,
                                item.reason,
                                item.shared,
                                item.progress,
                                item.due_date,
                                item.completed_at,
                            )

    return _table("learners", columns, rows, lambda: learners_item_count(filters=filters))


# Writers ---------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    # The common case (text that cannot start a formula) without a function call per cell;
    # anything else goes through safe_cell, the one rule for formula-safe cells.
    if value is None:
        return ""
    if isinstance(value, str) and not value.startswith(FORMULA_PREFIXES):
        return value
    return safe_cell(value)


def _iso(value: datetime | date | str | None) -> str:
    if value is None:
        return ""
    if value.__class__ is str:  # SQLite's stored text (``export_values``): UTC
        if len(value) in (19, 26) and value[10] == " ":  # YYYY-MM-DD HH:MM:SS[.ffffff]
            return f"{value[:10]}T{value[11:19]}+00:00"
        try:
            value = _parse_stored(value)
        except ValueError:  # not a date: written as the text it is
            return safe_cell(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:  # naive date-times are UTC (``cursor_rows`` on SQLite)
            return value.isoformat(timespec="seconds") + "+00:00"
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _parse_stored(value: str) -> datetime | date:
    """A date or date-time as SQLite stores it (Django writes UTC without an offset)."""
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def _bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


# The cells converted one by one; ``csv.writer`` writes numbers and text as they are.
TYPED_CSV_CELLS: dict[str, Callable[[Any], str]] = {DATETIME: _iso, BOOL: _bool}


# Where a written cell could start a formula: after a comma or a line break, quoted or not (a
# cell starting with a carriage return is always quoted; unquoted, it is a row's end after an
# empty cell), or at the very start (``_FIRST_CELL``). Numbers may match too (a negative
# score): a match only sends the chunk the slow way. A character class first is twice as fast
# as an alternation with ``\A`` on a 100 kB chunk.
_MAYBE_FORMULA = re.compile(r'[,\n]"?[=+\-@\t]|[,\n]"\r')
_FIRST_CELL = ("=", "+", "-", "@", "\t", '"')


def _may_start_formula(text: str) -> bool:
    return text.startswith(_FIRST_CELL) or _MAYBE_FORMULA.search(text) is not None


def csv_chunks(table: Table, *, sidecar: bool = False) -> Iterator[bytes]:
    """The table as CSV bytes: the BOM, the provenance row when ``sidecar`` (and the table has a
    provenance), the header, then ``CSV_CHUNK_ROWS`` rows per chunk.

    Only date-times and booleans are converted cell by cell; ``csv.writer`` writes numbers and
    text (``None`` as empty). Text that could start a formula is rare, so a chunk is written
    first as it comes and only rewritten with formula-safe text cells when ``_MAYBE_FORMULA``
    finds a cell that might (a call per text cell was a third of a million-row export)."""
    out = CsvBuffer()
    typed = [(i, TYPED_CSV_CELLS[kind]) for i, kind in enumerate(table.kinds) if kind in TYPED_CSV_CELLS]
    texts = [(i, _text) for i, kind in enumerate(table.kinds) if kind == TEXT]
    provenance = table.sidecar() if sidecar else None
    if provenance:
        out.writerow([safe_cell(cell) for cell in provenance])
    out.writerow([safe_cell(name) for name in table.columns])
    yield UTF8_BOM + out.take().encode("utf-8")
    for batch in _batched(table.rows(), CSV_CHUNK_ROWS):
        if typed:
            batch = [_cells(row, typed) for row in batch]
        out.writerows(batch)
        text = out.take()
        if texts and _may_start_formula(text):
            out.writerows([_cells(row, texts) for row in batch])
            text = out.take()
        yield text.encode("utf-8")


def _cells(row: Iterable, converters: list[tuple[int, Callable[[Any], str]]]) -> list:
    row = list(row)
    for position, convert in converters:
        row[position] = convert(row[position])
    return row


def xlsx_write(table: Table, fh: IO[bytes], *, sidecar: bool = False) -> int:
    """Write the table to ``fh`` as an XLSX workbook (``reports.xlsx``: streamed, typed cells),
    with the provenance row above the header when ``sidecar``. Dates are UTC date-times,
    text is always text. Returns the number of data rows."""
    return xlsx.write_workbook(
        fh,
        name=table.name,
        kinds=table.kinds,
        header=table.columns,
        rows=table.rows(),
        top=table.sidecar() if sidecar else None,
    )


def file_format(path: Path) -> str:
    return XLSX if path.suffix.lower() == f".{XLSX}" else CSV


def write_file(table: Table, path: Path, *, sidecar: bool = False) -> int:
    """Write the table to ``path``, XLSX when it ends in ``.xlsx``, else CSV, with the provenance
    row above the header when ``sidecar``. Returns data rows."""
    count = 0

    def counted() -> Iterator[tuple]:
        nonlocal count
        for row in table.rows():
            count += 1
            yield row

    with path.open("wb") as fh:
        if file_format(path) == XLSX:
            xlsx_write(replace(table, rows=counted), fh, sidecar=sidecar)
        else:
            for chunk in csv_chunks(replace(table, rows=counted), sidecar=sidecar):
                fh.write(chunk)
    return count
