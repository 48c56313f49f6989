"""Reads for the report pages, their exports and ``export_report``: querysets over the local cache.

Every selector takes the same ``ReportFilters`` and starts from one of four base querysets
(``_sessions``, ``_learners``, ``_attempts``, ``_module_results``). They read current cache rows
only (``gone_at`` unset: the LMS still returns them) and pass through ``_in_scope``, the one
place where a manager's scope (``reports.scopes``, ``ReportFilters.scope``) narrows what every
report counts, lists and exports. Nothing here calls the LMS.

Counts on the pages are counts of the learner rows, so a status breakdown always sums to the
enrolled count it shows, also when a scope hides some learners. The sync that refreshes a
session stores them per group, status and reason (``PathSessionLearnerCount``): a reader who
sees every learner reads the whole-session rows, a manager whose scope is made of groups sums
the rows of those groups, and any other reader, or a session synced before those counts
existed, gets the learners counted live (``_status_counts``): the same numbers either way.
``path_session_breakdown`` sets them beside the LMS's own ``user-statuses`` counts, which a
sync stores per session (for readers who see every learner).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Max,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from integrations import providers
from integrations.models import Connection, SyncKind, SyncRun, SyncState
from lms_cache.models import (
    DETAILED_STATUSES,
    ENDED_GRACE,
    STATUS_REASONS,
    Course,
    CourseAttempt,
    LmsGroup,
    ModuleResult,
    Path,
    PathSession,
    PathSessionLearnerCount,
    PathSessionSnapshot,
    PathSessionStatusCounts,
    PathSessionUserStat,
)
from reports import vocabulary
from reports.scopes import ATTEMPT_LEARNER, USER_STAT_LEARNER, LearnerFields, Scope, in_scope

#: A report's data is flagged stale once its last completed sync is older than this, unless its
#: connection sets its own threshold (``Connection.stale_after_hours``).
STALE_AFTER = timedelta(hours=24)
#: Sync snapshots a trend shows (the newest ones).
TREND_POINTS = 30

#: ``ReportFilters.reason`` for "this status, without a reason".
NO_REASON = "none"

SESSION_PHASES = {"upcoming": "Not opened yet", "ongoing": "Ongoing", "ended": "Ended"}


def status_label(status: str, reason: str = "") -> str:
    """ "To retake — mandatory replay"; an unknown status shows as the LMS spells it."""
    label = vocabulary.status_label(status)
    return f"{label} — {vocabulary.reason_label(reason)}" if reason else label


# Filters --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DateRange:
    """Whole days, both ends included, in the current time zone."""

    start: date | None = None
    end: date | None = None

    def __bool__(self) -> bool:
        return self.start is not None or self.end is not None

    def lower(self) -> datetime | None:
        return _day_start(self.start) if self.start else None

    def upper(self) -> datetime | None:
        """The first instant after the range (exclusive bound)."""
        return _day_start(self.end + timedelta(days=1)) if self.end else None

    def filter(self, queryset: QuerySet, field_name: str) -> QuerySet:
        if self.start:
            queryset = queryset.filter(**{f"{field_name}__gte": self.lower()})
        if self.end:
            queryset = queryset.filter(**{f"{field_name}__lt": self.upper()})
        return queryset


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class ReportFilters:
    """What a manager asked to see. Every selector takes one; each reads the fields that concern it.

    Built by the report forms (``reports.forms``) from a query string or the command line.
    ``sort`` is a key of the selector's ``*_SORTS`` (``-`` first for descending).
    """

    #: The reader's scope (``reports.scopes``); ``None``: every learner.
    scope: Scope | None = None
    connection: Connection | None = None
    search: str = ""
    sort: str = ""
    # Path sessions and their learners.
    path: Path | None = None
    active: DateRange = field(default_factory=DateRange)  # sessions open at some point in the range
    phase: str = ""  # SESSION_PHASES
    status: str = ""  # a detailed status type
    reason: str = ""  # a reason, or NO_REASON
    group: LmsGroup | None = None
    # Course attempts.
    course: Course | None = None
    user: str = ""  # a learner's id, mail or name
    completed: DateRange = field(default_factory=DateRange)  # attempts and iSpring results
    # iSpring module results, as the API filters them.
    user_ids: tuple[str, ...] = ()
    course_ids: tuple[str, ...] = ()
    module_ids: tuple[str, ...] = ()
    completion_statuses: tuple[str, ...] = ()
    user_statuses: tuple[int, ...] = ()
    accessed: DateRange = field(default_factory=DateRange)
    due: DateRange = field(default_factory=DateRange)

    def but(self, **changes) -> ReportFilters:
        return replace(self, **changes)


M = TypeVar("M", bound=Model)


def _in_scope(queryset: QuerySet[M], filters: ReportFilters, *, learner: LearnerFields | None) -> QuerySet[M]:
    """The rows ``filters`` may see. ``learner`` says where the model keeps its learner's
    group, mail and custom fields (``None``: it keeps none, so a scoped reader sees no row).

    Every learner query passes here: this is where a manager's scope applies.
    """
    return in_scope(queryset, filters.scope, learner)


def _sessions(filters: ReportFilters) -> QuerySet[PathSession]:
    """Sessions; for a scoped reader, those with at least one learner in scope."""
    sessions = PathSession.objects.current()
    if filters.scope is not None:
        sessions = sessions.filter(Exists(_learners(filters).filter(session=OuterRef("pk"))))
    return sessions


def _learners(filters: ReportFilters) -> QuerySet[PathSessionUserStat]:
    return _in_scope(PathSessionUserStat.objects.current(), filters, learner=USER_STAT_LEARNER)


def _attempts(filters: ReportFilters) -> QuerySet[CourseAttempt]:
    return _in_scope(CourseAttempt.objects.current(), filters, learner=ATTEMPT_LEARNER)


def _module_results(filters: ReportFilters) -> QuerySet[ModuleResult]:
    # iSpring results carry no group, mail or custom field: no scope but every learner selects them.
    return _in_scope(ModuleResult.objects.current(), filters, learner=None)


def _ordered(queryset: QuerySet, sorts: dict[str, tuple[str, ...]], sort: str, default: str) -> QuerySet:
    """Order by a whitelisted sort key; ties broken by primary key so pages never overlap.

    Empty values (NULL) sort last both ways; columns that cannot be NULL are ordered plainly,
    which lets the database walk an index instead of sorting (``NULLS LAST`` defeats SQLite's).
    """
    key = sort.removeprefix("-")
    if key not in sorts:
        sort, key = default, default.removeprefix("-")
    descending = sort.startswith("-")
    order = []
    for name in sorts[key]:
        desc = name.startswith("-") != descending
        name = name.removeprefix("-")
        nullable = _nullable(queryset.model, name)
        expression = F(name)
        order.append(
            expression.desc(nulls_last=True if nullable else None)
            if desc
            else expression.asc(nulls_last=True if nullable else None)
        )
    return queryset.order_by(*order, "-pk" if descending else "pk")


def _nullable(model: type[Model], path: str) -> bool:
    """Whether ``path`` (``"field"`` or ``"relation__field"``) can be NULL, relations included
    (a LEFT JOIN gives NULLs); annotations are assumed nullable."""
    for part in path.split("__"):
        try:
            field_ = model._meta.get_field(part)
        except FieldDoesNotExist:  # an annotation
            return True
        if field_.null:
            return True
        if field_.is_relation:
            model = field_.related_model
    return False


def _words(text: str) -> list[str]:
    return [word for word in text.split() if word][:6]


def _connections(kind: str) -> QuerySet[Connection]:
    """The connections whose provider syncs ``kind`` (the registry knows which do)."""
    return Connection.objects.filter(provider__in=providers.with_kind(kind)).order_by("name")


def report_connections(*, kind: str) -> QuerySet[Connection]:
    """The connections a report fed by syncs of ``kind`` offers in its connection filter."""
    return _connections(kind)


# Freshness ------------------------------------------------------------------------------------
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
        return _module_results_filtered(filters)
    if kind == SyncKind.COURSE_STATS:
        return _attempts_filtered(filters)
    return _sessions_filtered(filters)


def report_freshness(*, filters: ReportFilters, kind: str) -> ReportFreshness:
    """Per connection the report reads (all of the provider's, or the filtered one): the last
    completed sync of ``kind``, split by whether the report shows rows of that connection.
    One query (an ``EXISTS`` per connection, which stops at its first row)."""
    last = SyncRun.objects.filter(connection=OuterRef("pk"), kind=kind, state=SyncState.COMPLETED).order_by(
        "-ended_at", "-pk"
    )
    rows = _report_rows(filters=filters, kind=kind).order_by()
    connections = _connections(kind).annotate(
        last_sync_id=Subquery(last.values("pk")[:1]),
        last_sync_at=Subquery(last.values("ended_at")[:1]),
        last_sync_source=Subquery(last.values("source_api")[:1]),
        has_rows=Exists(rows.filter(connection=OuterRef("pk"))),
    )
    if filters.connection is not None:
        connections = connections.filter(pk=filters.connection.pk)
    shown, not_shown = [], []
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
    return f"{last[0]}@{last[1].isoformat()}" if last else ""


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


# Status counts ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    """One part of a status bar: what it counts (``key`` picks its pattern), its count and share."""

    key: str
    label: str
    count: int
    percent: float


def segments(parts: list[tuple[str, str, int]]) -> list[Segment]:
    """``(key, label, count)`` parts as bar segments, empty ones left out, shares adding up to 100."""
    parts = [part for part in parts if part[2]]
    percents = shares([count for _, _, count in parts])
    return [Segment(key, label, count, p) for (key, label, count), p in zip(parts, percents, strict=True)]


def segment_key(status: str, reason: str = "") -> str:
    return f"{status}-{reason}" if reason else status


@dataclass(frozen=True)
class LegendItem:
    """One entry of a status bar's legend (``templates/reports/_status_legend.html``)."""

    key: str
    label: str
    count: int | None = None
    percent: float | None = None


def status_legend() -> list[LegendItem]:
    """Every detailed status and reason a bar may show, in report order (the overview's legend)."""
    return [LegendItem(segment_key(status, reason), status_label(status, reason)) for status, reason in _leaf_keys({})]


@dataclass
class StatusCounts:
    """Learners per detailed status and reason, e.g. ``{("toRetake", "mandatoryReplay"): 3}``."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    certificates: int = 0

    @property
    def enrolled(self) -> int:
        return sum(self.counts.values())

    def by_type(self) -> dict[str, int]:
        """Per status type in report order (known types always present, unknown ones appended)."""
        totals = dict.fromkeys(DETAILED_STATUSES, 0)
        for (status, _), n in self.counts.items():
            totals[status] = totals.get(status, 0) + n
        return totals

    def successful_rate(self) -> float | None:
        enrolled = self.enrolled
        return round(100 * self.by_type()["successful"] / enrolled, 1) if enrolled else None

    def segments(self) -> list[Segment]:
        """Non-empty (status, reason) parts in report order, percentages summing to 100."""
        return segments(
            [
                (segment_key(status, reason), status_label(status, reason), self.counts.get((status, reason), 0))
                for status, reason in _leaf_keys(self.counts)
            ]
        )


def _leaf_keys(counts: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    """Every (status, reason) the API defines, in report order, then any the LMS added since."""
    keys = []
    for status in DETAILED_STATUSES:
        keys.append((status, ""))
        keys += [(status, reason) for reason in STATUS_REASONS.get(status, ())]
    return keys + sorted(key for key in counts if key not in keys)


def shares(values: list[int], *, decimals: int = 1) -> list[float]:
    """Percentages of ``values`` rounded so that they add up to exactly 100 (largest remainder)."""
    total = sum(values)
    if not total:
        return [0.0 for _ in values]
    scale = 100 * 10**decimals
    exact = [scale * v / total for v in values]
    floors = [math.floor(x) for x in exact]
    order = sorted(range(len(values)), key=lambda i: (exact[i] - floors[i], values[i]), reverse=True)
    for i in order[: scale - sum(floors)]:
        floors[i] += 1
    return [f / 10**decimals for f in floors]


def _status_counts(learners: QuerySet[PathSessionUserStat], *, by_session: bool) -> dict[int | None, StatusCounts]:
    """Learners per status and reason (per session with ``by_session``), counted live."""
    return _tally(
        learners, by_session=by_session, n=Count("pk"), certificates=Count("pk", filter=Q(has_certificate=True))
    )


#: Where ``PathSessionLearnerCount`` keeps what a scope of groups selects (it keeps no mail
#: and no custom field: a scope with a rule is never applied to it, see ``_stored_counts_answer``).
COUNTED_LEARNER = LearnerFields("connection_id", "group_remote_id", "", "")


def _stored_counts_answer(session: PathSession, filters: ReportFilters) -> bool:
    """Whether the counts the session's last sync stored answer ``filters``' reader: they are
    of the learners now cached (not of a sync from before they existed) and the scope is every
    learner or made of groups only (a rule reads mails and custom fields they do not keep)."""
    counted = session.learner_counts_run_id
    return counted is not None and counted == session.stats_run_id and _groups_only(filters)


def _groups_only(filters: ReportFilters) -> bool:
    """Whether stored counts can answer the reader's scope: every learner, or groups only."""
    return filters.scope is None or filters.scope.rule is None


def _stored_rows(filters: ReportFilters) -> QuerySet[PathSessionLearnerCount]:
    """The stored count rows the reader sums: the whole-session rows for every learner, else the
    rows of the scope's groups. Only where ``_groups_only``."""
    rows = PathSessionLearnerCount.objects.all()
    if filters.scope is None:
        return rows.filter(whole_session=True)
    return rows.filter(whole_session=False).filter(filters.scope.q(COUNTED_LEARNER))


def _stored_status_counts(session_ids: list[int], filters: ReportFilters) -> dict[int | None, StatusCounts]:
    """Learners per session, status and reason, summed from the stored counts (only where
    ``_stored_counts_answer``)."""
    rows = _stored_rows(filters).filter(session_id__in=session_ids)
    return _tally(rows, by_session=True, n=Sum("learners"), certificates=Sum("certificates"))


def _tally(rows: QuerySet, *, by_session: bool, n, certificates) -> dict[int | None, StatusCounts]:
    keys = ["session_id", "status_type", "status_reason"] if by_session else ["status_type", "status_reason"]
    rows = (
        rows.order_by().values(*keys).annotate(n=n, certificates=certificates).values_list(*keys, "n", "certificates")
    )
    result: dict[int | None, StatusCounts] = {}
    for row in rows:
        session_id, (status, reason, n, certificates) = (row[0], row[1:]) if by_session else (None, row)
        counts = result.setdefault(session_id, StatusCounts())
        counts.counts[(status, reason)] = counts.counts.get((status, reason), 0) + n
        counts.certificates += certificates
    return result


# Sessions overview ------------------------------------------------------------------------------
SESSION_SORTS = {
    "name": ("name",),
    "path": ("path__name", "name"),
    "start": ("start_date",),
    "end": ("end_date",),
    "enrolled": ("enrolled_count",),
    "completion": ("completion_rate",),
    "synced": ("stats_synced_at",),
}
SESSION_DEFAULT_SORT = "-start"


def _learner_status_q(filters: ReportFilters) -> Q:
    q = Q(status_type=filters.status) if filters.status else Q()
    if filters.reason:
        q &= Q(status_reason="" if filters.reason == NO_REASON else filters.reason)
    return q


def _sessions_filtered(filters: ReportFilters) -> QuerySet[PathSession]:
    """The sessions the overview lists under ``filters``, unsorted."""
    sessions = _sessions(filters)
    if filters.connection is not None:
        sessions = sessions.filter(connection=filters.connection)
    if filters.path is not None:
        sessions = sessions.filter(path=filters.path)
    if filters.active.start:
        sessions = sessions.filter(Q(end_date__isnull=True) | Q(end_date__gte=filters.active.lower()))
    if filters.active.end:
        sessions = sessions.filter(start_date__lt=filters.active.upper())
    now = timezone.now()
    if filters.phase == "upcoming":
        sessions = sessions.filter(start_date__gt=now)
    elif filters.phase == "ongoing":
        sessions = sessions.filter(Q(end_date__isnull=True) | Q(end_date__gte=now), start_date__lte=now)
    elif filters.phase == "ended":
        sessions = sessions.filter(end_date__lt=now)
    if filters.status or filters.reason:
        matching = _learners(filters).filter(_learner_status_q(filters), session=OuterRef("pk"))
        sessions = sessions.filter(Exists(matching))
    for word in _words(filters.search):
        sessions = sessions.filter(Q(name__icontains=word) | Q(path__name__icontains=word))
    return sessions


def path_session_list(*, filters: ReportFilters) -> QuerySet[PathSession]:
    """Path sessions matching ``filters`` (connection, path, open in the ``active`` range,
    ``phase``, with a learner in ``status``/``reason``, ``search`` in the session or path name),
    sorted by ``SESSION_SORTS``, with their path, connection and stats run."""
    sessions = _sessions_filtered(filters).select_related("path", "connection", "stats_run")
    sorts = SESSION_SORTS
    key = filters.sort.removeprefix("-")
    enrolled = F("enrolled_count")
    if filters.scope is not None and key in ("enrolled", "completion"):
        # The stored count covers the whole session: sort by the learners in scope instead.
        sessions = sessions.annotate(enrolled_in_scope=Coalesce(_learner_count(filters, status=""), 0))
        enrolled = F("enrolled_in_scope")
        sorts = {**SESSION_SORTS, "enrolled": ("enrolled_in_scope",)}
    if key == "completion":
        successful = _learner_count(filters, status="successful")
        sessions = sessions.annotate(completion_rate=Cast(Coalesce(successful, 0), FloatField()) / NullIf(enrolled, 0))
    return _ordered(sessions, sorts, filters.sort, SESSION_DEFAULT_SORT)


def _learner_count(filters: ReportFilters, *, status: str) -> Subquery | Case:
    """The learners (in ``status``, when given) of the outer session that ``filters`` may see:
    summed from the session's stored counts where they answer, else counted live."""
    learners = _learners(filters).filter(session=OuterRef("pk"))
    if status:
        learners = learners.filter(status_type=status)
    live = Subquery(learners.order_by().values("session").annotate(n=Count("pk")).values("n"))
    if not _groups_only(filters):
        return live
    rows = _stored_rows(filters).filter(session=OuterRef("pk"))
    if status:
        rows = rows.filter(status_type=status)
    stored = Subquery(rows.order_by().values("session").annotate(n=Sum("learners")).values("n"))
    # As _stored_counts_answer, per row: the database evaluates only the branch it takes.
    return Case(When(learner_counts_run_id=F("stats_run_id"), then=stored), default=live)


def path_session_status_counts(*, sessions: list[PathSession], filters: ReportFilters) -> dict[int, StatusCounts]:
    """Learners per status and reason of each of ``sessions`` (a page of them): one query over
    the counts their syncs stored, and one counting the learners of those without usable ones."""
    ids = [session.pk for session in sessions]
    if not ids:
        return {}
    stored = [session.pk for session in sessions if _stored_counts_answer(session, filters)]
    live = [pk for pk in ids if pk not in set(stored)]
    counts = _stored_status_counts(stored, filters) if stored else {}
    if live:
        counts |= _status_counts(_learners(filters).filter(session_id__in=live), by_session=True)
    return {pk: counts.get(pk, StatusCounts()) for pk in ids}


def path_session_phase(session: PathSession, *, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if session.start_date > now:
        return "upcoming"
    if session.end_date is not None and session.end_date < now:
        return "ended"
    return "ongoing"


# One path session -------------------------------------------------------------------------------
def path_session_get(*, pk: int, filters: ReportFilters) -> PathSession:
    """The session with its path, connection, stats run and the LMS's counts; raises
    ``PathSession.DoesNotExist``."""
    return _sessions(filters).select_related("path", "connection", "stats_run", "lms_counts").get(pk=pk)


def path_session_find(*, reference: str, filters: ReportFilters) -> PathSession:
    """A session by its 360Learning id, or else by its local id (the command line's ``--session``)."""
    sessions = _sessions(filters).select_related("path", "connection", "stats_run")
    if filters.connection is not None:
        sessions = sessions.filter(connection=filters.connection)
    found = list(sessions.filter(remote_id=reference)[:2])
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise PathSession.MultipleObjectsReturned(reference)
    if reference.isdigit():
        return sessions.get(pk=int(reference))
    raise PathSession.DoesNotExist(reference)


@dataclass(frozen=True)
class BreakdownRow:
    status: str
    reason: str
    count: int
    percent: float
    lms_count: int | None  # the LMS counts per status type: set on a type's first row only
    type_rows: int  # rows of this status type (rowspan) on its first row, else 0

    @property
    def label(self) -> str:
        return vocabulary.status_label(self.status)

    @property
    def reason_label(self) -> str:
        return vocabulary.reason_label(self.reason)

    @property
    def key(self) -> str:
        return segment_key(self.status, self.reason)

    @property
    def reason_filter(self) -> str:
        """The learner table's ``reason`` value that selects this row's learners."""
        if self.reason:
            return self.reason
        return NO_REASON if STATUS_REASONS.get(self.status) else ""


@dataclass(frozen=True)
class Breakdown:
    """A session's learners per detailed status and reason, with the LMS's counts per status."""

    rows: list[BreakdownRow]
    counts: StatusCounts
    lms: PathSessionStatusCounts | None

    @property
    def enrolled(self) -> int:
        return self.counts.enrolled

    @property
    def lms_enrolled(self) -> int | None:
        return self.lms.enrolled if self.lms is not None else None

    @property
    def differences(self) -> dict[str, tuple[int, int]]:
        """{status: (ours, the LMS's)} where they differ; empty when the LMS's counts are unknown."""
        if self.lms is None:
            return {}
        ours, theirs = self.counts.by_type(), self.lms.by_status()
        names = list(ours) + [name for name in theirs if name not in ours]
        return {n: (ours.get(n, 0), theirs.get(n, 0)) for n in names if ours.get(n, 0) != theirs.get(n, 0)}

    def segments(self) -> list[Segment]:
        return self.counts.segments()


def path_session_breakdown(*, session: PathSession, filters: ReportFilters) -> Breakdown:
    """Every (detailed status, reason) the API defines with its learners and share of the
    enrolled total (shares add up to 100), beside the LMS's own count per status. One query,
    over the counts the sync stored where they answer (the LMS's counts come with
    ``path_session_get``)."""
    if _stored_counts_answer(session, filters):
        counts = _stored_status_counts([session.pk], filters).get(session.pk, StatusCounts())
    else:
        counts = _status_counts(_learners(filters).filter(session=session), by_session=False).get(None, StatusCounts())
    # The LMS counts every learner of the session: beside a scoped count they would reveal the rest.
    lms = session.lms_counts if filters.scope is None and _has_lms_counts(session) else None
    theirs = lms.by_status() if lms is not None else {}
    keys = _leaf_keys(counts.counts)
    values = [counts.counts.get(key, 0) for key in keys]
    percents = shares(values)
    per_type: dict[str, int] = {}
    for status, _ in keys:
        per_type[status] = per_type.get(status, 0) + 1
    rows, seen = [], set()
    for (status, reason), n, p in zip(keys, values, percents, strict=True):
        first = status not in seen
        seen.add(status)
        rows.append(
            BreakdownRow(
                status=status,
                reason=reason,
                count=n,
                percent=p,
                lms_count=theirs.get(status, 0 if lms is not None else None) if first else None,
                type_rows=per_type[status] if first else 0,
            )
        )
    return Breakdown(rows=rows, counts=counts, lms=lms)


def _has_lms_counts(session: PathSession) -> bool:
    try:
        session.lms_counts  # noqa: B018  (selected with the session; absent before its first sync)
    except PathSessionStatusCounts.DoesNotExist:
        return False
    return True


@dataclass(frozen=True)
class TrendPoint:
    taken_at: datetime
    sync_run_id: int | None
    enrolled: int
    certificates: int
    by_type: dict[str, int]


def path_session_trend(*, session: PathSession, filters: ReportFilters, limit: int = TREND_POINTS) -> list[TrendPoint]:
    """The counts per status type after each of the last ``limit`` syncs, oldest first.

    Snapshots are whole-session counts taken by the sync: they cannot be narrowed to a scope,
    so a scoped reader gets none (``reports.scopes.WHOLE_SESSION_HIDDEN`` says why).
    """
    if filters.scope is not None:
        return []
    snapshots = PathSessionSnapshot.objects.filter(session=session).order_by("-taken_at", "-pk")[:limit]
    points = []
    for snapshot in reversed(list(snapshots)):
        by_type = dict.fromkeys(DETAILED_STATUSES, 0) | snapshot.counts_by_type()
        points.append(
            TrendPoint(snapshot.taken_at, snapshot.sync_run_id, snapshot.enrolled, snapshot.certificates, by_type)
        )
    return points


LEARNER_SORTS = {
    "name": ("last_name", "first_name"),
    "mail": ("mail",),
    "status": ("status_type", "status_reason"),
    "progress": ("progress",),
    "score": ("score",),
    "time": ("time_spent_ms",),
    "started": ("started_at",),
    "activity": ("last_activity_at",),
    "completed": ("completed_at",),
}
LEARNER_DEFAULT_SORT = "name"


def _group_name(connection_field: str = "connection", group_field: str = "group_remote_id") -> Subquery:
    groups = LmsGroup.objects.filter(connection=OuterRef(connection_field), remote_id=OuterRef(group_field))
    return Subquery(groups.values("name")[:1])


def path_session_learners(*, session: PathSession, filters: ReportFilters) -> QuerySet[PathSessionUserStat]:
    """The session's learners matching ``status``, ``reason``, ``group`` and ``search`` (words
    each found in the first name, last name or mail, or a learner id), with ``group_name``,
    sorted by ``LEARNER_SORTS``."""
    learners = _learners(filters).filter(session=session).filter(_learner_status_q(filters))
    if filters.group is not None:
        learners = learners.filter(group_remote_id=filters.group.remote_id)
    for word in _words(filters.search):
        learners = learners.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(mail__icontains=word)
            | Q(user_remote_id=word)
        )
    learners = learners.annotate(group_name=_group_name())
    return _ordered(learners, LEARNER_SORTS, filters.sort, LEARNER_DEFAULT_SORT)


def path_session_groups(*, session: PathSession, filters: ReportFilters) -> QuerySet[LmsGroup]:
    """The groups the learner table's group filter offers: the cached groups of the session's
    connection. (Only those with a learner in the session would scan every learner row of
    the session on each page view.)"""
    return LmsGroup.objects.current().filter(connection_id=session.connection_id).order_by("name", "pk")


def path_session_learner_count(*, session: PathSession, breakdown: Breakdown, filters: ReportFilters) -> int | None:
    """How many learners ``path_session_learners`` lists, read from the breakdown when only
    status and reason filter them (saving a count over every learner of the session), and from
    the group's stored counts when a group filters them too and those answer the reader;
    ``None`` when a search narrows them, or a group without usable stored counts."""
    if _words(filters.search):
        return None
    reason = "" if filters.reason == NO_REASON else filters.reason
    if filters.group is not None:
        if not _stored_counts_answer(session, filters):
            return None
        rows = PathSessionLearnerCount.objects.filter(
            session=session, whole_session=False, group_remote_id=filters.group.remote_id
        ).filter(_learner_status_q(filters))
        if filters.scope is not None:
            rows = rows.filter(filters.scope.q(COUNTED_LEARNER))  # the group's learners in scope
        return rows.aggregate(n=Coalesce(Sum("learners"), 0))["n"]
    return sum(
        n
        for (status, r), n in breakdown.counts.counts.items()
        if (not filters.status or status == filters.status) and (not filters.reason or r == reason)
    )


def custom_field_names(learners) -> list[str]:
    """The custom field names of some learners (a page of them), sorted."""
    names: set[str] = set()
    for learner in learners:
        names.update((learner.custom_fields or {}).keys())
    return sorted(names, key=str.casefold)


def path_session_custom_field_names(*, session: PathSession, filters: ReportFilters) -> list[str]:
    """Every custom field name among the session's learners (the export's columns): one pass
    over one JSON column, streamed."""
    names: set[str] = set()
    values = (
        _learners(filters).filter(session=session).exclude(custom_fields={}).values_list("custom_fields", flat=True)
    )
    for value in values.iterator(chunk_size=5000):
        if value:
            names.update(value.keys())
    return sorted(names, key=str.casefold)


# Course statistics ------------------------------------------------------------------------------
def _attempts_filtered(filters: ReportFilters) -> QuerySet[CourseAttempt]:
    attempts = _attempts(filters)
    if filters.connection is not None:
        attempts = attempts.filter(connection=filters.connection)
    if filters.course is not None:
        attempts = attempts.filter(
            connection_id=filters.course.connection_id, course_remote_id=filters.course.remote_id
        )
    if filters.group is not None:
        attempts = attempts.filter(user__group=filters.group)
    user = filters.user.strip()
    if user:
        if "@" in user:
            attempts = attempts.filter(user__mail__iexact=user)
        else:
            match = Q(user_remote_id=user)
            words = Q()
            for word in _words(user):
                words &= Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
            attempts = attempts.filter(match | words)
    return filters.completed.filter(attempts, "completed_at")


COURSE_SORTS = {
    "course": ("course_name",),
    "attempts": ("attempts",),
    "learners": ("learners",),
    "completed": ("learners_completed",),
    "completion": ("completion_rate",),
    "score": ("average_score",),
    "time": ("total_time_spent_ms",),
}
COURSE_DEFAULT_SORT = "course"


def course_stats(*, filters: ReportFilters) -> list[dict]:
    """Per course, over the attempts matching ``filters``: ``attempts``, ``learners``,
    ``learners_completed`` (learners with a completed attempt), ``completion_rate`` (their share,
    0–1), ``average_score`` (of scored attempts), ``total_time_spent_ms`` and
    ``average_time_spent_ms``; with ``course_name`` and ``course_pk`` when the course is cached,
    and ``connection_name``. Sorted by ``COURSE_SORTS``.

    A list (one row per course, so a few thousand at most), not a queryset: the attempts are
    aggregated in one pass grouped by course id alone, and names are joined afterwards, since
    a name looked up in the aggregation would be looked up once per attempt. Three queries.
    """
    rows = list(
        _attempts_filtered(filters)
        .order_by()
        # Course first: grouped by connection first, SQLite walks the (connection, completed_at)
        # index and reads the table in random order, four times slower than a plain scan.
        .values("course_remote_id", "connection_id")
        .annotate(
            attempts=Count("pk"),
            learners=Count("user_remote_id", distinct=True),
            learners_completed=Count("user_remote_id", distinct=True, filter=Q(completed_at__isnull=False)),
            average_score=Avg("score"),
            total_time_spent_ms=Sum("time_spent_ms"),
            average_time_spent_ms=Avg("time_spent_ms"),
        )
    )
    connection_ids = {row["connection_id"] for row in rows}
    courses = {
        (connection_id, remote_id): (pk, name)
        for connection_id, remote_id, pk, name in Course.objects.filter(connection_id__in=connection_ids).values_list(
            "connection_id", "remote_id", "pk", "name"
        )
    }
    connections = dict(Connection.objects.filter(pk__in=connection_ids).values_list("pk", "name"))
    for row in rows:
        row["course_pk"], row["course_name"] = courses.get(
            (row["connection_id"], row["course_remote_id"]), (None, None)
        )
        row["connection_name"] = connections.get(row["connection_id"], "")
        row["completion_rate"] = row["learners_completed"] / row["learners"] if row["learners"] else None
    return _sorted_rows(
        rows, COURSE_SORTS, filters.sort, COURSE_DEFAULT_SORT, ties=("course_remote_id", "connection_id")
    )


def _sorted_rows(rows: list[dict], sorts: dict, sort: str, default: str, *, ties: tuple[str, ...]) -> list[dict]:
    """Sort dict rows like ``_ordered`` sorts querysets: whitelisted keys, empty values last."""
    key = sort.removeprefix("-")
    if key not in sorts:
        sort, key = default, default.removeprefix("-")
    descending = sort.startswith("-")
    rows.sort(key=lambda row: tuple(row[t] for t in ties))
    for name in reversed(sorts[key]):
        present = [row for row in rows if row[name] is not None]
        missing = [row for row in rows if row[name] is None]
        present.sort(key=lambda row: _sort_value(row[name]), reverse=descending)
        rows = present + missing
    return rows


def _sort_value(value):
    return value.casefold() if isinstance(value, str) else value


ATTEMPT_SORTS = {
    "learner": ("user__last_name", "user__first_name"),
    "course": ("course__name",),
    "progress": ("progress",),
    "score": ("score",),
    "time": ("time_spent_ms",),
    "started": ("first_activity_at",),
    "activity": ("last_activity_at",),
    "completed": ("completed_at",),
}
ATTEMPT_DEFAULT_SORT = "-completed"


def attempt_list(*, filters: ReportFilters) -> QuerySet[CourseAttempt]:
    """Course attempts matching ``filters`` (connection, course, learner ``user``, ``group``,
    ``completed`` date range) with their learner, group and course, sorted by ``ATTEMPT_SORTS``."""
    attempts = _attempts_filtered(filters).select_related("user__group", "course", "connection")
    return _ordered(attempts, ATTEMPT_SORTS, filters.sort, ATTEMPT_DEFAULT_SORT)


def group_choices() -> QuerySet[LmsGroup]:
    """Every cached 360Learning group (the attempts' group filter)."""
    return LmsGroup.objects.current().select_related("connection").order_by("name", "pk")


def course_choices() -> QuerySet[Course]:
    return Course.objects.current().order_by("name", "pk")


def path_choices() -> QuerySet[Path]:
    return Path.objects.current().order_by("name", "pk")


# iSpring module results -------------------------------------------------------------------------
def _module_results_filtered(filters: ReportFilters) -> QuerySet[ModuleResult]:
    results = _module_results(filters)
    if filters.connection is not None:
        results = results.filter(connection=filters.connection)
    for name, values in (
        ("user_id", filters.user_ids),
        ("course_id", filters.course_ids),
        ("module_id", filters.module_ids),
        ("completion_status", filters.completion_statuses),
        ("user_status", filters.user_statuses),
    ):
        if values:
            results = results.filter(**{f"{name}__in": values})
    results = filters.completed.filter(results, "completion_date")
    results = filters.accessed.filter(results, "access_date")
    results = filters.due.filter(results, "due_date")
    for word in _words(filters.search):
        results = results.filter(module_title__icontains=word)
    return results


def module_sorts() -> dict[str, tuple[str, ...]]:
    """The module-results table's sorts: its columns, one per completion status included."""
    return {
        "course": ("course_id", "module_title"),
        "module": ("module_title",),
        "results": ("results",),
        "overdue": ("overdue",),
        **{status: (status,) for status in vocabulary.completion_statuses()},
    }


MODULE_DEFAULT_SORT = "course"


def module_result_summary(*, filters: ReportFilters) -> list[dict]:
    """Per course and module, over the results matching ``filters``: ``results``, one count per
    completion status (named as the status), ``overdue``, ``average_progress``,
    ``average_score``, ``total_time_spent_seconds``, ``module_title`` and ``connection_name``; sorted
    by ``module_sorts()``. A list (one row per module): two queries."""
    counts = {status: Count("pk", filter=Q(completion_status=status)) for status in vocabulary.completion_statuses()}
    rows = list(
        _module_results_filtered(filters)
        .order_by()
        .values("connection_id", "course_id", "module_id")
        .annotate(
            module_title=Max("module_title"),
            results=Count("pk"),
            overdue=Count("pk", filter=Q(is_overdue=True)),
            average_progress=Avg("progress"),
            average_score=Avg("awarded_score"),
            total_time_spent_seconds=Sum("time_spent_seconds"),
            **counts,
        )
    )
    connections = dict(
        Connection.objects.filter(pk__in={row["connection_id"] for row in rows}).values_list("pk", "name")
    )
    for row in rows:
        row["connection_name"] = connections.get(row["connection_id"], "")
    return _sorted_rows(
        rows, module_sorts(), filters.sort, MODULE_DEFAULT_SORT, ties=("course_id", "module_id", "connection_id")
    )


def module_result_list(*, filters: ReportFilters) -> QuerySet[ModuleResult]:
    """The module results matching ``filters``, by course, module and learner."""
    return _module_results_filtered(filters).order_by("course_id", "module_title", "module_id", "user_id", "pk")


def module_result_segments(row: dict) -> list[Segment]:
    """A summary row's completion statuses as the parts of a status bar."""
    labels = vocabulary.completion_status_labels()
    return segments([(status, labels[status], row[status]) for status in vocabulary.completion_statuses()])
