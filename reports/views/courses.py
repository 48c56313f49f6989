"""Course statistics (per course) and the course attempts table, with their exports.
Managers and admins. Both read the cached ``/courses/stats`` attempts; filters, sorting and
pages swap only the table region with htmx and work as plain links and GET forms without it."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from integrations.models import SyncKind
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import reports_required
from reports.forms import AttemptFilterForm
from reports.freshness import report_freshness
from reports.models import ReportExport
from reports.selectors import courses
from reports.views.helpers import (
    PAGE_SIZE,
    fragment,
    query_without_page,
    reader_filters,
    render_report,
    report_export,
)

Report = ReportExport.Report

STATS_TEMPLATE = "reports/course_stats.html"
ATTEMPTS_TEMPLATE = "reports/attempt_list.html"


def _page(request: HtmxHttpRequest, template: str, rows, form: AttemptFilterForm, sort: str, filters) -> HttpResponse:
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter_form": form,
        "applied": form.applied(),
        "scope": filters.scope,
        "page_obj": page,
        "query": query_without_page(request),
        "sort": sort,
        "sort_param": filters.sort,
    }
    context["freshness"] = report_freshness(filters=filters, kind=SyncKind.COURSE_STATS)
    if fragment(request) is not None:
        return render_report(request, template + "#table", {**context, "freshness_oob": True})
    return render_report(request, template, context)


@reports_required
@require_GET
def course_stats(request: HtmxHttpRequest) -> HttpResponse:
    form = AttemptFilterForm(request.GET)
    filters = form.filters(reader_filters(request))
    # One row per course, paginated in memory: a paginated queryset would aggregate twice.
    rows = courses.course_stats(filters=filters)
    return _page(request, STATS_TEMPLATE, rows, form, filters.sort or courses.COURSE_DEFAULT_SORT, filters)


@reports_required
@require_GET
def course_stats_export(request: HtmxHttpRequest, file_format: str) -> HttpResponse:
    return report_export(request, report=Report.COURSE_STATS, file_format=file_format)


@reports_required
@require_GET
def attempt_list(request: HtmxHttpRequest) -> HttpResponse:
    form = AttemptFilterForm(request.GET)
    filters = form.filters(reader_filters(request))
    rows = courses.attempt_list(filters=filters)
    return _page(request, ATTEMPTS_TEMPLATE, rows, form, filters.sort or courses.ATTEMPT_DEFAULT_SORT, filters)


@reports_required
@require_GET
def attempt_export(request: HtmxHttpRequest, file_format: str) -> HttpResponse:
    return report_export(request, report=Report.ATTEMPTS, file_format=file_format)
