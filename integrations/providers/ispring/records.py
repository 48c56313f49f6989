"""iSpring Learn's users and module results mapped to cache rows (see ``integrations.sync.records``).
No I/O here."""

from __future__ import annotations

import hashlib

from integrations.providers.ispring.client import IspringUser, ModuleResult as ISpringResult
from integrations.sync.records import bounded
from integrations.sync.staging import Row


def _uuid(value: str | None, field: str) -> str:
    return bounded(value, limit=36, api="iSpring", field=field)


#: ``LmsUser.status`` words for iSpring's user statuses (1 active, 3 inactive, 5 employment ended).
USER_STATUS_WORDS = {1: "active", 3: "inactive", 5: "ended"}


def user_row(user: IspringUser) -> Row:
    """An iSpring user as an ``LmsUser`` row: e-mail as sent (matching people trims and folds
    case, not the cache), login as the username, no primary group."""
    return _uuid(user.user_id, "userId"), {
        "mail": user.email or "",
        "username": user.login or "",
        "first_name": user.first_name or "",
        "last_name": user.last_name or "",
        "status": USER_STATUS_WORDS[user.status],
        "lang": "",
        "job": "",
        "organization": "",
        "custom": "",
        "group_remote_id": "",
        "last_login_at": None,
        "to_be_deactivated_at": None,
    }


def module_result_key(result: ISpringResult) -> str:
    """iSpring results have no id: a digest of (user, module, course item, enrollment)."""
    natural = "|".join((result.user_id, result.module_id, result.course_item_id, result.enrollment_id or ""))
    return hashlib.blake2b(natural.encode(), digest_size=16).hexdigest()


def module_result_row(result: ISpringResult, *, user_status: int) -> Row:
    return module_result_key(result), {
        "user_id": _uuid(result.user_id, "userId"),
        "user_status": user_status,
        "course_id": _uuid(result.course_id, "courseId"),
        "module_id": _uuid(result.module_id, "moduleId"),
        "module_title": result.module_title,
        "course_item_id": _uuid(result.course_item_id, "courseItemId"),
        "enrollment_id": _uuid(result.enrollment_id, "enrollmentId"),
        "access_date": result.access_date,
        "due_date": result.due_date,
        "expiration_date": result.expiration_date,
        "completion_date": result.completion_date,
        "completion_status": bounded(result.completion_status, limit=20, api="iSpring", field="completionStatus"),
        "time_spent_seconds": result.time_spent,
        "progress": result.progress,
        "awarded_score": result.awarded_score,
        "passing_score": result.passing_score,
        "is_overdue": result.is_overdue,
        "views_count": result.views_count,
    }
