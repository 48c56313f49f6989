"""Fake LMS's sync kinds, written into the shared cache the reports read.

- courses: a full listing (so courses the LMS no longer lists are marked gone).
- course statistics: incremental on ``completedSince``; a full listing when asked for or when
  the last one is older than ``FULL_REFRESH_AFTER`` (``integrations.sync.kinds``).
"""

from __future__ import annotations

from integrations.services.clients import credentials_client
from integrations.sync import records
from integrations.sync.context import SyncContext
from integrations.sync.derived import learner_activity_from_run
from integrations.sync.kinds import incremental_cursor, merge_full, merge_listing, parse_cursor_time, rows_of
from integrations.sync.staging import Row, link_orphans
from lms_cache.models import Course, CourseAttempt
from tests.providers.fake.client import Attempt, Course as RemoteCourse, FakeLmsClient

SOURCE = "Fake LMS API"
PAGE = 2  # what the fake LMS serves a page: small, so a sync crosses pages


def course_row(course: RemoteCourse) -> Row:
    return course.id, {
        "name": course.title,
        "status": "published",
        "type": "native",
        "lang": course.lang,
        "source_lang": "",
        "external_platform": "",
        "author_remote_id": "",
        "group_remote_id": "",
        "duration_minutes": None,
        "remote_created_at": None,
        "remote_modified_at": None,
    }


def attempt_row(attempt: Attempt) -> Row:
    return attempt.id, {
        "course_remote_id": attempt.course_id,
        "user_remote_id": attempt.learner_id,
        "lang": "",
        "time_spent_ms": attempt.seconds_spent * 1000,
        "progress": attempt.progress,
        "score": attempt.score,
        "first_activity_at": attempt.started_at,
        "last_activity_at": attempt.completed_at or attempt.started_at,
        "completed_at": attempt.completed_at,
        "version_number": None,
        "path_remote_id": "",
        "session_remote_id": "",
    }


def sync_courses(ctx: SyncContext) -> None:
    ctx.source_api = SOURCE
    with credentials_client(FakeLmsClient, ctx.connection) as client:
        ctx.stage(records.COURSES, client.courses(), rows_of(course_row), page_size=PAGE, label="Courses")

    def apply() -> None:
        merge_full(ctx, records.COURSES, "courses", Course)
        link_orphans(
            CourseAttempt,
            column="course_id",
            target=Course,
            remote_column="course_remote_id",
            connection_id=ctx.connection.pk,
        )

    ctx.commit(apply)


def sync_course_stats(ctx: SyncContext) -> None:
    ctx.source_api = SOURCE
    since = None if ctx.full else parse_cursor_time(ctx.cursor, "completed_since")
    with credentials_client(FakeLmsClient, ctx.connection) as client:
        ctx.stage(
            records.ATTEMPTS,
            client.attempts(completed_since=since),
            rows_of(attempt_row),
            page_size=PAGE,
            label="Course attempts",
        )

    def apply() -> None:
        connection_id = ctx.connection.pk
        merge_listing(ctx, records.ATTEMPTS, "course attempts", CourseAttempt)
        learner_activity_from_run(connection_id=connection_id, run_id=ctx.run_id)

    ctx.next_cursor = incremental_cursor(ctx, "completed_since")
    ctx.commit(apply)
