"""Path sessions: the sessions overview (sessions and their learners per status), one
session's breakdown, trend and learner table.

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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from lms_cache.models import (
    DETAILED_STATUSES,
    STATUS_REASONS,
    LmsGroup,
    Path,
    PathSession,
    PathSessionLearnerCount,
    PathSessionSnapshot,
    PathSessionStatusCounts,
    PathSessionUserStat,
)
from reports import vocabulary
from reports.charts import Segment, StatusCounts, TrendPoint, leaf_keys, segment_key, shares
from reports.filters import NO_REASON, ReportFilters
from reports.scopes import USER_STAT_LEARNER, LearnerFields
from reports.selectors.common import ordered, scoped, search_words

#: Sync snapshots a trend shows (the newest ones).
TREND_POINTS = 30


def _sessions(filters: ReportFilters) -> QuerySet[PathSession]:
    """Sessions; for a scoped reader, those with at least one learner in scope."""
    sessions = PathSession.objects.current()
    if filters.scope is not None:
        sessions = sessions.filter(Exists(_learners(filters).filter(session=OuterRef("pk"))))
    return sessions


def _learners(filters: ReportFilters) -> QuerySet[PathSessionUserStat]:
    return scoped(PathSessionUserStat.objects.current(), filters, learner=USER_STAT_LEARNER)


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


def sessions_filtered(filters: ReportFilters) -> QuerySet[PathSession]:
    """The sessions the overview lists under ``filters``, unsorted (also what its freshness
    stamp speaks of)."""
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
    for word in search_words(filters.search):
        sessions = sessions.filter(Q(name__icontains=word) | Q(path__name__icontains=word))
    return sessions


def path_session_list(*, filters: ReportFilters) -> QuerySet[PathSession]:
    """Path sessions matching ``filters`` (connection, path, open in the ``active`` range,
    ``phase``, with a learner in ``status``/``reason``, ``search`` in the session or path name),
    sorted by ``SESSION_SORTS``, with their path, connection and stats run."""
    sessions = sessions_filtered(filters).select_related("path", "connection", "stats_run")
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
    return ordered(sessions, sorts, filters.sort, SESSION_DEFAULT_SORT)


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
    keys = leaf_keys(counts.counts)
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
    for word in search_words(filters.search):
        learners = learners.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(mail__icontains=word)
            | Q(user_remote_id=word)
        )
    learners = learners.annotate(group_name=_group_name())
    return ordered(learners, LEARNER_SORTS, filters.sort, LEARNER_DEFAULT_SORT)


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
    if search_words(filters.search):
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


def custom_field_names(learners: Iterable[PathSessionUserStat]) -> list[str]:
    """The custom field names of some learners (a page of them), sorted."""
    names: set[str] = set()
    for learner in learners:
        names.update((learner.custom_fields or {}).keys())
    return sorted(names, key=str.casefold)


@dataclass(frozen=True)
class LearnerRow:
    """A learner of the learner table, with its custom fields in the table's column order."""

    learner: PathSessionUserStat
    #: ``(name, value)`` per custom-field column; ``None`` where the learner has no such field.
    custom_fields: list[tuple[str, Any]]


@dataclass(frozen=True)
class LearnerTable:
    """A page of learners and the custom-field columns they fill: the names any of them has
    (from the LMS, arbitrary), sorted."""

    custom_field_names: list[str]
    rows: list[LearnerRow]


def learner_table(learners: Iterable[PathSessionUserStat]) -> LearnerTable:
    """Some learners (a page of ``path_session_learners``, read once) as table rows."""
    learners = list(learners)
    names = custom_field_names(learners)
    rows = [
        LearnerRow(learner, [(name, (learner.custom_fields or {}).get(name)) for name in names]) for learner in learners
    ]
    return LearnerTable(custom_field_names=names, rows=rows)


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


def path_choices() -> QuerySet[Path]:
    return Path.objects.current().order_by("name", "pk")
