"""Selectors: every report reads current cache rows, and the small rules the pages rely on
(shares, date ranges, sorting with empty values last). Scopes: tests/reports/test_scopes.py."""

from __future__ import annotations

from datetime import date

from reports import exports
from reports.filters import NO_REASON, DateRange, ReportFilters
from reports.selectors.courses import attempt_list
from reports.selectors.module_results import module_result_summary
from reports.selectors.path_sessions import (
    path_session_breakdown,
    path_session_get,
    path_session_learner_count,
    path_session_learners,
)


def test_the_base_querysets_read_only_current_rows(cache):
    from django.utils import timezone

    from lms_cache.models import CourseAttempt, ModuleResult

    CourseAttempt.objects.filter(user=cache.mallory).update(gone_at=timezone.now())
    ModuleResult.objects.filter(module_id="module-3").update(gone_at=timezone.now())

    assert attempt_list(filters=ReportFilters()).count() == 3
    assert [row.module_id for row in module_result_summary(filters=ReportFilters())] == [
        "module-2",
        "module-1",
    ]


def test_a_date_range_includes_both_whole_days():
    days = DateRange(date(2025, 6, 1), date(2025, 6, 2))

    assert days.lower().isoformat().startswith("2025-06-01T00:00:00")
    assert days.upper().isoformat().startswith("2025-06-03T00:00:00")
    assert not DateRange() and DateRange(end=date(2025, 1, 1))


def test_empty_values_sort_last_both_ways(cache):
    ascending = attempt_list(filters=ReportFilters(sort="score")).values_list("score", flat=True)
    descending = attempt_list(filters=ReportFilters(sort="-score")).values_list("score", flat=True)

    assert list(ascending) == [55, 70, 90, None, None]
    assert list(descending) == [90, 70, 55, None, None]


def test_the_learner_count_comes_from_the_breakdown_unless_a_group_or_search_narrows_it(cache):
    session = path_session_get(pk=cache.session.pk, filters=ReportFilters())
    breakdown = path_session_breakdown(session=session, filters=ReportFilters())

    for filters in (
        ReportFilters(),
        ReportFilters(status="toRetake"),
        ReportFilters(status="toRetake", reason=NO_REASON),
        ReportFilters(reason="sessionEnded"),
    ):
        expected = path_session_learners(session=session, filters=filters).count()
        assert path_session_learner_count(session=session, breakdown=breakdown, filters=filters) == expected
    assert path_session_learner_count(session=session, breakdown=breakdown, filters=ReportFilters(search="zoe")) is None
    assert (
        path_session_learner_count(session=session, breakdown=breakdown, filters=ReportFilters(group=cache.sales))
        is None
    )


def test_every_export_table_has_unique_stable_column_names(cache):
    session = path_session_get(pk=cache.session.pk, filters=ReportFilters())
    tables = [
        exports.sessions_table(filters=ReportFilters()),
        exports.path_session_learners_table(session=session, filters=ReportFilters()),
        exports.path_session_breakdown_table(session=session, filters=ReportFilters()),
        exports.path_session_trend_table(session=session, filters=ReportFilters()),
        exports.course_stats_table(filters=ReportFilters()),
        exports.attempts_table(filters=ReportFilters()),
        exports.module_results_table(filters=ReportFilters()),
        exports.module_result_rows_table(filters=ReportFilters()),
    ]
    for table in tables:
        assert len(set(table.columns)) == len(table.columns) == len(table.kinds), table.name
        for row in table.rows():
            assert len(row) == len(table.columns), table.name
