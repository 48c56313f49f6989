"""360Learning's sync kinds: one function per kind, listing what the LMS has, staging it and
merging it (see ``integrations.sync.staging``). Path sessions and their learners: ``sessions``.

Which listings are incremental, and why (filters as the vendor documents list them):

- users (+ groups), courses, paths, path sessions: no filter says "changed since" in a way that
  also reveals deletions, and they are small next to the statistics: always a full listing,
  so rows the LMS no longer returns are marked gone.
- course statistics: ``completedAt[gte]`` is the only date filter of ``/courses/stats``; an
  incremental run fetches attempts completed since the last completed run (minus an overlap,
  since the remote rounds filter dates to the second and commits are not instantaneous).
  Attempts still in progress change without a completion date, so a full listing runs when
  asked for, and on its own once the last one is older than ``FULL_REFRESH_AFTER``.
- path-session user stats: see ``sessions``.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Subquery
from django.db.models.fields.json import KT

from integrations.imports.kinds import Kind
from integrations.models import ImportRecord, RecordStatus
from integrations.providers.learning360 import records as learning360_records
from integrations.providers.learning360.connect import learning360_client
from integrations.sync import records
from integrations.sync.context import SyncContext
from integrations.sync.derived import learner_activity_from_run
from integrations.sync.kinds import (
    incremental_cursor,
    merge_full,
    merge_listing,
    merge_users,
    parse_cursor_time,
    rows_of,
)
from integrations.sync.staging import link_orphans
from lms_cache.models import Course, CourseAttempt, LmsUser, PathSession, PathSessionUserStat
from lms_cache.signals import attempts_merging

#: Page sizes the vendor documents state (360learning-core-api.json descriptions).
USERS_PAGE = 500
GROUPS_PAGE = 500
COURSES_PAGE = 500
COURSE_STATS_PAGE = 500
PATHS_PAGE = 200
SESSIONS_PAGE = 500
USER_STATS_PAGE = 2000

SOURCE_V2 = "360Learning v2"


# Users and groups ------------------------------------------------------------------------------
def sync_users(ctx: SyncContext) -> None:
    """Groups and users, full listings; then links attempts and learners to newly cached users."""
    ctx.source_api = SOURCE_V2
    with learning360_client(ctx.connection) as client:
        ctx.stage(
            records.GROUPS,
            client.groups(),
            rows_of(learning360_records.group_row),
            page_size=GROUPS_PAGE,
            label="Groups",
        )
        ctx.stage(
            records.USERS, client.users(), rows_of(learning360_records.user_row), page_size=USERS_PAGE, label="Users"
        )

    def apply() -> None:
        merge_full(ctx, records.GROUPS, "groups", records.GROUPS.live)
        merge_users(ctx)
        for model in (CourseAttempt, PathSessionUserStat):
            link_orphans(
                model, column="user_id", target=LmsUser, remote_column="user_remote_id", connection_id=ctx.connection.pk
            )

    ctx.commit(apply)


# Courses ---------------------------------------------------------------------------------------
#: The default listing shows published courses; archived and deleted ones are asked for by
#: status, since course statistics still name them.
COURSE_LISTINGS = ((None, "Published courses"), ("archived", "Archived courses"), ("deleted", "Deleted courses"))


def sync_courses(ctx: SyncContext) -> None:
    ctx.source_api = SOURCE_V2
    with learning360_client(ctx.connection) as client:
        for status, label in COURSE_LISTINGS:
            ctx.stage(
                records.COURSES,
                client.courses(status_eq=status),
                rows_of(learning360_records.course_row),
                page_size=COURSES_PAGE,
                label=label,
            )

    def apply() -> None:
        connection_id = ctx.connection.pk
        merge_full(ctx, records.COURSES, "courses", Course)
        link_orphans(
            CourseAttempt,
            column="course_id",
            target=Course,
            remote_column="course_remote_id",
            connection_id=connection_id,
        )
        _external_ids_from_imports(connection_id)

    ctx.commit(apply)


def _external_ids_from_imports(connection_id: int) -> int:
    """The external id of each external course this product imported, from the import's
    per-record results (the course listing does not carry it)."""
    imported = ImportRecord.objects.filter(
        run__integration__connection_id=connection_id,
        run__kind=Kind.COURSES,
        status=RecordStatus.SUCCESS,
        resource_id=OuterRef("remote_id"),
    ).order_by("-pk")
    return (
        Course.objects.filter(connection_id=connection_id, type="external", external_id="")
        .filter(Exists(imported))
        .update(external_id=Subquery(imported.annotate(external=KT("payload__externalId")).values("external")[:1]))
    )


# Paths -----------------------------------------------------------------------------------------
def sync_paths(ctx: SyncContext) -> None:
    ctx.source_api = SOURCE_V2
    with learning360_client(ctx.connection) as client:
        ctx.stage(
            records.PATHS, client.paths(), rows_of(learning360_records.path_row), page_size=PATHS_PAGE, label="Paths"
        )

    def apply() -> None:
        merge_full(ctx, records.PATHS, "paths", records.PATHS.live)
        link_orphans(
            PathSession,
            column="path_id",
            target=records.PATHS.live,
            remote_column="path_remote_id",
            connection_id=ctx.connection.pk,
        )

    ctx.commit(apply)


# Course statistics -----------------------------------------------------------------------------
def sync_course_stats(ctx: SyncContext) -> None:
    """Course attempts: incremental on ``completedAt[gte]`` (see the module docstring)."""
    ctx.source_api = SOURCE_V2
    since = None if ctx.full else parse_cursor_time(ctx.cursor, "completed_at_gte")
    with learning360_client(ctx.connection) as client:
        ctx.stage(
            records.ATTEMPTS,
            client.course_stats(completed_at_gte=since),
            rows_of(learning360_records.attempt_row),
            page_size=COURSE_STATS_PAGE,
            label="Course attempts" + (f" completed since {since:%Y-%m-%d %H:%M}" if since else ""),
        )

    def apply() -> None:
        connection_id = ctx.connection.pk
        # Before the merge, in its transaction: digests note the attempts that became completed.
        attempts_merging.send(CourseAttempt, connection_id=connection_id, run_id=ctx.run_id, now=ctx.started_at)
        merge_listing(ctx, records.ATTEMPTS, "course attempts", CourseAttempt)
        learner_activity_from_run(connection_id=connection_id, run_id=ctx.run_id)

    ctx.next_cursor = incremental_cursor(ctx, "completed_at_gte")
    ctx.commit(apply)
