"""The cache specs (cache model, stage model, references) each sync kind merges with, and
``bounded`` for the mappers. No I/O here.

The mappers, from a provider's typed records to cache rows, live in its package
(``integrations/providers/<name>/records.py``): each returns ``(remote_id, {data field: value})``
with every data field of the stage model, typed as the column expects (the stage write sends
them to the driver as they are).
"""

from __future__ import annotations

from integrations.clients.errors import BadResponse
from integrations.sync import messages
from integrations.sync.staging import CacheSpec, Reference
from lms_cache import models as cache

GROUPS = CacheSpec(cache.LmsGroup, cache.LmsGroupStage)
USERS = CacheSpec(cache.LmsUser, cache.LmsUserStage, (Reference("group_id", cache.LmsGroup, "group_remote_id"),))
COURSES = CacheSpec(cache.Course, cache.CourseStage)
PATHS = CacheSpec(cache.Path, cache.PathStage)
PATH_SESSIONS = CacheSpec(
    cache.PathSession, cache.PathSessionStage, (Reference("path_id", cache.Path, "path_remote_id"),)
)
USER_STATS = CacheSpec(
    cache.PathSessionUserStat,
    cache.PathSessionUserStatStage,
    (
        Reference("session_id", cache.PathSession, "session_remote_id"),
        Reference("user_id", cache.LmsUser, "user_remote_id"),
    ),
)
ATTEMPTS = CacheSpec(
    cache.CourseAttempt,
    cache.CourseAttemptStage,
    (
        Reference("course_id", cache.Course, "course_remote_id"),
        Reference("user_id", cache.LmsUser, "user_remote_id"),
    ),
)
MODULE_RESULTS = CacheSpec(cache.ModuleResult, cache.ModuleResultStage)
ALL_SPECS = (GROUPS, USERS, COURSES, PATHS, PATH_SESSIONS, USER_STATS, ATTEMPTS, MODULE_RESULTS)


def bounded(value: str | None, *, limit: int, api: str, field: str) -> str:
    """``value`` (or "") when it fits its column; a remote sending longer ids or enums breaks
    the contract, and PostgreSQL would refuse the page anyway: fail with a clear message."""
    value = value or ""
    if len(value) > limit:
        raise BadResponse(messages.REMOTE_VALUE_TOO_LONG.format(api=api, field=field, limit=limit))
    return value
