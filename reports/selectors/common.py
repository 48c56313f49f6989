"""What the report selectors share: the scope every learner query passes through, whitelisted
sorts for querysets and for aggregated rows, search words, and the connections a report offers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model, QuerySet

from integrations import providers
from integrations.models import Connection
from reports.filters import ReportFilters
from reports.scopes import LearnerFields, MatchedLearner, in_scope

M = TypeVar("M", bound=Model)
R = TypeVar("R")


def scoped(
    queryset: QuerySet[M], filters: ReportFilters, *, learner: LearnerFields | MatchedLearner | None
) -> QuerySet[M]:
    """The rows ``filters`` may see. ``learner`` says where the model keeps its learner's
    group, mail and custom fields, or which learner it names for matching to a person
    (``None``: neither, so a scoped reader sees no row).

    Every learner query passes here: this is where a manager's scope applies.
    """
    return in_scope(queryset, filters.scope, learner)


def ordered(queryset: QuerySet, sorts: Mapping[str, tuple[str, ...]], sort: str, default: str) -> QuerySet:
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
            model = cast(type[Model], field_.related_model)
    return False


def search_words(text: str) -> list[str]:
    """The words a search looks for (six at most)."""
    return [word for word in text.split() if word][:6]


def report_connections(*, kind: str) -> QuerySet[Connection]:
    """The connections whose provider syncs ``kind`` (the registry knows which do): those a
    report fed by such syncs reads and offers in its connection filter."""
    return Connection.objects.filter(provider__in=providers.with_kind(kind)).order_by("name")


def sorted_rows(
    rows: list[R],
    sorts: Mapping[str, tuple[str, ...]],
    sort: str,
    default: str,
    *,
    ties: tuple[str, ...],
    value: Callable[[R, str], Any] = getattr,
) -> list[R]:
    """Sort aggregated rows like ``ordered`` sorts querysets: whitelisted keys, empty values
    last. ``value(row, name)`` reads a row's column (an attribute by default)."""
    key = sort.removeprefix("-")
    if key not in sorts:
        sort, key = default, default.removeprefix("-")
    descending = sort.startswith("-")
    rows.sort(key=lambda row: tuple(value(row, t) for t in ties))
    for name in reversed(sorts[key]):
        present = [row for row in rows if value(row, name) is not None]
        missing = [row for row in rows if value(row, name) is None]
        present.sort(key=lambda row: _sort_value(value(row, name)), reverse=descending)
        rows = present + missing
    return rows


def _sort_value(value):
    return value.casefold() if isinstance(value, str) else value
