"""Listing filters: ``<field>_<operator>`` keyword arguments checked against what each operation
documents and turned into bracket query parameters (``completedAt[gte]=…``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from integrations.clients.parsing import (
    check_object_id,
    format_datetime,
)

_ID = frozenset({"eq", "ne", "in", "nin"})
_DATE = frozenset({"lt", "gte"})
_LIST_OPS = frozenset({"in", "nin"})
#: Fields whose values are ObjectIds, checked before sending.
_OBJECT_ID_FIELDS = frozenset(
    {"courseId", "userId", "sessionId", "pathId", "authorId", "groupId", "originalAuthorId", "tagIds", "coAuthorIds"}
)
_DATE_FIELDS = frozenset({"createdAt", "modifiedAt", "completedAt", "startDate", "endDate"})

# Per operation: field -> operators, exactly as the operation's query parameters list them.
USERS_FILTERS = {"mail": _ID, "username": _ID, "status": frozenset({"eq", "ne"})}
COURSES_FILTERS = {
    "createdAt": _DATE,
    "modifiedAt": _DATE,
    "status": frozenset({"eq"}),
    "type": frozenset({"eq"}),
    "authorId": frozenset({"eq"}),
    "groupId": frozenset({"eq"}),
    "originalAuthorId": frozenset({"eq"}),
    "tagIds": frozenset({"in"}),
    "coAuthorIds": frozenset({"in"}),
    "sourceLang": frozenset({"eq", "in"}),
    "collaborativeLearning": frozenset({"eq"}),
}
COURSE_STATS_FILTERS = {"completedAt": _DATE, "courseId": _ID, "userId": _ID}
PATHS_FILTERS = {"createdAt": _DATE, "modifiedAt": _DATE, "status": frozenset({"eq"})}
PATH_SESSIONS_FILTERS = {
    "createdAt": _DATE,
    "modifiedAt": _DATE,
    "startDate": _DATE,
    "endDate": _DATE,
    "sessionId": _ID,
    "pathId": _ID,
}
USER_STATS_FILTERS = {"completedAt": _DATE, "userId": _ID}
INTEGRATIONS_FILTERS = {"externalPlatform": _ID}
BULK_OPERATIONS_FILTERS = {"createdAt": _DATE, "status": frozenset({"eq"}), "type": frozenset({"eq"})}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _filter_value(field: str, op: str, value: object) -> str:
    if field in _DATE_FIELDS:
        if not isinstance(value, datetime):
            raise TypeError(f"{field}[{op}] takes a timezone-aware datetime")
        return format_datetime(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        raise TypeError(f"{field}[{op}] takes a string")
    if field in _OBJECT_ID_FIELDS:
        check_object_id(value, f"{field}[{op}]")
    return value


def filter_params(filters: Mapping[str, object], allowed: Mapping[str, frozenset[str]]) -> list[tuple[str, str]]:
    """Bracket query parameters for ``<field>_<op>=value`` keyword filters.

    ``None`` values are skipped, ``in``/``nin`` take a sequence (one parameter per value).
    Raises ``TypeError`` for a filter the operation does not document or a value of the
    wrong type, ``ValueError`` for a malformed id or a naive datetime.
    """
    params: list[tuple[str, str]] = []
    for name, value in filters.items():
        if value is None:
            continue
        snake_field, _, op = name.rpartition("_")
        field = _camel(snake_field)
        if op not in allowed.get(field, ()):
            documented = ", ".join(
                f"{''.join('_' + c.lower() if c.isupper() else c for c in f)}_{o}"
                for f, ops in sorted(allowed.items())
                for o in sorted(ops)
            )
            raise TypeError(f"unknown filter {name!r}; this listing accepts: {documented or 'none'}")
        key = f"{field}[{op}]"
        if op in _LIST_OPS:
            if isinstance(value, str | bytes) or not isinstance(value, Sequence | frozenset | set):
                raise TypeError(f"{key} takes a sequence of values")
            params.extend((key, _filter_value(field, op, item)) for item in value)
        else:
            params.append((key, _filter_value(field, op, value)))
    return params
