"""Reads for the integrations app: querysets shaped for the pages that show them."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery

from integrations.models import Connection, ImportRecord, ImportRun, Integration, RecordStatus, SyncRun


def connection_list() -> QuerySet[Connection]:
    return Connection.objects.all()


def connection_dashboard() -> QuerySet[Connection]:
    """Connections with their latest import and sync, in a bounded number of queries."""
    latest_sync = SyncRun.objects.filter(connection=OuterRef("pk")).order_by("-created_at")
    # A draft is not an import yet: the latest one launched, whatever the drafts since.
    latest_import = ImportRun.objects.filter(
        integration__connection=OuterRef("pk"), launched_at__isnull=False
    ).order_by("-launched_at")
    return Connection.objects.annotate(
        latest_sync_id=Subquery(latest_sync.values("pk")[:1]),
        latest_import_id=Subquery(latest_import.values("pk")[:1]),
    )


def integration_list() -> QuerySet[Integration]:
    return Integration.objects.select_related("connection")


def sync_run_list() -> QuerySet[SyncRun]:
    return SyncRun.objects.select_related("connection", "requested_by")


def import_run_list(*, integration=None, kind: str = "", state: str = "") -> QuerySet[ImportRun]:
    runs = ImportRun.objects.select_related("integration__connection", "launched_by", "retry_of")
    if integration:
        runs = runs.filter(integration=integration)
    if kind:
        runs = runs.filter(kind=kind)
    if state:
        runs = runs.filter(state=state)
    return runs


def import_run_preview(*, run: ImportRun, limit: int) -> list[ImportRecord]:
    """The first valid records, as they will be sent."""
    return list(run.records.exclude(status=RecordStatus.INVALID).order_by("position")[:limit])


def import_run_invalid_records(*, run: ImportRun) -> QuerySet[ImportRecord]:
    return run.records.filter(status=RecordStatus.INVALID).order_by("source_line", "pk")


def import_run_notes(*, run: ImportRun) -> list[tuple[str, int]]:
    """Distinct conversion notes (v1 defaults and derivations) with how many rows each concerns."""
    rows = run.records.exclude(note="").values_list("note").annotate(n=Count("pk")).order_by("-n", "note")[:20]
    return list(rows)


def import_run_progress(*, run: ImportRun) -> dict:
    chunks = list(run.chunks.all())
    errors = run.records.filter(status=RecordStatus.ERROR).order_by("source_line")
    return {
        "chunks": chunks,
        "error_count": run.failed_records,
        "errors": list(errors[:200]),
        "records_done": run.done_records,
        "waiting_chunks": sum(1 for c in chunks if c.state == "pending" and c.last_error),
    }
