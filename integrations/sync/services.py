"""Sync runs: launch, execute under a lease, recover from dead workers; per-connection schedules.

A run is executed by whoever claims it: the claim is a conditional UPDATE from ``queued`` to
``running`` that sets a lease (owner, expiry), so two workers never run the same run, and a
task delivered twice is a no-op. The worker renews the lease as pages arrive; the merge and the
run's completion commit together, and only while the lease is still ours. A worker that dies
(killed, OOM, task timeout) leaves a run ``running`` with a lease that lapses: the periodic
``sync_runs_recover`` marks it failed and sweeps its staged rows. Nothing it fetched ever
reached the cache (see ``staging``), so the next run simply starts over.

Cursors: a run starts from the ``next_cursor`` of the last *completed* run of its connection and
kind, and saves its own only on completion, so a failed run never moves the cursor forward.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import Schedule

from integrations import providers
from integrations.clients.errors import (
    AddressRefused,
    AuthError,
    BadResponse,
    LmsError,
    NotFound,
    PermissionDenied,
    RemoteUnavailable,
)
from integrations.models import Connection, SyncKind, SyncRun, SyncState
from integrations.services.connections import connection_health_record
from integrations.sync import kinds, messages, records
from integrations.sync.context import LeaseLost, SyncContext, lease_until
from integrations.sync.queue import sync_runs_enqueue
from integrations.sync.staging import large_sqlite_cache, stage_discard
from lms_admin.tasks import worker_identity

logger = logging.getLogger("integrations.sync")

#: Kinds whose runs may list only what changed; the others always list everything.
#: LMS errors that say something about the connection itself (credentials, address, the
#: LMS down), so a sync failing on them marks it failing; a rate limit or a refused request
#: of ours does not.
CONNECTION_FAULTS = (AuthError, PermissionDenied, NotFound, RemoteUnavailable, BadResponse, AddressRefused)
#: A queued run nobody claimed for this long is enqueued again (a broker may lose a task).
QUEUED_STALE = timedelta(minutes=10)


class SyncNotAllowed(ValueError):
    """The kind does not exist for this connection's provider."""


def sync_kinds_for(*, connection: Connection) -> tuple[str, ...]:
    """The kinds the connection's provider syncs, in the order "all" runs them (the provider
    spec's ``sync_kinds``); none for a provider no longer installed."""
    spec = providers.get_or_none(connection.provider)
    return spec.kinds if spec is not None else ()


def _check_kind(connection: Connection, kind: str) -> None:
    if kind not in sync_kinds_for(connection=connection):
        label = SyncKind(kind).label.lower() if kind in SyncKind.values else kind
        raise SyncNotAllowed(
            messages.KIND_NOT_FOR_PROVIDER.format(provider=connection.get_provider_display(), kind=label)
        )


# Launching ------------------------------------------------------------------------------------
def sync_run_create(
    *, connection: Connection, kind: str, requested_by=None, full_refresh: bool = False
) -> tuple[SyncRun, bool]:
    """A queued run, or the run of that kind already queued or running (``created`` False).

    One active run per connection and kind is a database constraint, so two admins clicking
    "Sync now" at once, or a schedule firing during a manual run, share one run.
    Raises ``SyncNotAllowed``.
    """
    _check_kind(connection, kind)
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                connection=connection, kind=kind, requested_by=requested_by, full_refresh=full_refresh
            )
            return run, True
    except IntegrityError:
        active = SyncRun.objects.filter(
            connection=connection, kind=kind, state__in=[SyncState.QUEUED, SyncState.RUNNING]
        ).first()
        if active is None:  # finished in between: try once more
            return sync_run_create(
                connection=connection, kind=kind, requested_by=requested_by, full_refresh=full_refresh
            )
        return active, False


def sync_run_launch(
    *, connection: Connection, kinds: Sequence[str], requested_by=None, full_refresh: bool = False
) -> list[SyncRun]:
    """Queue a run per kind and enqueue the new ones for the workers, in the given order,
    once the transaction commits. Returns the runs (new or already active)."""
    created = [
        sync_run_create(connection=connection, kind=kind, requested_by=requested_by, full_refresh=full_refresh)
        for kind in kinds
    ]
    sync_runs_enqueue([run.pk for run, is_new in created if is_new])
    return [run for run, _ in created]


# Executing ------------------------------------------------------------------------------------
def sync_cursor_last(*, connection_id: int, kind: str) -> dict:
    """Where the next run of this kind starts: the last completed run's ``next_cursor``."""
    last = (
        SyncRun.objects.filter(connection_id=connection_id, kind=kind, state=SyncState.COMPLETED)
        .order_by("-ended_at", "-pk")
        .values_list("next_cursor", flat=True)
        .first()
    )
    return last or {}


def sync_run_execute(*, run_id: int, owner: str | None = None) -> SyncRun:
    """Execute a queued run to its end (completed or failed) if this worker can claim it.

    Safe to call any number of times from any number of processes: only the claim's winner
    works; the others return the run as it is. LMS errors fail the run with their message
    (``messages.SYNC_FAILED``); other exceptions fail it with ``UNEXPECTED_ERROR`` and are
    logged with their traceback. Never raises for a run that exists.
    """
    owner = owner or worker_identity()
    run = SyncRun.objects.select_related("connection").get(pk=run_id)
    if run.state != SyncState.QUEUED:
        return run
    started_at = timezone.now()
    incremental = run.kind in providers.get(run.connection.provider).incremental_kinds
    cursor = sync_cursor_last(connection_id=run.connection_id, kind=run.kind) if incremental else {}
    full = run.full_refresh or not incremental or kinds.needs_full_listing(cursor, now=started_at)
    claimed = SyncRun.objects.filter(pk=run_id, state=SyncState.QUEUED).update(
        state=SyncState.RUNNING,
        started_at=started_at,
        lease_owner=owner,
        lease_expires_at=lease_until(),
        full_refresh=full,
        cursor={} if full else cursor,
        progress_note="Starting",
        error="",
    )
    if not claimed:
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    ctx = SyncContext(run=run, owner=owner, full=full, cursor={} if full else cursor, started_at=started_at)
    logger.info(
        "Sync #%s (%s of %s) started, %s", run_id, run.kind, run.connection.name, "full" if full else "incremental"
    )
    try:
        providers.get(run.connection.provider).syncer(run.kind)(ctx)
    except LeaseLost:
        logger.warning("Sync #%s: lease lost; stopped without writing", run_id)
    except LmsError as exc:
        detail = exc.message.rstrip(".") + "."
        _fail(ctx, messages.SYNC_FAILED.format(detail=detail))
        if isinstance(exc, CONNECTION_FAULTS):
            kind = SyncKind(run.kind).label.lower()
            connection_health_record(
                connection_id=run.connection_id,
                ok=False,
                error=messages.HEALTH_SYNC_FAILED.format(kind=kind, detail=detail),
            )
    except Exception as exc:
        logger.exception("Sync #%s failed", run_id)
        _fail(ctx, messages.UNEXPECTED_ERROR.format(error=type(exc).__name__))
    finally:
        with large_sqlite_cache():
            for spec in records.ALL_SPECS:
                stage_discard(spec, run_id=run_id)
    run.refresh_from_db()
    logger.info("Sync #%s %s: %s", run_id, run.state, run.error or run.progress_note)
    return run


def _fail(ctx: SyncContext, error: str) -> None:
    SyncRun.objects.filter(pk=ctx.run_id, state=SyncState.RUNNING, lease_owner=ctx.owner).update(
        state=SyncState.FAILED,
        ended_at=timezone.now(),
        error=error,
        pages=ctx.pages,
        source_api=ctx.source_api[:20],
        progress_note=ctx.note[:200],
        lease_owner="",
        lease_expires_at=None,
    )


# Recovering -----------------------------------------------------------------------------------
@dataclass
class Recovery:
    failed: list[int] = field(default_factory=list)
    to_enqueue: list[int] = field(default_factory=list)
    stage_rows_swept: int = 0


def sync_runs_recover(*, now: datetime | None = None) -> Recovery:
    """Fail the runs whose worker is gone (lease lapsed), sweep staged rows no running run owns,
    and name the queued runs nobody claimed for ``QUEUED_STALE`` (the caller enqueues them;
    each at most once per ``QUEUED_STALE``, across processes)."""
    now = now or timezone.now()
    recovery = Recovery()
    lapsed = SyncRun.objects.filter(state=SyncState.RUNNING, lease_expires_at__lt=now)
    for run_id in lapsed.values_list("pk", flat=True):
        if SyncRun.objects.filter(pk=run_id, state=SyncState.RUNNING, lease_expires_at__lt=now).update(
            state=SyncState.FAILED, ended_at=now, error=messages.WORKER_LOST, lease_owner="", lease_expires_at=None
        ):
            logger.warning("Sync #%s: its worker is gone; marked failed", run_id)
            recovery.failed.append(run_id)
    running = SyncRun.objects.filter(state=SyncState.RUNNING).values("pk")
    for spec in records.ALL_SPECS:
        recovery.stage_rows_swept += spec.stage._default_manager.exclude(run_id__in=running).delete()[0]
    stale = SyncRun.objects.filter(state=SyncState.QUEUED, created_at__lt=now - QUEUED_STALE)
    for run_id in stale.values_list("pk", flat=True):
        if cache.add(f"sync-run-requeued:{run_id}", True, timeout=int(QUEUED_STALE.total_seconds())):
            recovery.to_enqueue.append(run_id)
    return recovery


# Schedules ------------------------------------------------------------------------------------
SCHEDULE_FUNC = "integrations.sync.tasks.sync_scheduled"
SCHEDULE_TASK_TIMEOUT = 120
FREQUENCIES = (("", "Off"), (Schedule.HOURLY, "Hourly"), (Schedule.DAILY, "Daily"), (Schedule.WEEKLY, "Weekly"))


def schedule_name(*, connection_id: int, kind: str) -> str:
    return f"sync:{connection_id}:{kind}"


def sync_schedule_save(
    *, connection: Connection, kind: str, frequency: str, full_refresh: bool = False
) -> Schedule | None:
    """Create, change or (frequency "") remove the django-q2 schedule of one connection and kind.

    The schedule only launches a run (``tasks.sync_scheduled``); missed runs are not caught
    up (``catch_up`` is off in settings). Raises ``SyncNotAllowed``, ``ValueError``.
    """
    _check_kind(connection, kind)
    if frequency not in dict(FREQUENCIES):
        raise ValueError(f"unknown frequency {frequency!r}")
    name = schedule_name(connection_id=connection.pk, kind=kind)
    if not frequency:
        Schedule.objects.filter(name=name).delete()
        return None
    kwargs = {
        # Plain values only: django-q2 reads these back with ast.literal_eval.
        "connection_id": connection.pk,
        "kind": str(kind),
        "full_refresh": bool(full_refresh),
        "q_options": {"timeout": SCHEDULE_TASK_TIMEOUT},
    }
    existing = Schedule.objects.filter(name=name).first()
    if existing is None or existing.schedule_type != frequency:
        next_run = timezone.now() + timedelta(minutes=1)
    else:
        next_run = existing.next_run
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": SCHEDULE_FUNC,
            "kwargs": repr(kwargs),
            "schedule_type": frequency,
            "repeats": -1,
            "next_run": next_run,
        },
    )
    return schedule


def sync_schedules_save(*, connection: Connection, choices: dict[str, tuple[str, bool]]) -> list[Schedule]:
    """Save the schedules of several kinds of a connection at once (``{kind: (frequency, full)}``)."""
    with transaction.atomic():
        saved = [
            sync_schedule_save(connection=connection, kind=kind, frequency=frequency, full_refresh=full)
            for kind, (frequency, full) in choices.items()
        ]
    return [schedule for schedule in saved if schedule is not None]


def sync_schedules_remove(*, connection_id: int) -> int:
    """Remove a connection's schedules (its connection is gone)."""
    return Schedule.objects.filter(name__startswith=f"sync:{connection_id}:").delete()[0]
