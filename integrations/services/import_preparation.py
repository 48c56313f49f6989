"""Preparing a draft import in the worker: read, validate, predict and store its file's rows.

The web request only stores the upload (``import_runs.import_run_create``); everything that
grows with the file happens here, in a django-q2 task, with the draft's page polling its
progress. Rows are stored a batch at a time, each batch committed together with the run's
progress, so memory stays flat (one batch and a digest per row for duplicates) and other
writers get their turn between batches.

Only the worker holding the draft's lease (``lease_owner``, taken by a conditional UPDATE)
writes its rows; a preparation whose worker died starts again from the top once the lease
lapses (``import_drafts_due`` and the resume schedule). A file that cannot be read leaves no
rows and no stored file: only the draft with the reason, which the page shows.
"""

from __future__ import annotations

import json
import logging
from contextlib import closing, nullcontext
from datetime import timedelta
from itertools import islice
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations import imports, providers
from integrations.imports import ColumnMapping, ImportFileError, InvalidRow, MappingIncomplete, V1Defaults, ValidRecord
from integrations.imports.kinds import Kind
from integrations.models import (
    ImportMapping,
    ImportRecord,
    ImportRun,
    ImportState,
    Integration,
    Preparation,
    RecordStatus,
)
from integrations.services.import_predictions import Predictor
from lms_admin.bulk import insert_rows
from lms_admin.tasks import worker_identity

# The Bulk API client the registry opens (360Learning's); for the annotations only.
if TYPE_CHECKING:
    from integrations.providers.learning360.client import Learning360Client

logger = logging.getLogger(__name__)

READ_BATCH = 2000
FILE_UNREADABLE = (
    "LMS Admin could not read this file (the error was logged for your administrator). Nothing was kept: "
    "check that it is a CSV (UTF-8), XLSX or JSON file, or save it again from your spreadsheet and upload it."
)

#: Refused drafts (no file, no rows: only the reason) are forgotten after this long.
REFUSED_KEPT = timedelta(days=1)


def v1_defaults_of(run: ImportRun) -> V1Defaults:
    return V1Defaults(**run.v1_defaults)


def remembered_mapping(integration: Integration, kind: str) -> ColumnMapping | None:
    saved = ImportMapping.objects.filter(integration=integration, kind=kind).values_list("mapping", flat=True).first()
    try:
        return ColumnMapping.from_json(saved, kind=kind) if saved else None
    except ValueError:
        return None  # made for fields this version no longer has: suggest afresh


class _LiveLearners:
    """Asks 360Learning for learners by e-mail, with one client (one token) for the whole read."""

    def __init__(self, run: ImportRun) -> None:
        self.connection = run.integration.connection
        self.client: Learning360Client | None = None

    def __call__(self, mails: set[str]) -> dict[str, tuple[str, str]]:
        if self.client is None:
            self.client = providers.bulk_client(self.connection)
        users = self.client.users(mail_in=sorted(mails))
        return {user.mail.lower(): (user.id, user.status) for user in users if user.mail}

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


class _LeaseLost(Exception):
    """Another worker took the draft over, or the admin discarded it: stop writing."""


def import_run_read(*, run_id: int, owner: str | None = None) -> bool:
    """Read a draft's stored file into its records, predictions and counts.

    Returns False when the draft is not waiting to be read or another worker holds it. Never
    raises for a bad file: the draft is refused with the reason (``run.last_error``).
    """
    owner = owner or worker_identity()
    if not _claim(run_id, owner):
        return False
    run = ImportRun.objects.select_related("integration").get(pk=run_id)
    try:
        _read(run, owner)
    except _LeaseLost:
        return False
    except MappingIncomplete as needed:
        _finish(
            run,
            owner,
            preparation=Preparation.NEEDS_MAPPING,
            source_columns=list(needed.headers),
            suggested_mapping=needed.suggested.to_json(),
            missing_columns=[r.label for r in needed.missing],
        )
    except ImportFileError as error:
        _refuse(run, owner, f"{str(error)[:1].upper()}{str(error)[1:]}.")
    except Exception:
        # Whatever else broke (a bug, the disk, the database), the admin gets a plain answer and
        # the draft keeps nothing half-read; the traceback goes to the log.
        logger.exception("Reading the file of import #%s failed", run_id)
        _refuse(run, owner, FILE_UNREADABLE)
    return True


def _claim(run_id: int, owner: str) -> bool:
    now = timezone.now()
    return (
        ImportRun.objects.filter(pk=run_id, state=ImportState.DRAFT, preparation=Preparation.READING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now) | Q(lease_owner=owner))
        .update(lease_owner=owner, lease_expires_at=_lease_until())
        == 1
    )


def _lease_until():
    return timezone.now() + timedelta(seconds=settings.IMPORT_LEASE_SECONDS)


def _mine(run: ImportRun, owner: str):
    return ImportRun.objects.filter(
        pk=run.pk, state=ImportState.DRAFT, preparation=Preparation.READING, lease_owner=owner
    )


def _read(run: ImportRun, owner: str) -> None:
    run.records.all().delete()  # a preparation restarted after a crash begins again
    mapping = imports.ColumnMapping.from_json(run.mapping, kind=run.kind) if run.mapping else None
    mapping = mapping or remembered_mapping(run.integration, run.kind)
    live = _LiveLearners(run) if run.kind == Kind.STATS else None
    predictor = Predictor(run, lookup_mails=live)
    position = rows = 0
    with closing(live) if live else nullcontext(), run.source_file.open("rb") as fh:
        stream = imports.open_validation(
            fh, kind=run.kind, filename=run.source_name, mapping=mapping, v1_defaults=v1_defaults_of(run)
        )
        with closing(stream):
            items = iter(stream)
            while batch := list(islice(items, READ_BATCH)):
                rows += len(batch)
                position = _store(
                    run,
                    owner,
                    batch,
                    predictor,
                    columns=stream.summary.columns,
                    position=position,
                    rows_read=rows,
                    at=fh.tell(),
                )
    summary = stream.summary
    _finish(
        run,
        owner,
        preparation=Preparation.READY,
        missing_columns=[],
        line_unit=summary.unit,
        file_notes=list(summary.notes),
        predicted_effects=dict(predictor.counts.most_common()),
        learners_looked_up=predictor.looked_up_live,
        source_format=summary.source_format.value,
        mapping=summary.mapping.to_json() if summary.mapping else {},
        total_records=summary.total,
        invalid_records=summary.invalid_count,
        rows_read=summary.total,
        bytes_read=run.source_size,
    )


def _store(
    run: ImportRun,
    owner: str,
    batch: list[ValidRecord | InvalidRow],
    predictor: Predictor,
    *,
    columns: tuple[str, ...],
    position: int,
    rows_read: int,
    at: int,
) -> int:
    """Store one batch with the run's progress, in one transaction; returns the next position."""
    valid = [item for item in batch if type(item) is ValidRecord]
    predictions = iter(predictor.predict([record.payload for record in valid]))
    rows = []
    for item in batch:
        if type(item) is ValidRecord:
            rows.append(
                (
                    run.pk,
                    position,
                    item.line,
                    RecordStatus.PENDING.value,
                    _json(item.payload),
                    "{}",
                    "",
                    "",
                    "; ".join(item.notes),
                    "",
                    item.sha256,
                    _json(next(predictions)),
                )
            )
            position += 1
        else:
            rows.append(_invalid_row(run, cast(InvalidRow, item), columns=columns))
    with transaction.atomic():
        # The progress UPDATE first: it fails (and nothing is written) once the draft is no
        # longer ours, and on PostgreSQL it holds the row so a discard waits for this batch.
        if not _mine(run, owner).update(rows_read=rows_read, bytes_read=at, lease_expires_at=_lease_until()):
            raise _LeaseLost
        insert_rows(ImportRecord, RECORD_COLUMNS, rows)
    return position


#: The columns ``_store`` writes, in the order of its rows (``chunk_id`` stays NULL until launch).
RECORD_COLUMNS = (
    "run_id",
    "position",
    "source_line",
    "status",
    "payload",
    "source",
    "field",
    "message",
    "note",
    "resource_id",
    "payload_sha256",
    "prediction",
)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _invalid_row(run: ImportRun, row: InvalidRow, *, columns: tuple[str, ...]) -> tuple:
    return (
        run.pk,
        0,
        row.line,
        RecordStatus.INVALID.value,
        None,
        _json(dict(zip(columns, (_cell(c) for c in row.cells), strict=False))),
        ", ".join(dict.fromkeys(e.field for e in row.errors))[:100],
        "; ".join(e.reason for e in row.errors),
        "; ".join(row.notes),
        "",
        "",
        "{}",
    )


def _cell(value) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _finish(run: ImportRun, owner: str, *, preparation: str, **fields) -> None:
    _mine(run, owner).update(preparation=preparation, lease_owner="", lease_expires_at=None, last_error="", **fields)


def _refuse(run: ImportRun, owner: str, reason: str) -> None:
    with transaction.atomic():
        if not _mine(run, owner).update(
            preparation=Preparation.REFUSED, last_error=reason, lease_owner="", lease_expires_at=None
        ):
            return
        run.records.all().delete()
    if run.source_file:
        run.source_file.delete(save=False)
        ImportRun.objects.filter(pk=run.pk).update(source_file="")


def import_drafts_due() -> list[int]:
    """Drafts waiting to be read whose worker is gone (lease lapsed) or never came."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_LEASE_SECONDS)
    return list(
        ImportRun.objects.filter(state=ImportState.DRAFT, preparation=Preparation.READING)
        .filter(Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, created_at__lt=stale))
        .values_list("pk", flat=True)
    )


def import_drafts_purge() -> int:
    """Forget refused drafts once their reason has been shown long enough."""
    refused = ImportRun.objects.filter(
        state=ImportState.DRAFT, preparation=Preparation.REFUSED, created_at__lt=timezone.now() - REFUSED_KEPT
    )
    for run in refused.exclude(source_file=""):
        run.source_file.delete(save=False)  # refusing deletes it; this is for one that crashed in between
    deleted, _ = refused.delete()
    return deleted
