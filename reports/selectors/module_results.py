"""iSpring Learn module results: counts per completion status by course and module, and the
results themselves, filtered as the API filters them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Avg, Count, Max, Q, QuerySet, Sum

from integrations.models import Connection
from lms_cache.models import ModuleResult
from reports import vocabulary
from reports.charts import Segment, segments
from reports.filters import ReportFilters
from reports.scopes import MODULE_RESULT_LEARNER
from reports.selectors.common import scoped, search_words, sorted_rows


def _module_results(filters: ReportFilters) -> QuerySet[ModuleResult]:
    return scoped(ModuleResult.objects.current(), filters, learner=MODULE_RESULT_LEARNER)


def module_results_filtered(filters: ReportFilters) -> QuerySet[ModuleResult]:
    """The results both module reports read under ``filters``, unsorted (also what their
    freshness stamp speaks of)."""
    results = _module_results(filters)
    if filters.connection is not None:
        results = results.filter(connection=filters.connection)
    for name, values in (
        ("user_id", filters.user_ids),
        ("course_id", filters.course_ids),
        ("module_id", filters.module_ids),
        ("completion_status", filters.completion_statuses),
        ("user_status", filters.user_statuses),
    ):
        if values:
            results = results.filter(**{f"{name}__in": values})
    results = filters.completed.filter(results, "completion_date")
    results = filters.accessed.filter(results, "access_date")
    results = filters.due.filter(results, "due_date")
    for word in search_words(filters.search):
        results = results.filter(module_title__icontains=word)
    return results


def module_sorts() -> dict[str, tuple[str, ...]]:
    """The module-results table's sorts: its columns, one per completion status included."""
    return {
        "course": ("course_id", "module_title"),
        "module": ("module_title",),
        "results": ("results",),
        "overdue": ("overdue",),
        **{status: (status,) for status in vocabulary.completion_statuses()},
    }


MODULE_DEFAULT_SORT = "course"


@dataclass(frozen=True)
class ModuleSummaryRow:
    """One module of a course, over the results matching the filters."""

    connection_id: int
    connection_name: str
    course_id: str
    module_id: str
    module_title: str
    results: int
    #: Results per completion status, every status the provider names included (0 when none).
    counts: dict[str, int]
    overdue: int
    average_progress: float | None
    average_score: float | None
    total_time_spent_seconds: int | None

    @property
    def status_counts(self) -> list[tuple[str, str, int]]:
        """``(status, label, count)`` per completion status, in the provider's order."""
        labels = vocabulary.completion_status_labels()
        return [(status, labels[status], self.counts[status]) for status in vocabulary.completion_statuses()]

    def segments(self) -> list[Segment]:
        """The completion statuses as the parts of a status bar."""
        return segments(self.status_counts)

    def column(self, name: str) -> Any:
        """A sortable column (``module_sorts``): a field, or a completion status's count."""
        return self.counts[name] if name in self.counts else getattr(self, name)


def module_result_summary(*, filters: ReportFilters) -> list[ModuleSummaryRow]:
    """Per course and module, over the results matching ``filters`` (``ModuleSummaryRow``),
    sorted by ``module_sorts()``. A list (one row per module): two queries."""
    statuses = vocabulary.completion_statuses()
    counts = {status: Count("pk", filter=Q(completion_status=status)) for status in statuses}
    # Read as plain dicts: some keys are the statuses, which the aggregation's typed dict cannot name.
    totals = cast(
        list[dict[str, Any]],
        list(
            module_results_filtered(filters)
            .order_by()
            .values("connection_id", "course_id", "module_id")
            .annotate(
                module_title=Max("module_title"),
                results=Count("pk"),
                overdue=Count("pk", filter=Q(is_overdue=True)),
                average_progress=Avg("progress"),
                average_score=Avg("awarded_score"),
                total_time_spent_seconds=Sum("time_spent_seconds"),
                **counts,
            )
        ),
    )
    connections = dict(
        Connection.objects.filter(pk__in={total["connection_id"] for total in totals}).values_list("pk", "name")
    )
    rows = [
        ModuleSummaryRow(
            connection_id=total["connection_id"],
            connection_name=connections.get(total["connection_id"], ""),
            course_id=total["course_id"],
            module_id=total["module_id"],
            module_title=total["module_title"],
            results=total["results"],
            counts={status: total[status] for status in statuses},
            overdue=total["overdue"],
            average_progress=total["average_progress"],
            average_score=total["average_score"],
            total_time_spent_seconds=total["total_time_spent_seconds"],
        )
        for total in totals
    ]
    return sorted_rows(
        rows,
        module_sorts(),
        filters.sort,
        MODULE_DEFAULT_SORT,
        ties=("course_id", "module_id", "connection_id"),
        value=ModuleSummaryRow.column,
    )


def module_result_list(*, filters: ReportFilters) -> QuerySet[ModuleResult]:
    """The module results matching ``filters``, by course, module and learner."""
    return module_results_filtered(filters).order_by("course_id", "module_title", "module_id", "user_id", "pk")
