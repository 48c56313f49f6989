"""iSpring Learn module results: counts per completion status by course and module, filtered
as the API filters them (users, courses, modules, user and completion statuses, dates), with
exports of the summary and of the results themselves. Managers and admins."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from integrations.models import SyncKind
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import reports_required
from reports import vocabulary
from reports.forms import ModuleResultFilterForm
from reports.freshness import report_freshness
from reports.models import ReportExport
from reports.scopes import MATCHED_ONLY
from reports.selectors.module_results import MODULE_DEFAULT_SORT, module_result_summary
from reports.views.helpers import (
    PAGE_SIZE,
    fragment,
    query_without_page,
    reader_filters,
    render_report,
    report_export,
)

TEMPLATE = "reports/module_results.html"
Report = ReportExport.Report


@reports_required
@require_GET
def module_results(request: HtmxHttpRequest) -> HttpResponse:
    form = ModuleResultFilterForm(request.GET)
    filters = form.filters(reader_filters(request))
    # One row per module, paginated in memory: a paginated queryset would aggregate twice.
    summary = module_result_summary(filters=filters)
    page = Paginator(summary, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter_form": form,
        "applied": form.applied(),
        "scope": filters.scope,
        "scope_matched_only": MATCHED_ONLY if filters.scope is not None else "",
        "page_obj": page,
        "rows": page.object_list,
        "statuses": list(vocabulary.completion_status_labels().items()),
        "query": query_without_page(request),
        "sort": filters.sort or MODULE_DEFAULT_SORT,
        "sort_param": filters.sort,
    }
    context["freshness"] = report_freshness(filters=filters, kind=SyncKind.MODULE_RESULTS)
    if fragment(request) is not None:
        return render_report(request, TEMPLATE + "#table", {**context, "freshness_oob": True})
    return render_report(request, TEMPLATE, context)


@reports_required
@require_GET
def module_results_export(request: HtmxHttpRequest, file_format: str) -> HttpResponse:
    return report_export(request, report=Report.MODULE_RESULTS, file_format=file_format)


@reports_required
@require_GET
def module_result_rows_export(request: HtmxHttpRequest, file_format: str) -> HttpResponse:
    return report_export(request, report=Report.MODULE_RESULT_ROWS, file_format=file_format)
