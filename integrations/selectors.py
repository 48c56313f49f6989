"""Reads for the integrations app: querysets shaped for the pages that show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Cast, Concat, Trim
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from integrations import providers
from integrations.models import (
    Connection,
    ImportRecord,
    ImportRun,
    Integration,
    RecordStatus,
    SyncKind,
    SyncRun,
    SyncState,
)
from lms_cache.models import Course, LmsGroup, LmsUser

#: Sync kinds whose data the reports show (the others name things: users, courses, paths).
REPORTED_KINDS = (SyncKind.SESSIONS, SyncKind.COURSE_STATS, SyncKind.MODULE_RESULTS)


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


def connection_dashboard_rows() -> list[dict]:
    """The dashboard's rows: each connection with its latest launched import and latest sync.

    Three queries whatever the number of connections.
    """
    connections = list(connection_dashboard())
    syncs = SyncRun.objects.in_bulk([c.latest_sync_id for c in connections if c.latest_sync_id])
    imports = ImportRun.objects.select_related("integration").in_bulk(
        [c.latest_import_id for c in connections if c.latest_import_id]
    )
    return [
        {"connection": c, "latest_sync": syncs.get(c.latest_sync_id), "latest_import": imports.get(c.latest_import_id)}
        for c in connections
    ]


def connection_sync_overview() -> list[dict]:
    """Every connection, synced or not, with its latest sync and when a sync last completed
    (the Syncs page starts here: a connection without a run must still be one click away)."""
    latest = SyncRun.objects.filter(connection=OuterRef("pk")).order_by("-created_at", "-pk")
    connections = list(
        Connection.objects.annotate(
            latest_sync_id=Subquery(latest.values("pk")[:1]),
            last_completed_at=Max("sync_runs__ended_at", filter=Q(sync_runs__state=SyncState.COMPLETED)),
        )
    )
    runs = SyncRun.objects.in_bulk([c.latest_sync_id for c in connections if c.latest_sync_id])
    return [
        {"connection": c, "latest_sync": runs.get(c.latest_sync_id), "last_completed_at": c.last_completed_at}
        for c in connections
    ]


@dataclass(frozen=True)
class Step:
    """One step of a getting-started checklist, ticked from what the database holds."""

    key: str
    title: str
    done: bool
    hint: str
    url: str = ""  # where it is done; empty while an earlier step is missing
    action: str = ""  # the link's text


def getting_started_steps() -> list[Step]:
    """The admin's first steps, from connecting an LMS to reading a report, each ticked from the
    database state. The integration and import steps exist only for 360Learning: a team with
    iSpring Learn connections alone has nothing to import into."""
    connections = list(Connection.objects.order_by("pk").only("pk", "name", "provider", "last_check_ok"))
    completed = SyncRun.objects.filter(state=SyncState.COMPLETED)
    synced_ids = set(completed.values_list("connection_id", flat=True).distinct())
    first = connections[0] if connections else None
    untested = next((c for c in connections if not c.last_check_ok), first)
    unsynced = next((c for c in connections if c.pk not in synced_ids), first)
    with_integrations = providers.with_integrations()
    learning360 = next((c for c in connections if c.provider in with_integrations), None)
    has_integration = Integration.objects.filter(removed_remotely_at__isnull=True).exists()

    steps = [
        Step(
            "connect",
            "Add a connection",
            bool(connections),
            "Your 360Learning or iSpring Learn tenant, with the API client id and secret.",
            reverse("connection-create"),
            "Add a connection",
        ),
        Step(
            "test",
            "Test it",
            any(c.last_check_ok for c in connections),
            "Checks the credentials and the address; a successful sync counts too.",
            reverse("connection-detail", args=[untested.pk]) if untested else "",
            f"Test “{untested.name}”" if untested else "",
        ),
        Step(
            "sync",
            "Sync it",
            bool(synced_ids),
            "Copies users, courses, paths, sessions and statistics into the local cache the reports read.",
            reverse("connection-syncs", args=[unsynced.pk]) if unsynced else "",
            f"Sync “{unsynced.name}”" if unsynced else "",
        ),
    ]
    if learning360 is not None or not connections:
        steps += [
            Step(
                "integration",
                "Create an integration",
                has_integration,
                "360Learning only: the external platform your imported courses and statistics belong to.",
                reverse("integration-create", args=[learning360.pk]) if learning360 else "",
                "Create an integration" if learning360 else "",
            ),
            Step(
                "import",
                "Import a file",
                ImportRun.objects.filter(launched_at__isnull=False).exists(),
                "A CSV, XLSX or JSON file of external courses or learner statistics, previewed before it is sent.",
                reverse("importrun-create") if has_integration else "",
                "Import a file" if has_integration else "",
            ),
        ]
    steps.append(
        Step(
            "reports",
            "Look at the reports",
            completed.filter(kind__in=REPORTED_KINDS).exists(),
            "Ticks itself once sessions, course statistics or module results have been synced.",
            reverse("report-index") if synced_ids else "",
            "Open the reports" if synced_ids else "",
        )
    )
    return steps


def connection_next_steps(*, connection: Connection) -> list[Step]:
    """What a connection's page suggests next: test it, sync it, create an integration."""
    steps = [
        Step("test", "Test the connection", bool(connection.last_check_ok), "“Test connection” above."),
        Step(
            "sync",
            "Sync it",
            connection.sync_runs.filter(state=SyncState.COMPLETED).exists(),
            "“Sync now” above copies its data into the local cache the reports read.",
            reverse("connection-syncs", args=[connection.pk]),
            "Open its syncs",
        ),
    ]
    if connection.provider_spec is not None and connection.provider_spec.integrations:
        steps.append(
            Step(
                "integration",
                "Create an integration",
                connection.integrations.filter(removed_remotely_at__isnull=True).exists(),
                "Needed to import external courses and learner statistics: “Create an integration” below.",
            )
        )
    return steps


def connection_overview(*, connection: Connection) -> dict:
    """What a connection's page shows besides the connection: its integrations, its latest
    sync, and the next steps still to do."""
    steps = connection_next_steps(connection=connection)
    return {
        "integrations": list(integration_list().filter(connection=connection)),
        "latest_sync": connection.sync_runs.order_by("-created_at", "-pk").first(),
        "next_steps": steps,
        "next_steps_left": [step for step in steps if not step.done],
    }


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _words(moment: datetime) -> str:
    local = timezone.localtime(moment)
    same_year = local.year == timezone.localtime().year
    return date_format(local, "j M H:i" if same_year else "j M Y H:i")


#: What an incremental run of each kind asks the LMS for, from its cursor's date.
CURSOR_ASKS = {
    "completed_at_gte": "attempts completed since {when}",
    "since": "results completed or assigned since {when}",
}


def sync_cursor_words(*, kind: str, cursor: dict) -> str:
    """A cursor as an admin reads it: "attempts completed since 4 Dec 14:16 (last full listing
    1 Dec 09:00)", never its raw keys. An empty cursor lists everything."""
    if not cursor:
        if kind == SyncKind.SESSIONS:
            return "every session (a full listing)"
        return "everything the LMS has (a full listing)"
    parts = []
    for key, template in CURSOR_ASKS.items():
        moment = _when(cursor.get(key))
        if moment is not None:
            parts.append(template.format(when=_words(moment)))
    if kind == SyncKind.SESSIONS:
        parts.append("the sessions not ended, changed or ended recently")
    full_at = _when(cursor.get("full_at"))
    if full_at is not None:
        parts.append(f"(last full listing {_words(full_at)}; one runs at least once a week)")
    return " ".join(parts) or "everything the LMS has (a full listing)"


def integration_list() -> QuerySet[Integration]:
    """Integrations with their group's and author's names from the synced cache (``group_name``,
    ``author_name``, ``author_mail``; empty when the cache does not know them)."""
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
