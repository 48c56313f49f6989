"""Values the cache derives from other cached rows, set-based.

``PathSessionUserStat.last_activity_at``: a learner's latest activity on the courses of that
path session. Neither API reports it for a path session, but course attempts carry their session
(``pathSessionId``) and their last activity. Activity only ever grows, so the cache keeps it by
raising it: after a course-stats merge, from the attempts that run brought (its stage, small
on incremental runs); after a sessions merge, for the refreshed sessions, from the cached
attempts (learners new to a session start empty). Set-based ``UPDATE … FROM`` statements
(SQLite ≥ 3.33, PostgreSQL), so no index on the million-row attempts table is needed for it.

``PathSessionLearnerCount``: the learners of each refreshed session per primary group, detailed
status and reason (with their certificates), and the same per whole session, so the sessions
overview and a session's page read a few rows rather than count every learner on each view.

``LmsUser.custom_fields``: v2 lists users without their custom fields (one call per user would
be needed); API v1 gives them with each session's learners, so a sessions run with v1 copies
them onto the users it saw.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection as db

from lms_cache.models import (
    CourseAttempt,
    CourseAttemptStage,
    LmsUser,
    PathSession,
    PathSessionLearnerCount,
    PathSessionUserStat,
    PathSessionUserStatStage,
)


def _raise_from(source: str, params: list, *, connection_id: int) -> int:
    qn = db.ops.quote_name
    learners = qn(PathSessionUserStat._meta.db_table)
    sql = (
        f"UPDATE {learners} SET {qn('last_activity_at')} = g.latest FROM ({source}) g "
        f"WHERE {learners}.{qn('connection_id')} = %s "
        f"AND {learners}.{qn('session_remote_id')} = g.session_remote_id "
        f"AND {learners}.{qn('user_remote_id')} = g.user_remote_id "
        f"AND ({learners}.{qn('last_activity_at')} IS NULL OR {learners}.{qn('last_activity_at')} < g.latest)"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [*params, connection_id])
        return cursor.rowcount


def _latest(table: str, where: str) -> str:
    qn = db.ops.quote_name
    return (
        f"SELECT {qn('session_remote_id')} AS session_remote_id, {qn('user_remote_id')} AS user_remote_id, "
        f"MAX({qn('last_activity_at')}) AS latest FROM {qn(table)} "
        f"WHERE {where} AND {qn('session_remote_id')} <> '' AND {qn('last_activity_at')} IS NOT NULL "
        f"GROUP BY {qn('session_remote_id')}, {qn('user_remote_id')}"
    )


def learner_activity_from_run(*, connection_id: int, run_id: int) -> int:
    """Raise learners' last activity with the attempts a course-stats run staged; returns how
    many learners changed. Call before the stage is discarded."""
    source = _latest(CourseAttemptStage._meta.db_table, f"{db.ops.quote_name('run_id')} = %s")
    return _raise_from(source, [run_id], connection_id=connection_id)


def learner_activity_of_sessions(*, connection_id: int, session_remote_ids: Sequence[str]) -> int:
    """Raise the last activity of the learners of these sessions from the cached attempts."""
    if not session_remote_ids:
        return 0
    qn = db.ops.quote_name
    where = (
        f"{qn('connection_id')} = %s AND {qn('gone_at')} IS NULL "
        f"AND {qn('session_remote_id')} IN ({', '.join(['%s'] * len(session_remote_ids))})"
    )
    source = _latest(CourseAttempt._meta.db_table, where)
    return _raise_from(source, [connection_id, *session_remote_ids], connection_id=connection_id)


def user_custom_fields_from_run(*, connection_id: int, run_id: int) -> int:
    """Copy the custom fields API v1 gave with a sessions run's learners onto the cached users;
    returns how many users changed. Call before the stage is discarded."""
    qn = db.ops.quote_name
    users, stage = qn(LmsUser._meta.db_table), qn(PathSessionUserStatStage._meta.db_table)
    # One staged row per user (a learner of several sessions has the same custom fields in each).
    source = (
        f"SELECT s.{qn('user_remote_id')} AS user_remote_id, s.{qn('custom_fields')} AS custom_fields "
        f"FROM {stage} s WHERE s.{qn('id')} IN (SELECT MAX({qn('id')}) FROM {stage} "
        f"WHERE {qn('run_id')} = %s AND {qn('has_v1')} = %s GROUP BY {qn('user_remote_id')})"
    )
    sql = (
        f"UPDATE {users} SET {qn('custom_fields')} = g.custom_fields FROM ({source}) g "
        f"WHERE {users}.{qn('connection_id')} = %s AND {users}.{qn('remote_id')} = g.user_remote_id "
        f"AND {users}.{qn('custom_fields')} IS DISTINCT FROM g.custom_fields"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [run_id, True, connection_id])
        return cursor.rowcount


def learner_counts_store(*, connection_id: int, run_id: int, session_pks: Sequence[int]) -> int:
    """Replace the stored learner counts of these sessions with counts of their current learners
    (``PathSessionLearnerCount``) and mark them as counted by ``run_id``; returns how many rows
    were written. Two set-based statements: the rows per group from the learners
    (``INSERT … SELECT … GROUP BY``), then the whole-session rows from those.

    Call in the transaction that merges the learners, after ``stage_mark_gone``, so the counts
    become visible with the learners they count.
    """
    if not session_pks:
        return 0
    qn = db.ops.quote_name
    counts, learners = qn(PathSessionLearnerCount._meta.db_table), qn(PathSessionUserStat._meta.db_table)
    columns = ", ".join(
        qn(c)
        for c in (
            "connection_id",
            "session_id",
            "sync_run_id",
            "whole_session",
            "group_remote_id",
            "status_type",
            "status_reason",
            "learners",
            "certificates",
        )
    )
    ids = ", ".join(["%s"] * len(session_pks))
    keys = f"{qn('session_id')}, {qn('status_type')}, {qn('status_reason')}"
    per_group = (
        f"INSERT INTO {counts} ({columns}) "
        f"SELECT %s, {qn('session_id')}, %s, %s, {qn('group_remote_id')}, {qn('status_type')}, {qn('status_reason')}, "
        f"COUNT(*), SUM(CASE WHEN {qn('has_certificate')} THEN 1 ELSE 0 END) FROM {learners} "
        f"WHERE {qn('session_id')} IN ({ids}) AND {qn('gone_at')} IS NULL "
        f"GROUP BY {keys}, {qn('group_remote_id')}"
    )
    whole = (
        f"INSERT INTO {counts} ({columns}) "
        f"SELECT %s, {qn('session_id')}, %s, %s, '', {qn('status_type')}, {qn('status_reason')}, "
        f"SUM({qn('learners')}), SUM({qn('certificates')}) FROM {counts} "
        f"WHERE {qn('session_id')} IN ({ids}) AND {qn('whole_session')} = %s "
        f"GROUP BY {keys}"
    )
    PathSessionLearnerCount.objects.filter(session_id__in=session_pks).delete()
    with db.cursor() as cursor:
        cursor.execute(per_group, [connection_id, run_id, False, *session_pks])
        written = cursor.rowcount
        cursor.execute(whole, [connection_id, run_id, True, *session_pks, False])
        written += cursor.rowcount
    PathSession.objects.filter(pk__in=session_pks).update(learner_counts_run_id=run_id)
    return written
