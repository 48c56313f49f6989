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
    """Integrations with their group's and author's names from the synced cache (``group_name``,
    ``author_name``, ``author_mail``; empty when the cache does not know them)."""
    from django.db.models import TextField, Value
    from django.db.models.functions import Concat, Trim

    from reports.models import LmsGroup, LmsUser

    group = LmsGroup.objects.filter(connection=OuterRef("connection"), remote_id=OuterRef("group_id"))
    author = LmsUser.objects.filter(connection=OuterRef("connection"), remote_id=OuterRef("author_id"))
    return Integration.objects.select_related("connection").annotate(
        group_name=Subquery(group.values("name")[:1]),
        author_name=Subquery(
            author.annotate(full=Trim(Concat("first_name", Value(" "), "last_name", output_field=TextField()))).values(
                "full"
            )[:1]
        ),
        author_mail=Subquery(author.values("mail")[:1]),
    )


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


#: The result filters of a run's records page: name → statuses.
RESULT_FILTERS: dict[str, tuple[str, ...]] = {
    "succeeded": (RecordStatus.SUCCESS,),
    "failed": (RecordStatus.ERROR,),
    "skipped": (RecordStatus.SKIPPED,),
    "pending": (RecordStatus.PENDING,),
}


def import_run_results(*, run: ImportRun, status: str = "", query: str = "") -> QuerySet[ImportRecord]:
    """The run's sent (or skipped) records in file order, narrowed to a result filter
    (``RESULT_FILTERS``) and to a search text: a learner's name or e-mail, a course's name (from
    the synced cache of the run's connection), or any text of the record as sent."""
    records = run.records.exclude(status=RecordStatus.INVALID).order_by("source_line", "pk")
    if status in RESULT_FILTERS:
        records = records.filter(status__in=RESULT_FILTERS[status])
    query = query.strip()
    if not query:
        return records
    from django.db.models import Q, TextField
    from django.db.models.functions import Cast

    from reports.models import Course, LmsUser

    connection_id = run.integration.connection_id
    match = Q(payload_text__icontains=query)
    if run.kind == "stats":
        people = LmsUser.objects.filter(connection_id=connection_id).filter(
            Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(mail__icontains=query)
        )
        people = list(people.values_list("remote_id", "mail")[:500])
        mails = [m for _, m in people if m]
        # A file's e-mail may differ in case from the cache's: both spellings match.
        match |= Q(payload__userIdentifier__value__in=[p for p, _ in people] + mails + [m.lower() for m in mails])
    courses = Course.objects.filter(connection_id=connection_id, name__icontains=query)
    courses = list(courses.values_list("remote_id", "external_id")[:500])
    externals = [e for _, e in courses if e]
    if run.kind == "stats":
        match |= Q(payload__courseIdentifier__value__in=[r for r, _ in courses] + externals)
    else:
        match |= Q(payload__externalId__in=externals)
    return records.annotate(payload_text=Cast("payload", TextField())).filter(match)
