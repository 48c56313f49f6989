"""Import runs: from an uploaded file to a validated draft, a launch, a cancel or a re-run.

The input layer (reading, mapping, validation) is ``integrations.imports``; executing a
launched run is ``integrations.services.import_execution``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, Min
from django.utils import timezone

from integrations import imports
from integrations.imports import ColumnMapping, ImportFileError, MappingIncomplete, V1Defaults
from integrations.models import (
    ACTIVE_IMPORT_STATES,
    ChunkState,
    ImportChunk,
    ImportLedgerEntry,
    ImportMapping,
    ImportRecord,
    ImportRun,
    ImportState,
    Integration,
    RecordStatus,
)
from integrations.services.import_predictions import import_run_predict

BATCH = 2000
NOTHING_TO_SEND = "No valid record to send: fix the file and upload it again."
ALREADY_LAUNCHED = "This import was already launched."
CANCELLED_NONE_SENT = "Import cancelled before any chunk was sent: nothing reached 360Learning."
CANCELLED_SOME_SENT = (
    "Import cancelled. {sent} chunk(s) were already sent and cannot be recalled (their results are still "
    "collected); {stopped} chunk(s) will not be sent."
)
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


def _v1_defaults(run: ImportRun) -> V1Defaults:
    return V1Defaults(**run.options.get("v1_defaults", {}))


def _remembered_mapping(integration: Integration, kind: str) -> ColumnMapping | None:
    saved = ImportMapping.objects.filter(integration=integration, kind=kind).values_list("mapping", flat=True).first()
    try:
        return ColumnMapping.from_json(saved, kind=kind) if saved else None
    except ValueError:
        return None  # made for fields this version no longer has: suggest afresh


def import_run_prepare(
    *, actor, integration: Integration, kind: str, uploaded, v1_defaults: V1Defaults | None = None
) -> ImportRun:
    """Store the file and validate it into a draft run (nothing is sent).

    The draft needs a mapping step when ``run.options["needs_mapping"]`` is set.
    Raises ``ImportFileError`` when the file cannot be read as an import; no run is kept then.
    """
    content_sha = _sha256_of(uploaded)
    run = ImportRun.objects.create(
        integration=integration,
        kind=kind,
        launched_by=actor,
        source_name=uploaded.name.rsplit("/", 1)[-1][:255],
        source_file=File(uploaded, name=uploaded.name.rsplit("/", 1)[-1]),
        source_sha256=content_sha,
        idempotency_key=_idempotency_key(integration, kind, content_sha),
        options={"v1_defaults": _defaults_json(v1_defaults)} if v1_defaults else {},
    )
    try:
        remembered = _remembered_mapping(integration, kind)
        if remembered is not None:
            with run.source_file.open("rb") as fh:
                headers = imports.read_header(fh, filename=run.source_name)
            remembered = remembered.restricted_to(headers) if headers else None
        _validate_into(run, mapping=remembered)
    except ImportFileError:
        # The file cannot be read as an import (a missing mapping is not an error: the
        # draft waits for the mapping step): keep nothing.
        import_run_discard(run=run)
        raise
    return run


def _defaults_json(defaults: V1Defaults) -> dict:
    data = asdict(defaults)
    data["subjects"] = list(data["subjects"])
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items() if v not in (None, (), [])}


def _validate_into(run: ImportRun, *, mapping: ColumnMapping | None) -> None:
    """Validate the stored file and replace the run's records with the outcome."""
    try:
        with run.source_file.open("rb") as fh:
            report = imports.validate_file(
                fh, kind=run.kind, filename=run.source_name, mapping=mapping, v1_defaults=_v1_defaults(run)
            )
    except MappingIncomplete as needed:
        run.options = {
            **run.options,
            "needs_mapping": True,
            "headers": list(needed.headers),
            "suggested": needed.suggested.to_json(),
            "missing": [r.label for r in needed.missing],
        }
        run.save(update_fields=["options"])
        return
    with transaction.atomic():
        run.records.all().delete()
        ImportRecord.objects.bulk_create(_records(run, report), batch_size=BATCH)
        run.options = {k: v for k, v in run.options.items() if k not in ("needs_mapping", "missing")}
        run.options["unit"] = report.unit
        run.options["file_notes"] = list(report.notes)
        run.source_format = report.source_format.value
        run.mapping = report.mapping.to_json() if report.mapping else {}
        run.total_records = report.total
        run.invalid_records = report.invalid_count
        run.options["predicted"] = dict(import_run_predict(run=run).most_common())
        run.save(update_fields=["options", "source_format", "mapping", "total_records", "invalid_records"])


def payload_sha256(payload: dict) -> str:
    """The ledger's key: the exact payload, independent of key order."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _records(run: ImportRun, report) -> Iterator[ImportRecord]:
    for position, record in enumerate(report.valid):
        yield ImportRecord(
            run=run,
            position=position,
            source_line=record.line,
            status=RecordStatus.PENDING,
            payload=record.payload,
            payload_sha256=payload_sha256(record.payload),
            note="; ".join(record.notes),
        )
    for row in report.invalid:
        yield ImportRecord(
            run=run,
            position=0,
            source_line=row.line,
            status=RecordStatus.INVALID,
            source=dict(zip(report.columns, (_cell(c) for c in row.cells), strict=False)),
            field=", ".join(dict.fromkeys(e.field for e in row.errors))[:100],
            message="; ".join(e.reason for e in row.errors),
            note="; ".join(row.notes),
        )


def _cell(value) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def import_run_headers(*, run: ImportRun) -> tuple[list[str], dict[str, str]]:
    """The file's columns and the suggested {column: field} mapping, for the mapping step."""
    return run.options.get("headers", []), run.options.get("suggested", {})


def import_run_apply_mapping(*, run: ImportRun, mapping: ColumnMapping) -> ImportRun:
    """Validate the draft again with the admin's mapping, and remember it for the integration."""
    ImportMapping.objects.update_or_create(
        integration=run.integration, kind=run.kind, defaults={"mapping": mapping.to_json()}
    )
    _validate_into(run, mapping=mapping)
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
    if not run.idempotency_key:
        return None
    window = timezone.now() - timedelta(seconds=settings.IMPORT_DUPLICATE_WINDOW_SECONDS)
    return (
        ImportRun.objects.filter(idempotency_key=run.idempotency_key, launched_at__gte=window)
        .filter(state__in=[ImportState.QUEUED, ImportState.RUNNING, ImportState.PAUSED, ImportState.COMPLETED])
        .exclude(pk=run.pk)
        .order_by("-launched_at")
        .first()
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


def import_run_launch(*, actor, run: ImportRun, enqueue: bool = True, skip_already_imported: bool = False) -> ImportRun:
    """Split the valid records into chunks and queue the run.

    The same content launched again within IMPORT_DUPLICATE_WINDOW_SECONDS returns the run
    already launched (the draft is discarded) instead of sending it twice.
    Raises ValueError when there is nothing to send or the run is not a draft.
    """
    if run.state != ImportState.DRAFT:
        raise ValueError(ALREADY_LAUNCHED)
    if run.valid_records == 0:
        raise ValueError(NOTHING_TO_SEND)
    twin = _active_twin(run)
    if twin is not None:
        import_run_discard(run=run)
        return twin
    try:
        with transaction.atomic():
            if skip_already_imported:
                _skip_already_imported(run)
            _make_chunks(run)
            run.launched_at = timezone.now()
            if run.records_to_send:
                run.state = ImportState.QUEUED
            else:
                # Everything was imported before: nothing to send, nothing to wait for.
                run.state, run.started_at, run.ended_at = ImportState.COMPLETED, run.launched_at, run.launched_at
                run.save(update_fields=["started_at", "ended_at"])
                enqueue = False
            if actor is not None:
                run.launched_by = actor
            run.save(update_fields=["state", "launched_at", "launched_by"])
            if enqueue:
                from integrations.tasks import import_run_enqueue

                import_run_enqueue(run.pk)
    except IntegrityError:
        # Another process launched the same content a moment ago: join it.
        twin = ImportRun.objects.filter(idempotency_key=run.idempotency_key, state__in=ACTIVE_IMPORT_STATES).exclude(
            pk=run.pk
        )
        twin = twin.first()
        if twin is None:
            raise
        import_run_discard(run=run)
        return twin
    return run


def import_run_discard(*, run: ImportRun) -> None:
    """Forget a draft and its stored file."""
    if run.source_file:
        run.source_file.delete(save=False)
    run.delete()


def _make_chunks(run: ImportRun) -> None:
    limit = imports.LIMITS[imports.Kind(run.kind)]
    total = run.valid_records
    chunks = ImportChunk.objects.bulk_create(
        ImportChunk(run=run, index=i, record_count=min(limit, total - i * limit))
        for i in range((total + limit - 1) // limit)
    )
    for chunk in chunks:
        start = chunk.index * limit
        run.records.filter(status=RecordStatus.PENDING, position__gte=start, position__lt=start + limit).update(
            chunk=chunk
        )


def import_run_cancel(*, run: ImportRun) -> str:
    """Stop every chunk not yet sent; say which were already sent (they cannot be recalled)."""
    if run.state == ImportState.DRAFT:
        import_run_discard(run=run)
        return "Draft discarded; nothing was sent."
    cancelled = ImportRun.objects.filter(
        pk=run.pk, state__in=[ImportState.QUEUED, ImportState.RUNNING, ImportState.PAUSED]
    ).update(state=ImportState.CANCELLED)
    if not cancelled:
        return NOT_CANCELLABLE
    # Conditional on PENDING: a worker marking a chunk SENDING at this instant wins or loses cleanly.
    stopped = run.chunks.filter(state=ChunkState.PENDING).update(state=ChunkState.CANCELLED)
    sent = run.chunks.exclude(state=ChunkState.CANCELLED).count()
    if not run.chunks.exclude(state__in=[ChunkState.COMPLETED, ChunkState.ERROR, ChunkState.CANCELLED]).exists():
        ImportRun.objects.filter(pk=run.pk, ended_at__isnull=True).update(ended_at=timezone.now())
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
        options={"unit": run.options.get("unit", "line")},
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


def import_run_invalid_csv(*, run: ImportRun) -> Iterator[bytes]:
    """The invalid rows with their original cells, line, field and reason (UTF-8 with BOM).

    Read again from the stored file, so the CSV has every original column as uploaded.
    """
    if not run.source_file:
        yield codecs.BOM_UTF8
        return
    mapping = ColumnMapping.from_json(run.mapping, kind=run.kind) if run.mapping else None
    with run.source_file.open("rb") as fh:
        report = imports.validate_file(
            fh, kind=run.kind, filename=run.source_name, mapping=mapping, v1_defaults=_v1_defaults(run)
        )
    yield from imports.error_csv_chunks(report)


ERRORS_CSV_COLUMNS = ["line", "status", "remote_message", "resource_id", "record"]


def import_run_errors_csv(*, run: ImportRun) -> Iterator[bytes]:
    """Every record 360Learning refused, with its message (UTF-8 with BOM, formula-safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield codecs.BOM_UTF8
    writer.writerow(ERRORS_CSV_COLUMNS)
    records = run.records.filter(status=RecordStatus.ERROR).order_by("source_line").iterator(chunk_size=BATCH)
    for n, record in enumerate(records, start=1):
        writer.writerow(
            imports.safe_cell(c)
            for c in (record.source_line, record.status, record.message, record.resource_id, record.payload_json)
        )
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


EVIDENCE_RESULTS_COLUMNS = [
    "source_line",
    "status",
    "chunk",
    "operation_id",
    "resource_id",
    "message",
    "payload_sha256",
]


def import_run_evidence_pack(*, run: ImportRun):
    """A zip for audits: the original file, the payload sent per chunk, the remote operation
    ids, per-row results keyed to source lines, who launched it and when. Returns a file
    object positioned at its start (spooled to disk past a few MB)."""
    import tempfile
    import zipfile

    from django.conf import settings as django_settings

    pack = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned open; FileResponse closes it
    chunks = list(run.chunks.order_by("index"))
    with zipfile.ZipFile(pack, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(_manifest(run, chunks, django_settings.LMS_ADMIN_VERSION), indent=2))
        if run.source_file:
            with run.source_file.open("rb") as fh, zf.open(f"source/{run.source_name}", "w") as out:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    out.write(block)
            with zf.open("invalid-rows.csv", "w") as out:
                for part in import_run_invalid_csv(run=run):
                    out.write(part)
        for chunk in chunks:
            payloads = list(chunk.records.order_by("position").values_list("payload", flat=True))
            body = {"operationId": chunk.operation_id or None, "state": chunk.state, "input": payloads}
            zf.writestr(f"chunks/chunk-{chunk.index + 1:03d}.json", json.dumps(body, ensure_ascii=False))
        with zf.open("results.csv", "w") as out:
            for part in _results_csv(run, {c.pk: c for c in chunks}):
                out.write(part)
    pack.seek(0)
    return pack


def _manifest(run: ImportRun, chunks: list[ImportChunk], version: str) -> dict:
    def when(value):
        return value.isoformat() if value else None

    integration = run.integration
    return {
        "product": f"LMS Admin {version}",
        "run": run.pk,
        "kind": run.kind,
        "state": run.state,
        "retry_of": run.retry_of_id,
        "integration": {
            "remote_id": integration.remote_id,
            "external_platform": integration.external_platform,
            "connection": integration.connection.name,
            "base_url": integration.connection.base_url,
        },
        "launched_by": run.launched_by.get_username() if run.launched_by else "command line",
        "created_at": when(run.created_at),
        "launched_at": when(run.launched_at),
        "started_at": when(run.started_at),
        "ended_at": when(run.ended_at),
        "source": {"name": run.source_name, "sha256": run.source_sha256, "format": run.source_format},
        "mapping": run.mapping,
        "options": {k: v for k, v in run.options.items() if k not in ("headers", "suggested")},
        "counts": {
            "rows": run.total_records,
            "invalid": run.invalid_records,
            "skipped": run.skipped_records,
            "succeeded": run.succeeded_records,
            "failed": run.failed_records,
        },
        "chunks": [
            {
                "index": c.index + 1,
                "records": c.record_count,
                "operation_id": c.operation_id or None,
                "state": c.state,
                "sent_at": when(c.sent_at),
                "finished_at": when(c.finished_at),
                "succeeded": c.succeeded,
                "failed": c.failed,
            }
            for c in chunks
        ],
    }


def _results_csv(run: ImportRun, chunks: dict[int, ImportChunk]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield codecs.BOM_UTF8
    writer.writerow(EVIDENCE_RESULTS_COLUMNS)
    records = run.records.order_by("source_line", "pk").only(
        "source_line", "status", "chunk_id", "resource_id", "message", "payload_sha256"
    )
    for n, r in enumerate(records.iterator(chunk_size=BATCH), start=1):
        chunk = chunks.get(r.chunk_id)
        writer.writerow(
            imports.safe_cell(c)
            for c in (
                r.source_line,
                r.status,
                chunk.index + 1 if chunk else "",
                chunk.operation_id if chunk else "",
                r.resource_id,
                r.message,
                r.payload_sha256,
            )
        )
        if n % 1000 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
