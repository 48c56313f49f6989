"""What a running sync carries: its run, its lease, its counters, and the two ways it writes
(``stage`` a listing page by page; ``commit`` the merge together with the run's completion)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncState
from integrations.services.connections import connection_health_record
from integrations.sync import messages
from integrations.sync.prefetch import pages_ahead
from integrations.sync.staging import CacheSpec, MergeCounts, Row, large_sqlite_cache, stage_write

T = TypeVar("T")

#: At most one progress/lease write per this many seconds while pages stream in.
HEARTBEAT_SECONDS = 1.0


class LeaseLost(Exception):
    """The run is no longer ours (the recovery marked it failed, or it finished elsewhere)."""


def lease_until() -> datetime:
    """When a claim taken or renewed now lapses (``settings.SYNC_LEASE_SECONDS``)."""
    return timezone.now() + timedelta(seconds=settings.SYNC_LEASE_SECONDS)


@dataclass
class SyncContext:
    """One execution of one ``SyncRun`` by the worker holding its lease.

    ``full`` says whether this run lists everything (and may mark rows gone) or only what
    changed since ``cursor``; ``next_cursor`` is saved only if the run completes.
    """

    run: SyncRun
    owner: str
    full: bool
    cursor: dict[str, Any]
    started_at: datetime
    source_api: str = ""
    counts: MergeCounts = field(default_factory=MergeCounts)
    pages: int = 0
    next_cursor: dict[str, Any] = field(default_factory=dict)
    reconciliation: dict[str, Any] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    note: str = ""
    _beat_at: float = 0.0

    @property
    def connection(self) -> Connection:
        return self.run.connection

    @property
    def run_id(self) -> int:
        return self.run.pk

    # Progress and lease -----------------------------------------------------------------------
    def heartbeat(self, note: str | None = None, *, force: bool = False) -> None:
        """Show progress and renew the lease (throttled). Raises ``LeaseLost``."""
        if note is not None:
            self.note = note
        now = time.monotonic()
        if not force and now - self._beat_at < HEARTBEAT_SECONDS:
            return
        self._beat_at = now
        renewed = SyncRun.objects.filter(pk=self.run_id, state=SyncState.RUNNING, lease_owner=self.owner).update(
            lease_expires_at=lease_until(),
            pages=self.pages,
            progress_note=self.note[:200],
            source_api=self.source_api[:20],
        )
        if not renewed:
            raise LeaseLost(messages.LEASE_LOST)

    def warn(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def record_difference(self, key: str, *, label: str, differences: dict[str, dict[str, int]]) -> None:
        """Where the cache disagrees with the LMS's own count (``{name: {"local", "lms"}}``): kept
        with the run, which the run page and ``sync_lms`` show under ``label``."""
        self.reconciliation[key] = {"session": label, "differences": differences}

    # Writing -----------------------------------------------------------------------------------
    def stage(
        self,
        spec: CacheSpec,
        records: Iterable[T],
        to_rows: Callable[[list[T]], list[Row]],
        *,
        page_size: int,
        label: str,
    ) -> int:
        """Stage a listing as its pages arrive; returns how many rows it had.

        ``page_size`` is the listing's documented page size, so each batch is one page. The
        next page is fetched while this one is written (``prefetch``); HTTP calls never run
        inside a transaction.
        """
        total = 0
        for batch in pages_ahead(records, page_size):
            stage_write(spec, run_id=self.run_id, rows=to_rows(batch))
            total += len(batch)
            self.pages += 1
            self.heartbeat(f"{label}: {total:,} fetched")
        if total == 0:
            self.pages += 1  # the empty page still had to be asked for
        return total

    def commit(self, apply: Callable[[], None]) -> None:
        """Run ``apply`` (the merges) and mark the run completed, in one transaction, and only
        while we still hold the lease: a run the recovery gave up on can never write late."""
        self.heartbeat("Writing to the cache", force=True)
        with large_sqlite_cache(), transaction.atomic():
            apply()
            # Warnings first: the note is short (200 characters) and they matter more.
            note = " ".join([*self.notes, " · ".join(self.summary)]).strip()
            if len(note) > 200:
                note = note[:199] + "…"
            completed = SyncRun.objects.filter(pk=self.run_id, state=SyncState.RUNNING, lease_owner=self.owner).update(
                state=SyncState.COMPLETED,
                ended_at=timezone.now(),
                full_refresh=self.full,
                pages=self.pages,
                rows_inserted=self.counts.inserted,
                rows_updated=self.counts.updated,
                rows_removed=self.counts.removed,
                next_cursor=self.next_cursor,
                reconciliation=self.reconciliation,
                source_api=self.source_api[:20],
                progress_note=note[:200],
                error="",
                lease_owner="",
                lease_expires_at=None,
            )
            if not completed:
                raise LeaseLost(messages.LEASE_LOST)
            # The LMS just answered every page with these credentials: the connection is healthy.
            connection_health_record(connection_id=self.connection.pk, ok=True)

    def add(self, label: str, counts: MergeCounts) -> None:
        """Count a merge into the run's totals and its one-line summary."""
        self.counts = self.counts + counts
        self.summary.append(f"{label} +{counts.inserted:,} ~{counts.updated:,} -{counts.removed:,}")
