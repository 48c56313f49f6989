"""What every sync kind shares: cursors for incremental listings, a full listing's merge, mappers
over batches. The kinds themselves live in the provider packages
(``integrations/providers/<name>/sync.py``), each of which documents which of its listings are
incremental and why; ``staging`` holds the stage-then-merge machinery.

An incremental kind saves a cursor (``incremental_cursor``) on completion and re-reads
``CURSOR_OVERLAP`` before it (remote clocks, commit lag); it lists everything again when asked,
and on its own once its last full listing is older than ``FULL_REFRESH_AFTER``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction

from integrations.sync import records
from integrations.sync.context import SyncContext
from integrations.sync.staging import CacheSpec, stage_mark_gone, stage_merge
from lms_cache.models import LmsUser
from lms_cache.signals import users_merged

#: An incremental run re-reads this much before the last run started (remote clocks, commit lag).
CURSOR_OVERLAP = timedelta(minutes=10)
#: An incremental kind lists everything again when its last full listing is older than this.
FULL_REFRESH_AFTER = timedelta(days=7)


def parse_cursor_time(cursor: dict, key: str) -> datetime | None:
    value = cursor.get(key)
    return datetime.fromisoformat(value) if value else None


def needs_full_listing(cursor: dict, *, now: datetime) -> bool:
    """True when an incremental kind has no usable cursor or its last full listing is stale."""
    full_at = parse_cursor_time(cursor, "full_at")
    return full_at is None or now - full_at > FULL_REFRESH_AFTER


def incremental_cursor(ctx: SyncContext, key: str) -> dict:
    since = ctx.started_at - CURSOR_OVERLAP
    full_at = ctx.started_at.isoformat() if ctx.full else ctx.cursor.get("full_at")
    return {key: since.isoformat(), "full_at": full_at}


def merge_full(ctx: SyncContext, spec: CacheSpec, label: str, scope_model: type) -> None:
    now = ctx.started_at
    counts = stage_merge(spec, run_id=ctx.run_id, connection_id=ctx.connection.pk, now=now)
    counts.removed = stage_mark_gone(
        spec, run_id=ctx.run_id, scope=scope_model.objects.filter(connection_id=ctx.connection.pk), now=now
    )
    ctx.add(label, counts)


def merge_users(ctx: SyncContext) -> None:
    """A users listing's merge (every provider's): full, then ``users_merged`` once it commits,
    for whoever matches people across connections."""
    merge_full(ctx, records.USERS, "users", LmsUser)
    connection_id, run_id = ctx.connection.pk, ctx.run_id
    transaction.on_commit(lambda: users_merged.send(LmsUser, connection_id=connection_id, run_id=run_id))


def merge_listing(ctx: SyncContext, spec: CacheSpec, label: str, scope_model: type) -> None:
    """An incremental kind's merge: a full listing also marks what it no longer returned as gone."""
    if ctx.full:
        merge_full(ctx, spec, label, scope_model)
    else:
        ctx.add(label, stage_merge(spec, run_id=ctx.run_id, connection_id=ctx.connection.pk, now=ctx.started_at))


def rows_of(mapper: Callable) -> Callable[[list], list]:
    return lambda batch: [mapper(record) for record in batch]
