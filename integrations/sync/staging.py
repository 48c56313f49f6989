"""Stage, then merge: how a sync writes the cache without a report ever seeing half a run.

1. **Stage.** Pages are written as they arrive to the cache model's ``…Stage`` twin
   (``lms_cache.models``), keyed ``(run_id, remote_id)``, with the upsert
   ``bulk_create(update_conflicts=True)`` would send (see ``stage_write`` for why it is sent
   directly): one short transaction per page, never one open across an HTTP call. A row seen
   twice in a run (two listings, a repeated page) is staged once, the last version winning.
   Memory holds a page at a time (see ``prefetch``).
2. **Merge.** When every listing of the run is complete, one transaction (the caller's):
   counts what is new, changed and gone; upserts the stage into the cache with a single
   ``INSERT … SELECT … ON CONFLICT DO UPDATE`` whose ``WHERE`` leaves rows whose content did
   not change untouched (so ``synced_at`` says when a row last changed, and an unchanged
   tenant costs reads only); resolves foreign keys to other cached rows in the same statement;
   and, for complete listings only, marks rows the listing no longer returned as gone.
   Readers see the cache before or after, never in between (PostgreSQL MVCC, SQLite WAL).
3. **Discard.** The run's stage rows are deleted whether it completed, failed or lost its
   worker (``stage_discard``; ``sync_runs_recover`` sweeps the stages of dead workers).

The stage upsert and the merge are SQL written once here from the models' metadata (the same
statements run on SQLite ≥ 3.39 and PostgreSQL); everything else goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from operator import itemgetter
from typing import Any

from django.db import connection as db, models, transaction
from django.db.models import Exists, OuterRef

STAGE_BOOKKEEPING = ("id", "run_id", "remote_id")

#: A cache row as the mappers produce it: ``(remote_id, {data field: value})``.
Row = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Reference:
    """A foreign key of the cache resolved at merge time: ``column`` gets the id of the
    ``model`` row (same connection) whose ``remote_id`` is in the stage's ``remote_column``."""

    column: str
    model: type[models.Model]
    remote_column: str


@dataclass(frozen=True)
class CacheSpec:
    """A cache model, its stage twin, and the references its merge resolves."""

    live: type[models.Model]
    stage: type[models.Model]
    references: tuple[Reference, ...] = ()

    @cached_property
    def data_fields(self) -> tuple[str, ...]:
        """Attribute names of the remote content: the stage's fields minus the bookkeeping."""
        return tuple(f.attname for f in self.stage._meta.concrete_fields if f.attname not in STAGE_BOOKKEEPING)

    @cached_property
    def data_columns(self) -> tuple[str, ...]:
        return tuple(self.stage._meta.get_field(name).column for name in self.data_fields)

    @cached_property
    def getter(self) -> Callable[[Mapping[str, Any]], tuple]:
        """The data fields of a mapped row, in column order (one C call per row)."""
        getter = itemgetter(*self.data_fields)
        return getter if len(self.data_fields) > 1 else lambda data: (getter(data),)

    @cached_property
    def adapters(self) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        """``(position, adapter)`` of the data fields whose values need adapting for the driver."""
        adapters = ((i, _adapter(self.stage._meta.get_field(name))) for i, name in enumerate(self.data_fields))
        return tuple((i, adapt) for i, adapt in adapters if adapt is not None)

    @cached_property
    def stage_sql(self) -> str:
        return _stage_sql(self)

    @cached_property
    def merge_sql(self) -> str:
        return _merge_sql(self)

    def __str__(self) -> str:
        return self.live._meta.label


@dataclass
class MergeCounts:
    inserted: int = 0
    updated: int = 0
    removed: int = 0

    def __add__(self, other: MergeCounts) -> MergeCounts:
        return MergeCounts(self.inserted + other.inserted, self.updated + other.updated, self.removed + other.removed)

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.removed


#: SQLite: date-times reach the stage as whole microseconds since 1970 (UTC), and the stage's
#: INSERT turns them into exactly the text Django stores (naive UTC, ``YYYY-MM-DD HH:MM:SS``,
#: then ``.ffffff`` unless zero). Formatting them in Python (``isoformat``) cost a third of
#: staging an attempt, under the GIL that the page being fetched meanwhile needs; SQLite
#: formats them in C while that thread runs (bench/sync_ingest.py).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SQLITE_TEXT_FROM_MICROSECONDS = (
    "CASE WHEN {p} IS NULL THEN NULL ELSE "
    "strftime('%%Y-%%m-%%d %%H:%%M:%%S', ({p} - {frac}) / 1000000, 'unixepoch') "
    "|| CASE WHEN {frac} = 0 THEN '' ELSE printf('.%%06d', {frac}) END END"
)


def _epoch_microseconds(value: datetime | None) -> int | None:
    """An aware date-time as whole microseconds since 1970-01-01 UTC (any offset; exact)."""
    return None if value is None else (value - _EPOCH) // _MICROSECOND


def _sqlite_text_from_microseconds(parameter: str) -> str:
    """SQL turning the microseconds ``parameter`` into Django's SQLite date-time text (floor
    division, so a date before 1970 keeps a positive fraction)."""
    frac = f"(({parameter} %% 1000000) + 1000000) %% 1000000"
    return _SQLITE_TEXT_FROM_MICROSECONDS.format(p=parameter, frac=frac)


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a mapped value reaches the database driver (``None``: as it is)."""
    if isinstance(field, models.DateTimeField):
        # psycopg takes aware datetimes; SQLite's stage INSERT formats microseconds (above).
        return _epoch_microseconds if db.vendor == "sqlite" else None
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_save(value, db)
    return None


# Staging ------------------------------------------------------------------------------------------
def _stage_sql(spec: CacheSpec) -> str:
    """SQLite's page upsert, with numbered parameters (``?3``) so a date-time's expression can
    read its parameter several times."""
    qn = db.ops.quote_name
    columns = ["run_id", "remote_id", *spec.data_columns]
    dates = {
        i + 2
        for i, name in enumerate(spec.data_fields)
        if isinstance(spec.stage._meta.get_field(name), models.DateTimeField)
    }
    values = [_sqlite_text_from_microseconds(f"?{i + 1}") if i in dates else f"?{i + 1}" for i in range(len(columns))]
    return (
        f"INSERT INTO {qn(spec.stage._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES ({', '.join(values)}) "
        f"ON CONFLICT ({qn('run_id')}, {qn('remote_id')}) DO UPDATE SET "
        + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in spec.data_columns)
    )


#: PostgreSQL: the temporary table a page is copied into before it is upserted into the stage.
PAGE_TABLE = "lms_stage_page"


def _stage_copy_sql(spec: CacheSpec) -> tuple[str, str, str]:
    qn = db.ops.quote_name
    stage = qn(spec.stage._meta.db_table)
    columns = ", ".join(qn(c) for c in ["run_id", "remote_id", *spec.data_columns])
    create = f"CREATE TEMPORARY TABLE {PAGE_TABLE} ON COMMIT DROP AS SELECT {columns} FROM {stage} WITH NO DATA"
    copy = f"COPY {PAGE_TABLE} ({columns}) FROM STDIN"
    upsert = (
        f"INSERT INTO {stage} ({columns}) SELECT {columns} FROM {PAGE_TABLE} "
        f"ON CONFLICT ({qn('run_id')}, {qn('remote_id')}) DO UPDATE SET "
        + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in spec.data_columns)
    )
    return create, copy, upsert


def _stage_copy(spec: CacheSpec, params: list[list[Any]]) -> None:
    """PostgreSQL: COPY the page into a temporary table, then upsert it into the stage in one
    statement. Django's client-side binding would have the server parse one ``INSERT`` per row
    (three times slower, measured by bench/sync_ingest.py); prepared statements would not, but
    break behind a transaction-pooling PgBouncer. The temporary table lives in the page's
    transaction only, so a pooled connection never keeps it."""
    create, copy_sql, upsert = _stage_copy_sql(spec)
    # One statement may not upsert a row twice: a row repeated in the page keeps its last version.
    latest = {row[1]: row for row in params}.values()
    with db.cursor() as cursor:
        cursor.execute(create)
        with cursor.cursor.copy(copy_sql) as copy:
            for row in latest:
                copy.write_row(row)
        cursor.execute(upsert)
        cursor.execute(f"DROP TABLE {PAGE_TABLE}")  # at once: the caller's transaction may be longer


def stage_write(spec: CacheSpec, *, run_id: int, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
    """Stage one page of ``(remote_id, {data field: value})`` rows for ``run_id``; returns how many.

    Every data field must be present in each mapping. The page is written in one transaction
    with the ``INSERT … ON CONFLICT (run_id, remote_id) DO UPDATE`` that
    ``bulk_create(update_conflicts=True)`` would send: on SQLite one ``executemany`` of it, on
    PostgreSQL a ``COPY`` then one such statement (``_stage_copy``). At this volume
    ``bulk_create``'s per-value preparation costs about as much as fetching and parsing the page
    (measured in ``bench/sync_ingest.py``), while the mappers already produce typed values.
    """
    getter, adapters = spec.getter, spec.adapters
    params = []
    for remote_id, data in rows:
        values = [run_id, remote_id, *getter(data)]
        for position, adapt in adapters:
            values[position + 2] = adapt(values[position + 2])
        params.append(values)
    if params:
        with transaction.atomic():
            if db.vendor == "postgresql":
                _stage_copy(spec, params)
            else:
                with db.cursor() as cursor:
                    cursor.executemany(spec.stage_sql, params)
    return len(params)


def stage_discard(spec: CacheSpec, *, run_id: int) -> int:
    """Delete the run's stage rows; returns how many there were."""
    staged = spec.stage.objects.filter(run_id=run_id)
    with transaction.atomic():
        if db.vendor == "sqlite" and not spec.stage.objects.exclude(run_id=run_id).exists():
            # Alone in the stage: a DELETE without WHERE lets SQLite drop whole pages instead of
            # removing rows one by one (a million rows: seconds instead of tens of seconds).
            count = staged.count()
            with db.cursor() as cursor:
                cursor.execute(f"DELETE FROM {db.ops.quote_name(spec.stage._meta.db_table)}")
            return count
        # No relation points at a stage row: Django deletes them with one DELETE, loading none.
        return staged.delete()[0]


@contextmanager
def large_sqlite_cache(megabytes: int = 64) -> Iterator[None]:
    """A larger page cache for this connection while merging a big stage on SQLite (index
    maintenance on a million rows thrashes the 2 MB default); restored afterwards."""
    if db.vendor != "sqlite":
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{int(megabytes) * 1024}")
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


# Merging ------------------------------------------------------------------------------------------
def _changed(live: str, other: str, columns: Iterable[str]) -> list[str]:
    """SQL conditions true when a cached row differs from its new version (NULL-safe)."""
    qn = db.ops.quote_name
    return [f"{live}.{qn('gone_at')} IS NOT NULL"] + [
        f"{live}.{qn(c)} IS DISTINCT FROM {other}.{qn(c)}" for c in columns
    ]


def _merge_sql(spec: CacheSpec) -> str:
    qn = db.ops.quote_name
    live_meta, stage_meta = spec.live._meta, spec.stage._meta
    live, stage = qn(live_meta.db_table), qn(stage_meta.db_table)
    references = [live_meta.get_field(ref.column).column for ref in spec.references]

    columns = ["connection_id", "synced_at", "gone_at", "remote_id", *spec.data_columns, *references]
    select = ["%s", "%s", "NULL", "s.remote_id", *(f"s.{qn(c)}" for c in spec.data_columns)]
    for ref in spec.references:
        target = qn(ref.model._meta.db_table)
        remote_column = qn(stage_meta.get_field(ref.remote_column).column)
        select.append(
            f"(SELECT r.{qn('id')} FROM {target} r "
            f"WHERE r.{qn('connection_id')} = %s AND r.{qn('remote_id')} = s.{remote_column})"
        )
    updated = [c for c in columns if c not in ("connection_id", "remote_id")]
    changed = _changed(live, "excluded", [*spec.data_columns, *references])
    # The stage's WHERE also keeps SQLite from reading ON CONFLICT as a join constraint.
    return (
        f"INSERT INTO {live} ({', '.join(qn(c) for c in columns)}) "
        f"SELECT {', '.join(select)} FROM {stage} s WHERE s.{qn('run_id')} = %s "
        f"ON CONFLICT ({qn('connection_id')}, {qn('remote_id')}) DO UPDATE SET "
        + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in updated)
        + f" WHERE {' OR '.join(changed)}"
    )


def stage_merge(spec: CacheSpec, *, run_id: int, connection_id: int, now: datetime) -> MergeCounts:
    """Upsert the run's stage into the cache; returns what was inserted and what changed
    (or came back after being gone). Rows changed only in a resolved foreign key (a learner
    cached since) count as changed too.

    Call inside ``transaction.atomic()`` (which makes the counts exact: no other writer in
    between) together with ``stage_mark_gone`` and whatever else must become visible at the
    same moment.
    """
    cached = spec.live.objects.filter(connection_id=connection_id)
    before = cached.count()
    params: list[Any] = [connection_id, db.ops.adapt_datetimefield_value(now)]
    params += [connection_id] * len(spec.references)
    params.append(run_id)
    with db.cursor() as cursor:
        cursor.execute(spec.merge_sql, params)
        # Rows inserted plus rows whose DO UPDATE ran (its WHERE skips unchanged ones).
        written = cursor.rowcount
    inserted = cached.count() - before
    return MergeCounts(inserted=inserted, updated=written - inserted)


def stage_mark_gone(spec: CacheSpec, *, run_id: int, scope: models.QuerySet, now: datetime) -> int:
    """Mark the cached rows of ``scope`` that the run's complete listing did not return.

    ``scope`` is exactly what the listing covered (a connection's users, one session's
    learners…); never call this after an incremental listing.
    """
    seen = spec.stage.objects.filter(run_id=run_id, remote_id=OuterRef("remote_id"))
    return scope.filter(gone_at__isnull=True).exclude(Exists(seen)).update(gone_at=now)


def link_orphans(
    model: type[models.Model], *, column: str, target: type[models.Model], remote_column: str, connection_id: int
) -> int:
    """Point still-unlinked foreign keys at rows that have since been cached (a course-stats
    sync may run before the users sync that brings the learners)."""
    match = target.objects.filter(connection_id=connection_id, remote_id=OuterRef(remote_column))
    return (
        model.objects.filter(connection_id=connection_id, **{f"{column}__isnull": True})
        .filter(Exists(match))
        .update(**{column: models.Subquery(match.values("pk")[:1])})
    )
