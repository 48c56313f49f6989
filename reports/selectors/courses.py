"""Course statistics (per course) and the course attempts table: the cached ``/courses/stats``
attempts, with the course and group choices their filters offer."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet, Sum

from integrations.models import Connection
from lms_cache.models import Course, CourseAttempt, LmsGroup
from reports.filters import ReportFilters
from reports.scopes import ATTEMPT_LEARNER
from reports.selectors.common import ordered, scoped, search_words, sorted_rows


def _attempts(filters: ReportFilters) -> QuerySet[CourseAttempt]:
    return scoped(CourseAttempt.objects.current(), filters, learner=ATTEMPT_LEARNER)


def attempts_filtered(filters: ReportFilters) -> QuerySet[CourseAttempt]:
    """The attempts both reports read under ``filters``, unsorted (also what their freshness
    stamp speaks of)."""
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
            for word in search_words(user):
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


@dataclass(frozen=True)
class CourseStatsRow:
    """One course of the course statistics, over the attempts matching the filters."""

    connection_id: int
    connection_name: str
    course_remote_id: str
    #: The cached course; ``None`` until a sync has brought it (its attempts may come first).
    course_pk: int | None
    course_name: str | None
    attempts: int
    learners: int
    #: Learners with a completed attempt, and their share of ``learners`` (0–1).
    learners_completed: int
    completion_rate: float | None
    #: Of the scored attempts.
    average_score: float | None
    total_time_spent_ms: int | None
    average_time_spent_ms: float | None


def course_stats(*, filters: ReportFilters) -> list[CourseStatsRow]:
    """Per course, over the attempts matching ``filters`` (``CourseStatsRow``), sorted by
    ``COURSE_SORTS``.

    A list (one row per course, so a few thousand at most), not a queryset: the attempts are
    aggregated in one pass grouped by course id alone, and names are joined afterwards, since
    a name looked up in the aggregation would be looked up once per attempt. Three queries.
    """
    totals = list(
        attempts_filtered(filters)
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
    connection_ids = {total["connection_id"] for total in totals}
    courses = {
        (connection_id, remote_id): (pk, name)
        for connection_id, remote_id, pk, name in Course.objects.filter(connection_id__in=connection_ids).values_list(
            "connection_id", "remote_id", "pk", "name"
        )
    }
    connections = dict(Connection.objects.filter(pk__in=connection_ids).values_list("pk", "name"))
    rows = []
    for total in totals:
        course_pk, course_name = courses.get((total["connection_id"], total["course_remote_id"]), (None, None))
        rows.append(
            CourseStatsRow(
                connection_id=total["connection_id"],
                connection_name=connections.get(total["connection_id"], ""),
                course_remote_id=total["course_remote_id"],
                course_pk=course_pk,
                course_name=course_name,
                attempts=total["attempts"],
                learners=total["learners"],
                learners_completed=total["learners_completed"],
                completion_rate=total["learners_completed"] / total["learners"] if total["learners"] else None,
                average_score=total["average_score"],
                total_time_spent_ms=total["total_time_spent_ms"],
                average_time_spent_ms=total["average_time_spent_ms"],
            )
        )
    return sorted_rows(
        rows, COURSE_SORTS, filters.sort, COURSE_DEFAULT_SORT, ties=("course_remote_id", "connection_id")
    )


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
    attempts = attempts_filtered(filters).select_related("user__group", "course", "connection")
    return ordered(attempts, ATTEMPT_SORTS, filters.sort, ATTEMPT_DEFAULT_SORT)


def group_choices() -> QuerySet[LmsGroup]:
    """Every cached 360Learning group (the attempts' group filter)."""
    return LmsGroup.objects.current().select_related("connection").order_by("name", "pk")


def course_choices() -> QuerySet[Course]:
    return Course.objects.current().order_by("name", "pk")
