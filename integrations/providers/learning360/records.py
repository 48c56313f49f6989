"""360Learning's records (API v2, and v1 for learners' names) mapped to cache rows (see
``integrations.sync.records``). No I/O here."""

from __future__ import annotations

from typing import Any

from integrations.providers.learning360.client_v1 import PathSessionUserStatV1
from integrations.providers.learning360.resources import (
    Course as RemoteCourse,
    CourseStat,
    Group,
    Path as RemotePath,
    PathSession as RemotePathSession,
    PathSessionUserStat,
    User,
)
from integrations.sync.records import bounded
from integrations.sync.staging import Row


def _360(value: str | None, field: str, limit: int = 20) -> str:
    return bounded(value, limit=limit, api="360Learning", field=field)


def group_row(group: Group) -> Row:
    return group.id, {
        "name": group.name,
        "parent_remote_id": group.parent_id or "",
        "public": group.public,
        "custom": group.custom or "",
    }


def user_row(user: User) -> Row:
    return user.id, {
        "mail": user.mail or "",
        "username": user.username or "",
        "first_name": user.first_name or "",
        "last_name": user.last_name or "",
        "status": user.status,
        "lang": _360(user.lang, "lang"),
        "job": user.job or "",
        "organization": user.organization or "",
        "custom": user.custom or "",
        "group_remote_id": user.primary_group_id or "",
        "last_login_at": user.last_login_date,
        "to_be_deactivated_at": user.to_be_deactivated_at,
    }


def course_row(course: RemoteCourse) -> Row:
    return course.id, {
        "name": course.name,
        "status": _360(course.status, "course status"),
        "type": _360(course.type, "course type", 30),
        "lang": _360(course.default_lang, "defaultLang"),
        "source_lang": _360(course.source_lang, "sourceLang"),
        "external_platform": course.external_platform or "",
        "author_remote_id": course.author_id,
        "group_remote_id": course.group_id,
        "duration_minutes": course.duration,
        "remote_created_at": course.created_at,
        "remote_modified_at": course.modified_at,
    }


def path_row(path: RemotePath) -> Row:
    return path.id, {
        "name": path.name,
        "status": _360(path.status, "path status"),
        "lang": _360(path.default_lang, "defaultLang"),
        "author_remote_id": path.author_id,
        "group_remote_id": path.group_id,
        "certificate_id": path.certificate_id or "",
        "course_remote_ids": [step.id for step in path.steps if step.type == "course"],
        "step_count": len(path.steps),
        "remote_created_at": path.created_at,
        "remote_modified_at": path.modified_at,
    }


def session_row(session: RemotePathSession) -> Row:
    return session.id, {
        "path_remote_id": session.path_id,
        "name": session.name,
        "group_remote_id": session.group_id,
        "main_instructor_remote_id": session.main_instructor_id,
        "start_date": session.start_date,
        "end_date": session.end_date,
        "user_limit": session.user_limit,
        "remote_created_at": session.created_at,
        "remote_modified_at": session.modified_at,
    }


def user_stat_row(
    stat: PathSessionUserStat,
    *,
    session_remote_id: str,
    v1: PathSessionUserStatV1 | None,
    known: tuple[str, str, str, str] | None,
) -> Row:
    """A learner's row: v2 statistics, names from API v1 when it has them, else from the users
    cache (``known``), and the primary group from the users cache (v1 has no groups)."""
    first, last, mail, group = known or ("", "", "", "")
    if v1 is not None:
        first, last, mail = v1.first_name or first, v1.last_name or last, v1.mail or mail
    custom_fields: dict[str, Any] = {}
    if v1 is not None:
        for field in v1.custom_fields:
            custom_fields[field.name or field.custom_field_id or "?"] = field.value
    certificate_id = stat.certificate_id or ""
    return stat.id, {
        "session_remote_id": session_remote_id,
        "user_remote_id": stat.user_id,
        "first_name": first,
        "last_name": last,
        "mail": mail,
        "group_remote_id": group,
        "status_type": stat.status.type,
        "status_reason": stat.status.reason or "",
        "progress": stat.progress,
        "score": stat.score,
        "time_spent_ms": round(stat.time_spent),
        "enrolled_at": stat.enrolled_at,
        "self_enrolled": stat.self_enrolled,
        "started_at": stat.started_at,
        "completed_at": stat.completed_at,
        "unenrolled_at": stat.unenrolled_at,
        "due_date": stat.due_date,
        "certificate_id": certificate_id,
        "has_certificate": v1.certificate if v1 is not None and v1.certificate is not None else bool(certificate_id),
        "has_v1": v1 is not None,
        "custom_fields": custom_fields,
        "v1_status": _360(v1.status if v1 else "", "v1 status", 30),
        "v1_result": _360(v1.result if v1 else "", "v1 result"),
    }


def attempt_row(stat: CourseStat) -> Row:
    return stat.id, {
        "course_remote_id": stat.course_id,
        "user_remote_id": stat.user_id,
        "lang": _360(stat.lang, "lang"),
        "time_spent_ms": round(stat.time_spent_ms),
        "progress": stat.progress,
        "score": stat.score,
        "first_activity_at": stat.first_activity_at,
        "last_activity_at": stat.last_activity_at,
        "completed_at": stat.completed_at,
        "version_number": stat.version_number,
        "path_remote_id": stat.path_id or "",
        "session_remote_id": stat.path_session_id or "",
    }
