"""Import runs: from an uploaded file to a validated draft, a launch, a cancel or a re-run.

The input layer (reading, mapping, validation) is ``integrations.imports``; reading a draft's
file is ``import_preparation``, executing a launched run ``import_execution``, a run's CSV
files ``import_files`` and its evidence pack ``import_evidence``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Min
from django.utils import timezone

from integrations import imports
from integrations.imports import ColumnMapping, ImportFileError, V1Defaults
from integrations.models import (
    ChunkState,
    ImportChunk,
    ImportLedgerEntry,
    ImportMapping,
    ImportRecord,
    ImportRun,
    ImportState,
    Integration,
    Preparation,
    RecordStatus,
)
from integrations.services.import_preparation import import_run_read
from integrations.signals import send_import_run_finished

BATCH = 2000
NOTHING_TO_SEND = "No valid record to send: fix the file and upload it again."
NOT_READY = "This file is still being read (or needs its column mapping): wait for the preview."
DRAFT_GONE = "This draft was discarded: upload the file again."
ALREADY_IMPORTED_RECENTLY = "This file was imported as run #{run} at {when}: open that run, or send it again anyway."
CANCELLED_NONE_SENT = "Import cancelled before any chunk was sent: nothing reached 360Learning."
CANCELLED_SOME_SENT = (
    "Import cancelled. {sent} chunk(s) were already sent and cannot be recalled (their results are still "
    "collected); {stopped} chunk(s) will not be sent."
)
DRAFT_DISCARDED = "Draft discarded; nothing was sent."
NOT_CANCELLABLE = "This import has already finished; there is nothing to cancel."
ALREADY_IMPORTED_SKIPPED = "Skipped: 360Learning already accepted this exact record for this integration."


def _sha256_of(uploaded) -> str:
    digest = hashlib.sha256()
    for part in uploaded.chunks():
        digest.update(part)
    uploaded.seek(0)
    return digest.hexdigest()


def _idempotency_key(integration: Integration, kind: str, content_sha: str) -> str:
    return hashlib.sha256(f"{integration.pk}:{kind}:{content_sha}".encode()).hexdigest()


def import_run_create(
    *,
    actor,
    integration: Integration,
    kind: str,
    uploaded,
    v1_defaults: V1Defaults | None = None,
    enqueue: bool = True,
    mapping: ColumnMapping | None = None,
    follows: ImportRun | None = None,
) -> ImportRun:
    """Store an uploaded file as a draft whose rows the worker reads next (bounded work: the
    web request only copies the file). ``enqueue=False`` leaves the reading to the caller
    (``import_preparation.import_run_read``), as the command line does.

    ``mapping`` reads the file with these columns (not the one remembered for the integration);
    ``follows`` is the run this one is launched after (its courses count as existing then).

    Raises ``ImportFileError`` for a file over ``IMPORT_MAX_UPLOAD_BYTES``; nothing is kept then.
    """
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if uploaded.size > limit:
        raise ImportFileError(
            imports.messages.FILE_TOO_LARGE.format(size=_megabytes(uploaded.size), limit=_megabytes(limit))
        )
    content_sha = _sha256_of(uploaded)
    name = uploaded.name.rsplit("/", 1)[-1]
    run = ImportRun(
        integration=integration,
        kind=kind,
        launched_by=actor,
        source_name=name[:255],
        source_sha256=content_sha,
        source_size=uploaded.size,
        idempotency_key=_idempotency_key(integration, kind, content_sha),
        v1_defaults=_defaults_json(v1_defaults) if v1_defaults else {},
        preparation=Preparation.READING,
        mapping=mapping.to_json() if mapping else {},
        follows=follows,
    )
    run.source_file.save(name, File(uploaded, name=name), save=False)
    try:
        with transaction.atomic():
            run.save()
            if enqueue:
                from integrations.tasks import import_run_read_enqueue

                import_run_read_enqueue(run.pk)
    except BaseException:
        run.source_file.delete(save=False)  # no file without its draft
        raise
    return run


def import_run_prepare(
    *,
    actor,
    integration: Integration,
    kind: str,
    uploaded,
    v1_defaults: V1Defaults | None = None,
    mapping: ColumnMapping | None = None,
    follows: ImportRun | None = None,
) -> ImportRun:
    """Store the file and read it into a draft run in this process (nothing is sent): the
    command line's path, where no web timeout applies.

    The draft needs a mapping step when ``run.preparation`` is ``needs-mapping``.
    Raises ``ImportFileError`` when the file cannot be read as an import; no run is kept then.
    """
    run = import_run_create(
        actor=actor,
        integration=integration,
        kind=kind,
        uploaded=uploaded,
        v1_defaults=v1_defaults,
        enqueue=False,
        mapping=mapping,
        follows=follows,
    )
    return import_run_read_now(run=run)


def import_run_read_now(*, run: ImportRun) -> ImportRun:
    """Read a stored draft's file in this process (``import_run_create(enqueue=False)``).

    Raises ``ImportFileError`` when the file cannot be read as an import; the draft is
    discarded then.
    """
    import_run_read(run_id=run.pk)
    run.refresh_from_db()
    if run.preparation == Preparation.REFUSED:
        message = run.last_error
        import_run_discard(run=run)
        raise ImportFileError(message)
    return run


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _defaults_json(defaults: V1Defaults) -> dict:
    data = asdict(defaults)
    data["subjects"] = list(data["subjects"])
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items() if v not in (None, (), [])}


#: The ledger's key (kept here for the callers that know it by this module).
payload_sha256 = imports.payload_sha256


def import_run_headers(*, run: ImportRun) -> tuple[list[str], dict[str, str]]:
    """The file's columns and the suggested {column: field} mapping, for the mapping step."""
    return run.source_columns, run.suggested_mapping


def import_run_apply_mapping(*, run: ImportRun, mapping: ColumnMapping, enqueue: bool = True) -> ImportRun:
    """Read the draft again with the admin's mapping (in the worker unless ``enqueue=False``),
    and remember the mapping for the integration."""
    ImportMapping.objects.update_or_create(
        integration=run.integration, kind=run.kind, defaults={"mapping": mapping.to_json()}
    )
    with transaction.atomic():
        ImportRun.objects.filter(pk=run.pk, state=ImportState.DRAFT).exclude(preparation=Preparation.REFUSED).update(
            preparation=Preparation.READING,
            mapping=mapping.to_json(),
            rows_read=0,
            bytes_read=0,
            lease_owner="",
            lease_expires_at=None,
        )
        if enqueue:
            from integrations.tasks import import_run_read_enqueue

            import_run_read_enqueue(run.pk)
    if not enqueue:
        import_run_read(run_id=run.pk)
    run.refresh_from_db()
    return run


def import_run_recent_duplicate(*, run: ImportRun) -> ImportRun | None:
    """The latest launched run of the same content into the same integration, if any."""
    if not run.idempotency_key:
        return None
    return (
        ImportRun.objects.filter(idempotency_key=run.idempotency_key, launched_at__isnull=False)
        .exclude(pk=run.pk)
        .order_by("-launched_at")
        .first()
    )


def _active_twin(run: ImportRun) -> ImportRun | None:
    """A run of the same content still sending: launching this draft would send it twice."""
    if not run.idempotency_key:
        return None
    return (
        ImportRun.objects.filter(
            idempotency_key=run.idempotency_key,
            state__in=[ImportState.QUEUED, ImportState.RUNNING, ImportState.PAUSED],
        )
        .exclude(pk=run.pk)
        .first()
    )


def import_run_recently_imported(*, run: ImportRun) -> ImportRun | None:
    """The run that imported the same content within IMPORT_DUPLICATE_WINDOW_SECONDS, if any:
    the preview asks before sending it again."""
    return _recent_finished_twin(run)


def _recent_finished_twin(run: ImportRun) -> ImportRun | None:
    if not run.idempotency_key:
        return None
    window = timezone.now() - timedelta(seconds=settings.IMPORT_DUPLICATE_WINDOW_SECONDS)
    return (
        ImportRun.objects.filter(idempotency_key=run.idempotency_key, launched_at__gte=window)
        .exclude(pk=run.pk)
        .exclude(state__in=[ImportState.QUEUED, ImportState.RUNNING, ImportState.PAUSED])
        .order_by("-launched_at")
        .first()
    )


class AlreadyImportedRecently(ValueError):
    """The same file was imported moments ago: send again only when the admin says so."""

    def __init__(self, twin: ImportRun) -> None:
        self.twin = twin
        super().__init__(
            ALREADY_IMPORTED_RECENTLY.format(run=twin.pk, when=timezone.localtime(twin.launched_at).strftime("%H:%M"))
        )


@dataclass(frozen=True)
class AlreadyImported:
    count: int
    first_accepted_at: object
    runs: tuple[int, ...]


def import_run_already_imported(*, run: ImportRun) -> AlreadyImported:
    """How many of the draft's valid records 360Learning already accepted for this integration."""
    ledger = ImportLedgerEntry.objects.filter(
        integration=run.integration_id,
        payload_sha256__in=run.records.filter(status=RecordStatus.PENDING).values("payload_sha256"),
    )
    summary = ledger.aggregate(count=Count("pk"), first=Min("accepted_at"))
    runs = tuple(sorted(set(ledger.exclude(run=None).values_list("run_id", flat=True)[:1000])))
    return AlreadyImported(count=summary["count"], first_accepted_at=summary["first"], runs=runs)


def _skip_already_imported(run: ImportRun) -> int:
    imported = ImportLedgerEntry.objects.filter(integration=run.integration_id).values("payload_sha256")
    skipped = run.records.filter(status=RecordStatus.PENDING, payload_sha256__in=imported).update(
        status=RecordStatus.SKIPPED, message=ALREADY_IMPORTED_SKIPPED
    )
    run.skipped_records = skipped
    run.save(update_fields=["skipped_records"])
    return skipped


def import_run_launch(
    *, actor, run: ImportRun, enqueue: bool = True, skip_already_imported: bool = False, send_again: bool = False
) -> ImportRun:
    """Split the valid records into chunks and queue the run. Safe to call twice at once.

    The draft is claimed by a conditional UPDATE (``state='draft'``) inside the transaction
    that makes its chunks: of two launches of one draft (a double click), one claims it and
    the other returns the launched run. The same content while an earlier run of it is still
    sending returns that run (this draft is discarded, if nobody launched it meanwhile).
    Raises ``AlreadyImportedRecently`` when the same content finished importing within
    IMPORT_DUPLICATE_WINDOW_SECONDS, unless ``send_again``; ValueError when there is nothing
    to send, the draft is not ready, or it is gone.
    """
    if run.state != ImportState.DRAFT:
        return run
    if run.preparation != Preparation.READY:
        raise ValueError(NOT_READY)
    if run.valid_records == 0:
        raise ValueError(NOTHING_TO_SEND)
    twin = _active_twin(run)
    if twin is not None:
        _discard_draft(run)
        return twin
    if not send_again and (finished := _recent_finished_twin(run)) is not None:
        raise AlreadyImportedRecently(finished)
    try:
        with transaction.atomic():
            now = timezone.now()
            claimed = ImportRun.objects.filter(
                pk=run.pk, state=ImportState.DRAFT, preparation=Preparation.READY
            ).update(state=ImportState.QUEUED, launched_at=now, launched_by=actor or F("launched_by"))
            if not claimed:
                return _launched_instead(run)
            run.refresh_from_db()
            if skip_already_imported:
                _skip_already_imported(run)
            _make_chunks(run)
            if not run.records_to_send:
                # Everything was imported before: nothing to send, nothing to wait for.
                run.state, run.started_at, run.ended_at = ImportState.COMPLETED, now, now
                run.save(update_fields=["state", "started_at", "ended_at"])
                send_import_run_finished(run.pk)
            elif enqueue:
                from integrations.tasks import import_run_enqueue

                import_run_enqueue(run.pk)
    except IntegrityError:
        # Another run of the same content became active since the twin check (the partial
        # unique index said so): join it, as above.
        twin = _active_twin(run)
        if twin is None:
            raise
        _discard_draft(run)
        return twin
    return run


def _launched_instead(run: ImportRun) -> ImportRun:
    """The run a lost claim should show: this one, launched by the other click."""
    current = ImportRun.objects.filter(pk=run.pk).first()
    if current is None:
        raise ValueError(DRAFT_GONE)
    if current.state == ImportState.DRAFT:
        raise ValueError(NOT_READY)
    return current


def _discard_draft(run: ImportRun) -> None:
    """Discard ``run`` only while it is still a draft: never a run another request launched."""
    if ImportRun.objects.filter(pk=run.pk, state=ImportState.DRAFT).exists():
        with transaction.atomic():
            deleted, _ = ImportRun.objects.filter(pk=run.pk, state=ImportState.DRAFT).delete()
        if deleted and run.source_file:
            run.source_file.delete(save=False)


def import_run_discard(*, run: ImportRun) -> None:
    """Forget a draft and its stored file."""
    if run.source_file:
        run.source_file.delete(save=False)
    run.delete()


def _make_chunks(run: ImportRun) -> None:
    """Group the records still to send (not the ones the ledger skipped) into chunks of the
    kind's limit, in file order: a chunk never goes out empty or short of its count."""
    limit = imports.LIMITS[imports.Kind(run.kind)]
    pending = run.records.filter(status=RecordStatus.PENDING)
    positions = list(pending.order_by("position").values_list("position", flat=True))
    starts = positions[::limit]
    chunks = ImportChunk.objects.bulk_create(
        ImportChunk(run=run, index=i, record_count=min(limit, len(positions) - i * limit)) for i in range(len(starts))
    )
    ends: list[int | None] = [*starts[1:], None] if starts else []
    for chunk, start, end in zip(chunks, starts, ends, strict=True):
        in_chunk = pending.filter(position__gte=start)
        (in_chunk if end is None else in_chunk.filter(position__lt=end)).update(chunk=chunk)


def import_run_cancel(*, run: ImportRun) -> str:
    """Stop every chunk not yet sent; say which were already sent (they cannot be recalled)."""
    if run.state == ImportState.DRAFT:
        _discard_draft(run)
        return DRAFT_DISCARDED
    cancelled = ImportRun.objects.filter(
        pk=run.pk, state__in=[ImportState.QUEUED, ImportState.RUNNING, ImportState.PAUSED]
    ).update(state=ImportState.CANCELLED)
    if not cancelled:
        return NOT_CANCELLABLE
    # Conditional on PENDING: a worker marking a chunk SENDING at this instant wins or loses cleanly.
    stopped = run.chunks.filter(state=ChunkState.PENDING).update(state=ChunkState.CANCELLED)
    sent = run.chunks.exclude(state=ChunkState.CANCELLED).count()
    unfinished = run.chunks.exclude(state__in=[ChunkState.COMPLETED, ChunkState.ERROR, ChunkState.CANCELLED])
    if not unfinished.exists() and ImportRun.objects.filter(pk=run.pk, ended_at__isnull=True).update(
        ended_at=timezone.now()
    ):
        send_import_run_finished(run.pk)
    run.refresh_from_db()
    return CANCELLED_SOME_SENT.format(sent=sent, stopped=stopped) if sent else CANCELLED_NONE_SENT


def import_run_retry_failed(*, actor, run: ImportRun, enqueue: bool = True) -> ImportRun | None:
    """Launch the failed records of a finished run again, as a new run linked to it."""
    failed = list(run.records.filter(status=RecordStatus.ERROR).order_by("position"))
    if not failed or not run.is_finished:
        return None
    digest = hashlib.sha256()
    for record in failed:
        digest.update(json.dumps(record.payload, sort_keys=True).encode())
    retry = ImportRun.objects.create(
        integration=run.integration,
        kind=run.kind,
        launched_by=actor,
        source_name=f"failed records of import #{run.pk}",
        source_format=run.source_format,
        source_sha256=digest.hexdigest(),
        idempotency_key=_idempotency_key(run.integration, run.kind, "retry:" + digest.hexdigest()),
        retry_of=run,
        total_records=len(failed),
        line_unit=run.line_unit,
    )
    ImportRecord.objects.bulk_create(
        (
            ImportRecord(
                run=retry,
                position=i,
                source_line=r.source_line,
                payload=r.payload,
                payload_sha256=r.payload_sha256,
                note=r.note,
                status=RecordStatus.PENDING,
            )
            for i, r in enumerate(failed)
        ),
        batch_size=BATCH,
    )
    return import_run_launch(actor=actor, run=retry, enqueue=enqueue)
