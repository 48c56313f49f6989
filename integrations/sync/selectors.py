"""Reads for the sync screens and commands: querysets and small dicts shaped for them."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery
from django_q.models import Schedule

from integrations.models import Connection, SyncRun, SyncState


def sync_run_list(*, connection: Connection | None = None, kind: str = "", state: str = "") -> QuerySet[SyncRun]:
    """Sync runs, newest first, with what the list shows in the same query."""
    runs = SyncRun.objects.select_related("connection", "requested_by").order_by("-created_at", "-pk")
    if connection is not None:
        runs = runs.filter(connection=connection)
    if kind:
        runs = runs.filter(kind=kind)
    if state:
        runs = runs.filter(state=state)
    return runs


def sync_run_latest_by_kind(*, connection: Connection) -> dict[str, SyncRun]:
    """The newest run of each kind of a connection, in one query."""
    newest = SyncRun.objects.filter(connection=OuterRef("connection"), kind=OuterRef("kind")).order_by(
        "-created_at", "-pk"
    )
    runs = SyncRun.objects.filter(connection=connection, pk=Subquery(newest.values("pk")[:1]))
    return {run.kind: run for run in runs}


def sync_run_active(*, connection: Connection, kind: str) -> SyncRun | None:
    return SyncRun.objects.filter(
        connection=connection, kind=kind, state__in=[SyncState.QUEUED, SyncState.RUNNING]
    ).first()


@dataclass(frozen=True)
class ScheduleInfo:
    frequency: str  # django-q2 schedule type: H, D, W
    full_refresh: bool
    next_run: datetime | None


def sync_schedule_list(*, connection: Connection) -> dict[str, ScheduleInfo]:
    """The connection's sync schedules by kind (django-q2 ``Schedule`` rows named
    ``sync:<connection id>:<kind>``)."""
    prefix = f"sync:{connection.pk}:"
    schedules = {}
    for schedule in Schedule.objects.filter(name__startswith=prefix):
        try:
            kwargs = ast.literal_eval(schedule.kwargs or "{}")
        except (SyntaxError, ValueError):
            kwargs = {}
        schedules[schedule.name.removeprefix(prefix)] = ScheduleInfo(
            frequency=schedule.schedule_type,
            full_refresh=bool(isinstance(kwargs, dict) and kwargs.get("full_refresh")),
            next_run=schedule.next_run,
        )
    return schedules


def sync_run_differences(*, run: SyncRun) -> list[dict]:
    """The run's reconciliation as table rows: one per session and status whose local count
    differs from the LMS's own (``local - lms`` in ``difference``)."""
    rows = []
    entries = sorted(run.reconciliation.items(), key=lambda item: (item[1].get("session") or "", item[0]))
    for remote_id, entry in entries:
        for status, counts in entry.get("differences", {}).items():
            rows.append(
                {
                    "session": entry.get("session") or remote_id,
                    "session_remote_id": remote_id,
                    "status": status,
                    "local": counts["local"],
                    "lms": counts["lms"],
                    "difference": counts["local"] - counts["lms"],
                }
            )
    return rows
