"""How old a report's numbers are: the last completed sync of the data each report shows, the
stale badge past a connection's threshold, and the numbers of an ended session that can no
longer change (``final``, once a sync ran ``ENDED_GRACE`` after its end). Read by the report
pages, the provenance of the exports (``reports.provenance``) and the fragment cache keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from integrations import providers
from integrations.models import Connection, SyncKind, SyncRun, SyncState
from lms_cache.models import ENDED_GRACE, PathSession
from people.models import PersonRecord
from reports.filters import ReportFilters
from reports.selectors.common import report_connections
from reports.selectors.courses import attempts_filtered
from reports.selectors.learners import learners_filtered
from reports.selectors.module_results import module_results_filtered
from reports.selectors.path_sessions import sessions_filtered

#: A report's data is flagged stale once its last completed sync is older than this, unless its
#: connection sets its own threshold (``Connection.stale_after_hours``).
STALE_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Freshness:
    """How old a report's numbers are: the last completed sync of the data it shows."""

    as_of: datetime | None
    sync_run_id: int | None = None
    source_api: str = ""
    #: The numbers cannot change any more (a session synced once it had ended and settled).
    final: bool = False
    stale_after: timedelta = STALE_AFTER

    @property
    def stale_after_hours(self) -> int:
        return int(self.stale_after.total_seconds() // 3600)

    @property
    def stale(self) -> bool:
        if self.as_of is None:
            return True
        return not self.final and timezone.now() - self.as_of > self.stale_after


@dataclass(frozen=True)
class ReportFreshness:
    """The freshness stamp of one report under its filters.

    ``shown``: the connections whose rows the report shows (their data is what the stamp, the
    stale badge and an export's name speak of); when the report shows no row, every connection
    it reads, so an empty report says why (e.g. "never synced"). ``not_shown``: the other
    connections it reads, which contribute nothing to what is on screen.
    """

    shown: list[tuple[Connection, Freshness]]
    not_shown: list[tuple[Connection, Freshness]] = field(default_factory=list)

    @property
    def never_synced(self) -> list[Connection]:
        """Connections left out of the stamp because they were never synced (nothing of theirs is
        shown yet): worth a word to whoever can sync them."""
        return [connection for connection, fresh in self.not_shown if fresh.as_of is None]


def _report_rows(*, filters: ReportFilters, kind: str) -> QuerySet:
    """The rows a report fed by syncs of ``kind`` shows under ``filters`` (scope included)."""
    if kind == SyncKind.MODULE_RESULTS:
        return module_results_filtered(filters)
    if kind == SyncKind.COURSE_STATS:
        return attempts_filtered(filters)
    return sessions_filtered(filters)


def report_freshness(*, filters: ReportFilters, kind: str) -> ReportFreshness:
    """Per connection the report reads (all of the provider's, or the filtered one): the last
    completed sync of ``kind``, split by whether the report shows rows of that connection.
    One query (an ``EXISTS`` per connection, which stops at its first row)."""
    last = SyncRun.objects.filter(connection=OuterRef("pk"), kind=kind, state=SyncState.COMPLETED).order_by(
        "-ended_at", "-pk"
    )
    rows = _report_rows(filters=filters, kind=kind).order_by()
    connections = report_connections(kind=kind).annotate(
        last_sync_id=Subquery(last.values("pk")[:1]),
        last_sync_at=Subquery(last.values("ended_at")[:1]),
        last_sync_source=Subquery(last.values("source_api")[:1]),
        has_rows=Exists(rows.filter(connection=OuterRef("pk"))),
    )
    if filters.connection is not None:
        connections = connections.filter(pk=filters.connection.pk)
    shown: list[tuple[Connection, Freshness]] = []
    not_shown: list[tuple[Connection, Freshness]] = []
    for c in connections:
        fresh = Freshness(
            c.last_sync_at,
            c.last_sync_id,
            c.last_sync_source or "",
            stale_after=timedelta(hours=c.stale_after_hours),
        )
        (shown if c.has_rows else not_shown).append((c, fresh))
    if not shown:
        return ReportFreshness(shown=not_shown)
    return ReportFreshness(shown=shown, not_shown=not_shown)


def report_data_version(*, connection_id: int | None = None) -> str:
    """What a connection's cached rows (or every connection's) are as of: its last completed
    sync (id and end), ``""`` before any. Every write to the cache is a sync's, so rendered
    report fragments cached under this version are those of the same rows. One query."""
    runs = SyncRun.objects.filter(state=SyncState.COMPLETED)
    if connection_id is not None:
        runs = runs.filter(connection_id=connection_id)
    # By end, not by id: a long run started first may complete after a later one.
    last = runs.order_by("-ended_at", "-pk").values_list("pk", "ended_at").first()
    if last is None:
        return ""
    pk, ended_at = last
    assert ended_at is not None  # a completed run has ended
    return f"{pk}@{ended_at.isoformat()}"


def session_freshness(session: PathSession) -> Freshness:
    """When the session's learner statistics were last swapped in (needs ``stats_run`` and
    ``connection`` selected).

    Syncs stop refreshing a session once it has ended and its final statuses have settled
    (``ENDED_GRACE``); such numbers are final, never stale."""
    run = session.stats_run
    synced = session.stats_synced_at
    final = bool(synced and session.end_date and synced >= session.end_date + ENDED_GRACE)
    return Freshness(
        synced,
        session.stats_run_id,
        run.source_api if run else "",
        final=final,
        stale_after=timedelta(hours=session.connection.stale_after_hours),
    )


#: The syncs the Learners report's rows come from: who the learners are, then their items.
LEARNER_KINDS = (SyncKind.USERS, SyncKind.SESSIONS, SyncKind.COURSE_STATS, SyncKind.MODULE_RESULTS)


@dataclass(frozen=True)
class KindFreshness:
    """The last completed sync of one kind of one connection."""

    connection: Connection
    kind: str
    freshness: Freshness

    @property
    def kind_label(self) -> str:
        return SyncKind(self.kind).label


def learner_freshness(*, filters: ReportFilters) -> list[KindFreshness]:
    """The Learners report's stamp: per connection with people in the report under ``filters``,
    and per kind of ``LEARNER_KINDS`` its provider syncs, the last completed sync. Two queries."""
    people = learners_filtered(filters)
    connections = list(
        Connection.objects.filter(
            Exists(PersonRecord.objects.filter(connection=OuterRef("pk"), person__in=people.values("pk")))
        ).order_by("name")
    )
    last: dict[tuple[int, str], tuple[int | None, datetime | None, str]] = {}
    runs = SyncRun.objects.filter(connection__in=connections, state=SyncState.COMPLETED, kind__in=LEARNER_KINDS)
    for run_id, connection_id, kind, ended_at, source in runs.order_by("ended_at", "pk").values_list(
        "pk", "connection_id", "kind", "ended_at", "source_api"
    ):
        last[(connection_id, kind)] = (run_id, ended_at, source)
    stamps = []
    never: tuple[int | None, datetime | None, str] = (None, None, "")
    for connection in connections:
        spec = providers.get_or_none(connection.provider)
        for kind in LEARNER_KINDS:
            if spec is None or kind not in spec.kinds:
                continue
            sync_id, ended, source_api = last.get((connection.pk, kind), never)
            fresh = Freshness(ended, sync_id, source_api, stale_after=timedelta(hours=connection.stale_after_hours))
            stamps.append(KindFreshness(connection, kind, fresh))
    return stamps
