"""Executing an import run: send chunks, poll bulk operations, store per-record results.

Crash safety rests on three rules:

1. A chunk is marked ``sending`` (committed) before its request leaves, and its operation
   id is committed as soon as the answer arrives, before any polling. A chunk found
   ``sending`` after a crash, or whose answer was lost, is ``uncertain``: it is reconciled
   against the LMS's list of bulk operations, never blindly re-sent.
2. Only the worker holding the run's lease works on it (claimed by a conditional UPDATE);
   a run whose worker died is resumed by another once the lease lapses. A worker takes one
   step per task and never sleeps: between steps the lease is kept for the next step, which
   claims it by its number, and lapses if that step never comes.
3. Remote faults that leave nothing applied (429, 503, an unreachable LMS) put the chunk
   back to ``pending`` with a time for the next attempt; the run pauses, never fails.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations import providers
from integrations.clients import errors
from integrations.imports.kinds import Kind
from integrations.models import (
    BulkSlotBudget,
    ChunkState,
    ImportChunk,
    ImportLedgerEntry,
    ImportRecord,
    ImportRun,
    ImportState,
    RecordStatus,
)
from integrations.signals import send_import_run_finished
from lms_admin.tasks import worker_identity

# The Bulk API client the registry opens (360Learning's); for the annotations only.
if TYPE_CHECKING:
    from integrations.providers.learning360.client import Learning360Client
    from integrations.providers.learning360.resources import BulkOperation

logger = logging.getLogger(__name__)

OPERATION_TYPE = {
    Kind.COURSES: "importExternalCourses",
    Kind.ARCHIVE_COURSES: "archiveExternalCourses",
    Kind.STATS: "importExternalStatistics",
}
IN_FLIGHT = (ChunkState.SENT, ChunkState.QUEUED, ChunkState.RUNNING)
WAITING_FOR_SLOT = "Waiting for a slot: 360Learning runs only a few bulk operations at once."
LMS_UNAVAILABLE = "360Learning is unavailable ({detail}); the run resumes on its own."
CREDENTIALS_REFUSED = "360Learning refused the credentials ({detail}): fix the connection; the run resumes on its own."
ANSWER_LOST = (
    "The answer to this chunk was lost after sending; reconciling with 360Learning before anything is re-sent."
)

NOTHING_CREATED = "No bulk operation appeared for the lost answer within the grace period: sending again."
OPERATION_GONE = "360Learning no longer knows this bulk operation."
CHUNK_REFUSED = "360Learning refused the whole chunk: {detail}"
# A paused run with nothing to do waits at most this long between attempts.
MAX_IDLE_WAIT = 30.0
PERMANENT_RETRY = timedelta(minutes=5)


# Lease ---------------------------------------------------------------------------------------
def _lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=settings.IMPORT_LEASE_SECONDS)


def import_run_claim(*, run_id: int, owner: str, step: int | None = None) -> int | None:
    """Take the run's lease for one step; returns the step's number, or None when not taken.

    Without ``step`` (a first step: launch, resume, a task delivered again) the lease must be
    free, lapsed or already ``owner``'s. With ``step`` (the next step that the previous one
    handed over) the lease must still be ``owner``'s and the run still at that step: of two
    deliveries of one task, only one works.
    """
    now = timezone.now()
    runs = ImportRun.objects.filter(_workable()).filter(pk=run_id)
    if step is None:
        runs = runs.filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now) | Q(lease_owner=owner))
    else:
        runs = runs.filter(lease_owner=owner, steps=step)
    with transaction.atomic():
        claimed = runs.update(
            lease_owner=owner,
            lease_expires_at=_lease_until(),
            state=_keep_cancelled(ImportState.RUNNING),
            started_at=Coalesce(F("started_at"), now),
            steps=F("steps") + 1,
            next_step_at=None,
        )
        if claimed != 1:
            return None
        return ImportRun.objects.values_list("steps", flat=True).get(pk=run_id)


def _workable() -> Q:
    """Runs a worker should execute: active ones, and cancelled ones whose sent chunks still
    have results to collect."""
    return Q(state__in=[ImportState.QUEUED, ImportState.RUNNING, ImportState.PAUSED]) | Q(
        state=ImportState.CANCELLED, ended_at__isnull=True
    )


def _keep_cancelled(state: str) -> Case:
    return Case(When(state=ImportState.CANCELLED, then=Value(ImportState.CANCELLED)), default=Value(state))


def _hand_over(run: ImportRun, owner: str, *, step: int, state: str, last_error: str, due_at: datetime) -> bool:
    """Keep the lease for the next step, due at ``due_at``; False when the lease was lost."""
    return (
        ImportRun.objects.filter(pk=run.pk, lease_owner=owner, steps=step).update(
            lease_expires_at=due_at + timedelta(seconds=settings.IMPORT_LEASE_SECONDS),
            next_step_at=due_at,
            state=_keep_cancelled(state),
            last_error=last_error,
        )
        == 1
    )


def _release(run_id: int, owner: str) -> None:
    ImportRun.objects.filter(pk=run_id, lease_owner=owner).update(
        lease_owner="", lease_expires_at=None, next_step_at=None
    )


# Sending --------------------------------------------------------------------------------------
def _chunk_payloads(chunk: ImportChunk) -> list[Any]:
    return list(chunk.records.order_by("position").values_list("payload", flat=True))


def _send(client: Learning360Client, run: ImportRun, payloads: list[dict]) -> str:
    integration_id = run.integration.remote_id
    if run.kind == Kind.COURSES:
        return client.bulk_courses_upsert(integration_id, payloads)
    if run.kind == Kind.ARCHIVE_COURSES:
        return client.bulk_courses_archive(integration_id, [p["externalId"] for p in payloads])
    return client.bulk_stats_import(integration_id, payloads)


def _backoff(attempts: int, *, base: float = 2.0, cap: float = 120.0) -> timedelta:
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2))


SLOT_REGROW_SECONDS = 60


def _budget(integration_id: int) -> BulkSlotBudget:
    """The integration's slot budget, locked for this transaction (PostgreSQL: row lock;
    SQLite: IMMEDIATE transactions already serialise writers)."""
    budget, _ = BulkSlotBudget.objects.get_or_create(
        integration_id=integration_id,
        defaults={"budget": settings.IMPORT_MAX_IN_FLIGHT, "ceiling": settings.IMPORT_MAX_IN_FLIGHT},
    )
    budget = BulkSlotBudget.objects.select_for_update().get(pk=budget.pk)
    if budget.ceiling != settings.IMPORT_MAX_IN_FLIGHT:
        budget.ceiling = settings.IMPORT_MAX_IN_FLIGHT
        budget.budget = min(budget.budget, budget.ceiling)
    if (
        budget.budget < budget.ceiling
        and budget.shrunk_at
        and (timezone.now() - budget.shrunk_at).total_seconds() > SLOT_REGROW_SECONDS
    ):
        budget.budget += 1  # calm since the last 429: try one more slot
        budget.shrunk_at = timezone.now()
    budget.save()
    return budget


def _take_slot(run: ImportRun, chunk: ImportChunk) -> bool:
    """Mark the chunk ``sending`` if the integration has a free slot and it is the chunk that
    has waited longest among runs being worked on; the mark is committed before the request."""
    now = timezone.now()
    with transaction.atomic():
        budget = _budget(run.integration_id)
        of_integration = ImportChunk.objects.filter(run__integration_id=run.integration_id)
        in_flight = of_integration.filter(state__in=[ChunkState.SENDING, ChunkState.UNCERTAIN, *IN_FLIGHT]).count()
        first_in_line = (
            of_integration.filter(state=ChunkState.PENDING, run__lease_expires_at__gt=now)
            .exclude(run__state=ImportState.CANCELLED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("run__launched_at", "run_id", "index")
            .values_list("pk", flat=True)
            .first()
        )
        if in_flight >= budget.budget or first_in_line != chunk.pk:
            ImportChunk.objects.filter(pk=chunk.pk, state=ChunkState.PENDING).exclude(
                last_error=WAITING_FOR_SLOT
            ).update(last_error=WAITING_FOR_SLOT)
            return False
        return bool(
            ImportChunk.objects.filter(pk=chunk.pk, state=ChunkState.PENDING).update(
                state=ChunkState.SENDING, sent_at=now, send_attempts=F("send_attempts") + 1, last_error=""
            )
        )


def _shrink_budget(integration_id: int) -> None:
    with transaction.atomic():
        budget = _budget(integration_id)
        in_flight = ImportChunk.objects.filter(
            run__integration_id=integration_id, state__in=[ChunkState.UNCERTAIN, *IN_FLIGHT]
        ).count()
        budget.budget = max(1, min(budget.budget - 1, in_flight))
        budget.shrunk_at = timezone.now()
        budget.save(update_fields=["budget", "shrunk_at"])


def _send_chunk(client: Learning360Client, run: ImportRun, chunk: ImportChunk) -> str:
    """Send one pending chunk when it gets a slot. Returns the run-level message for a
    transient fault, or ""."""
    if not _take_slot(run, chunk):
        return ""
    chunk.refresh_from_db()
    try:
        operation_id = _send(client, run, _chunk_payloads(chunk))
    except errors.LmsError as exc:
        return _send_failed(chunk, exc)
    ImportChunk.objects.filter(pk=chunk.pk).update(
        state=ChunkState.SENT, operation_id=operation_id, remote_status="pending", next_attempt_at=timezone.now()
    )
    logger.info("Import #%s chunk %s sent as bulk operation %s", run.pk, chunk.index, operation_id)
    return ""


def _send_failed(chunk: ImportChunk, exc: errors.LmsError) -> str:
    if exc.may_have_been_applied:
        ImportChunk.objects.filter(pk=chunk.pk).update(
            state=ChunkState.UNCERTAIN, last_error=ANSWER_LOST, next_attempt_at=timezone.now()
        )
        return ""
    if isinstance(exc, errors.RateLimited):
        # The LMS has fewer slots than we thought: use fewer, and wait as it asks.
        _shrink_budget(chunk.run.integration_id)
        wait = timedelta(seconds=(exc.retry_after or 2) * random.uniform(1.0, 1.5))
        _back_to_pending(chunk, WAITING_FOR_SLOT, timezone.now() + wait)
        return ""
    if isinstance(exc, errors.AuthError | errors.PermissionDenied):
        message = CREDENTIALS_REFUSED.format(detail=exc.message)
        _back_to_pending(chunk, message, timezone.now() + PERMANENT_RETRY)
        return message
    if exc.permanent:
        # The LMS refused the chunk as a whole (a 400 on the body): every record gets the reason.
        message = CHUNK_REFUSED.format(detail=exc.message)
        ImportChunk.objects.filter(pk=chunk.pk).update(
            state=ChunkState.ERROR, last_error=message, finished_at=timezone.now(), failed=chunk.record_count
        )
        chunk.records.update(status=RecordStatus.ERROR, message=message)
        return ""
    message = LMS_UNAVAILABLE.format(detail=exc.message)
    _back_to_pending(chunk, message, timezone.now() + _backoff(chunk.send_attempts))
    return message


def _back_to_pending(chunk: ImportChunk, message: str, next_attempt_at: datetime) -> None:
    ImportChunk.objects.filter(pk=chunk.pk).update(
        state=ChunkState.PENDING, last_error=message, next_attempt_at=next_attempt_at
    )


# Reconciling a lost answer -------------------------------------------------------------------
def _same_records(results_input: list[dict], payloads: list[dict], kind: str) -> bool:
    if len(results_input) != len(payloads):
        return False
    if kind == Kind.ARCHIVE_COURSES:
        return [r.get("externalId") for r in results_input] == [p["externalId"] for p in payloads]
    keys = ("courseIdentifier", "userIdentifier", "firstActivityAt", "externalId")
    return all(
        {k: r.get(k) for k in keys if k in p} == {k: p[k] for k in keys if k in p}
        for r, p in zip(results_input, payloads, strict=True)
    )


def _reconcile(client: Learning360Client, run: ImportRun, chunk: ImportChunk) -> str:
    """Find the bulk operation a lost answer may have created, by type, time and content."""
    since = (chunk.sent_at or timezone.now()) - timedelta(minutes=2)
    known = set(
        ImportChunk.objects.filter(run__integration__connection=run.integration.connection)
        .exclude(operation_id="")
        .values_list("operation_id", flat=True)
    )
    try:
        candidates = [
            op
            for op in client.bulk_operations(created_at_gte=since, type_eq=OPERATION_TYPE[Kind(run.kind)])
            if op.id not in known
        ]
    except errors.LmsError as exc:
        return LMS_UNAVAILABLE.format(detail=exc.message)
    payloads = _chunk_payloads(chunk)
    unfinished = False
    for op in candidates:
        if not op.is_finished:
            # Reading it is harmless and lets us see it finish; its results then tell
            # whether it holds this chunk's records.
            try:
                op = client.bulk_operation(op.id)
            except errors.LmsError as exc:
                return LMS_UNAVAILABLE.format(detail=exc.message)
        if not op.is_finished:
            unfinished = True
            continue
        try:
            echoed = [dict(r.input) for r in client.bulk_operation_results(op.id)]
        except errors.LmsError as exc:
            return LMS_UNAVAILABLE.format(detail=exc.message)
        if _same_records(echoed, payloads, run.kind):
            ImportChunk.objects.filter(pk=chunk.pk).update(
                state=ChunkState.SENT, operation_id=op.id, remote_status=op.status, last_error="", next_attempt_at=None
            )
            logger.info("Import #%s chunk %s reconciled with bulk operation %s", run.pk, chunk.index, op.id)
            return ""
    grace = timedelta(seconds=settings.IMPORT_RECONCILE_GRACE_SECONDS)
    if not unfinished and chunk.sent_at and timezone.now() - chunk.sent_at > grace:
        _back_to_pending(chunk, NOTHING_CREATED, timezone.now())
    else:
        ImportChunk.objects.filter(pk=chunk.pk).update(next_attempt_at=timezone.now() + timedelta(seconds=2))
    return ""


# Polling and results --------------------------------------------------------------------------
def _poll_wait(chunk: ImportChunk) -> timedelta:
    elapsed = (timezone.now() - chunk.sent_at).total_seconds() if chunk.sent_at else 0
    wait = min(settings.IMPORT_POLL_MAX_SECONDS, max(settings.IMPORT_POLL_MIN_SECONDS, elapsed / 10))
    return timedelta(seconds=wait)


def _poll_chunk(client: Learning360Client, run: ImportRun, chunk: ImportChunk) -> str:
    try:
        operation = client.bulk_operation(chunk.operation_id)
    except errors.NotFound:
        _finish_chunk_with_error(chunk, OPERATION_GONE)
        return ""
    except errors.LmsError as exc:
        ImportChunk.objects.filter(pk=chunk.pk).update(next_attempt_at=timezone.now() + _backoff(2, cap=30))
        return LMS_UNAVAILABLE.format(detail=exc.message)
    if not operation.is_finished:
        ImportChunk.objects.filter(pk=chunk.pk).update(
            state=operation.status if operation.status in ("queued", "running") else ChunkState.SENT,
            remote_status=operation.status,
            progress_index=int(operation.progress_index or 0),
            next_attempt_at=timezone.now() + _poll_wait(chunk),
        )
        return ""
    try:
        results = list(client.bulk_operation_results(chunk.operation_id))
    except errors.LmsError as exc:
        if exc.permanent and operation.status == "error":
            _finish_chunk_with_error(chunk, operation.error_message or exc.message)
            return ""
        ImportChunk.objects.filter(pk=chunk.pk).update(next_attempt_at=timezone.now() + _backoff(2, cap=30))
        return LMS_UNAVAILABLE.format(detail=exc.message)
    _store_results(chunk, operation, results)
    return ""


def _store_results(chunk: ImportChunk, operation: BulkOperation, results: list) -> None:
    records = list(chunk.records.order_by("position"))
    by_index = {r.index: r for r in results}
    missing = operation.error_message or "360Learning returned no result for this record."
    for i, record in enumerate(records):
        result = by_index.get(i)
        if result is not None and result.ok:
            record.status, record.resource_id, record.message = RecordStatus.SUCCESS, result.resource_id or "", ""
        else:
            record.status = RecordStatus.ERROR
            record.message = result.error_message if result is not None else missing
    succeeded = sum(1 for r in records if r.status == RecordStatus.SUCCESS)
    now = timezone.now()
    with transaction.atomic():
        ImportLedgerEntry.objects.bulk_create(
            (
                ImportLedgerEntry(
                    integration_id=chunk.run.integration_id,
                    payload_sha256=r.payload_sha256,
                    run_id=chunk.run_id,
                    accepted_at=now,
                )
                for r in records
                if r.status == RecordStatus.SUCCESS and r.payload_sha256
            ),
            ignore_conflicts=True,  # the first acceptance is the one the ledger keeps
            batch_size=2000,
        )
        # An upsert on the primary key: one statement per batch, where bulk_update's CASE
        # expressions grow quadratically with the batch on SQLite.
        ImportRecord.objects.bulk_create(
            records,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["status", "resource_id", "message"],
            batch_size=2000,
        )
        ImportChunk.objects.filter(pk=chunk.pk).update(
            state=ChunkState.COMPLETED if operation.status == "completed" else ChunkState.ERROR,
            remote_status=operation.status,
            progress_index=len(records),
            finished_at=timezone.now(),
            succeeded=succeeded,
            failed=len(records) - succeeded,
            last_error=operation.error_message or "",
            next_attempt_at=None,
        )


def _finish_chunk_with_error(chunk: ImportChunk, message: str) -> None:
    with transaction.atomic():
        chunk.records.update(status=RecordStatus.ERROR, message=message)
        ImportChunk.objects.filter(pk=chunk.pk).update(
            state=ChunkState.ERROR, last_error=message, finished_at=timezone.now(), failed=chunk.record_count
        )


# Steps ---------------------------------------------------------------------------------------
def _refresh_counts(run: ImportRun) -> None:
    counts = dict(
        run.records.exclude(status=RecordStatus.INVALID).values_list("status").annotate(n=Count("pk")).order_by()
    )
    ImportRun.objects.filter(pk=run.pk).update(
        succeeded_records=counts.get(RecordStatus.SUCCESS, 0), failed_records=counts.get(RecordStatus.ERROR, 0)
    )


def _step(client: Learning360Client, run: ImportRun) -> tuple[str, float]:
    """Do whatever is due now. Returns (transient fault message or "", seconds until next due)."""
    now = timezone.now()
    chunks = list(run.chunks.exclude(state__in=[ChunkState.COMPLETED, ChunkState.ERROR, ChunkState.CANCELLED]))
    fault = ""
    cancelled = run.state == ImportState.CANCELLED
    for chunk in chunks:
        if chunk.next_attempt_at and chunk.next_attempt_at > now:
            continue
        if chunk.state == ChunkState.SENDING:
            # Found mid-send: the process that sent it died before storing the answer.
            ImportChunk.objects.filter(pk=chunk.pk, state=ChunkState.SENDING).update(
                state=ChunkState.UNCERTAIN, last_error=ANSWER_LOST
            )
            chunk.state = ChunkState.UNCERTAIN
        if chunk.state == ChunkState.UNCERTAIN:
            fault = _reconcile(client, run, chunk) or fault
        elif chunk.state in IN_FLIGHT:
            fault = _poll_chunk(client, run, chunk) or fault
        elif chunk.state == ChunkState.PENDING and not cancelled:
            fault = _send_chunk(client, run, chunk) or fault
    remaining = list(
        run.chunks.exclude(state__in=[ChunkState.COMPLETED, ChunkState.ERROR, ChunkState.CANCELLED]).values_list(
            "next_attempt_at", flat=True
        )
    )
    if not remaining:
        return fault, 0.0
    now = timezone.now()
    due = [max(0.0, (t - now).total_seconds()) if t else 0.0 for t in remaining]
    return fault, min(min(due), MAX_IDLE_WAIT)


def _finalize(run: ImportRun) -> None:
    _refresh_counts(run)
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.state != ImportState.CANCELLED:
            run.state = ImportState.COMPLETED
        run.ended_at = timezone.now()
        run.last_error = ""
        run.lease_owner, run.lease_expires_at, run.next_step_at = "", None, None
        run.save(update_fields=["state", "ended_at", "last_error", "lease_owner", "lease_expires_at", "next_step_at"])
        send_import_run_finished(run.pk)


@dataclass(frozen=True)
class StepOutcome:
    """What one step of a run left to do.

    ``finished``: the run is finished. ``due_at``: when the next step is due, to be taken with
    ``owner`` and ``step`` (None when the run is finished or its lease is not this caller's).
    """

    finished: bool
    owner: str = ""
    step: int = 0
    due_at: datetime | None = None


def import_run_step(*, run_id: int, owner: str | None = None, step: int | None = None) -> StepOutcome:
    """Do what is due on the run now (send, poll, fetch results, reconcile), then hand the
    lease over to the next step and say when that one is due. Never waits.

    ``owner``/``step`` are those of the outcome of the previous step; without them this is a
    first step, which only takes a free or lapsed lease. Safe to call from any number of
    workers at once: only the lease holder works.
    """
    owner = owner or worker_identity()
    claimed = import_run_claim(run_id=run_id, owner=owner, step=step)
    if claimed is None:
        return StepOutcome(finished=ImportRun.objects.filter(pk=run_id, ended_at__isnull=False).exists())
    run = ImportRun.objects.select_related("integration__connection").get(pk=run_id)
    handed_over = False
    try:
        if run.state == ImportState.CANCELLED:
            run.chunks.filter(state=ChunkState.PENDING).update(state=ChunkState.CANCELLED)
        with providers.bulk_client(run.integration.connection) as client:
            fault, wait = _step(client, run)
        _refresh_counts(run)
        if not run.chunks.exclude(state__in=[ChunkState.COMPLETED, ChunkState.ERROR, ChunkState.CANCELLED]).exists():
            _finalize(run)
            return StepOutcome(finished=True)
        state = ImportState.PAUSED if fault else ImportState.RUNNING
        due_at = timezone.now() + timedelta(seconds=max(wait, settings.IMPORT_POLL_MIN_SECONDS))
        handed_over = _hand_over(run, owner, step=claimed, state=state, last_error=fault, due_at=due_at)
        if not handed_over:
            logger.warning("Import #%s: lease lost; another worker continues it", run_id)
            return StepOutcome(finished=False)
        return StepOutcome(finished=False, owner=owner, step=claimed, due_at=due_at)
    finally:
        if not handed_over:
            # Finished (nothing to release), lost, or failed: a failed run is free for the
            # next resume instead of waiting for its lease to lapse.
            _release(run_id, owner)


def import_run_execute(
    *,
    run_id: int,
    owner: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_seconds: float | None = None,
) -> bool:
    """Take the run's steps in this process, sleeping between them, until it is finished, its
    lease is lost, or ``max_seconds`` pass. Returns True when the run is finished.

    For the command line (``run_import --wait``) and tests: a worker never sleeps, it takes
    one step per task (integrations.tasks.import_run_execute).
    """
    owner = owner or worker_identity()
    deadline = time.monotonic() + max_seconds if max_seconds else None
    try:
        outcome = import_run_step(run_id=run_id, owner=owner)
        while outcome.due_at is not None:
            wait = max(0.0, (outcome.due_at - timezone.now()).total_seconds())
            if deadline and time.monotonic() + wait > deadline:
                return False
            sleep(wait)
            outcome = import_run_step(run_id=run_id, owner=owner, step=outcome.step)
        return outcome.finished
    finally:
        _release(run_id, owner)


def import_runs_due() -> list[int]:
    """Runs that should be executing but whose worker is gone (lease lapsed or never taken)."""
    now = timezone.now()
    stale_launch = now - timedelta(seconds=settings.IMPORT_LEASE_SECONDS)
    return list(
        ImportRun.objects.filter(_workable())
        .filter(Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, launched_at__lt=stale_launch))
        .values_list("pk", flat=True)
    )
