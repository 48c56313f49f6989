"""What every report view shares: the reader's base filters, fragment rendering, export responses
(streamed, or handed to a worker when big: ``reports.background_exports``)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from typing import Any

from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header

from lms_admin.http import HtmxHttpRequest
from lms_cache.models import PathSession
from reports import background_exports, exports
from reports.filters import ReportFilters
from reports.forms import ReportForm
from reports.provenance import PROVENANCE_PARAM, Provenance
from reports.scopes import reader_scope

PAGE_SIZE = 50
INVALID_EXPORT = background_exports.INVALID_FILTERS


def reader_filters(request: HtmxHttpRequest) -> ReportFilters:
    """The filters every report this reader opens starts from: their scope (``reports.scopes``),
    which every selector applies. Read once per request."""
    filters = getattr(request, "_reader_filters", None)
    if filters is None:
        filters = ReportFilters(scope=reader_scope(user=request.user))
        request._reader_filters = filters
    return filters


def fragment(request: HtmxHttpRequest) -> str | None:
    """The id of the region an htmx request asks for; ``None`` for a full page (including the
    full page htmx asks for when it restores history)."""
    if request.htmx and not request.htmx.history_restore_request:
        return request.htmx.target or ""
    return None


#: How long a rendered report fragment is kept. Its key names the sync its rows are from, so a
#: completed sync makes it unreachable at once; this bounds what depends on the clock instead.
FRAGMENT_SECONDS = 60


def fragment_key(request: HtmxHttpRequest, *, version: str, query: bool) -> str:
    """The ``{% cache %}`` key of a report fragment: the rows' ``version``
    (``reports.freshness.report_data_version``), the reader's scope, the page's path and, with ``query``,
    its query string (filters, sort, page). Readers with the same scope share it; a scope
    changed by an admin, or a sync completed, gives a new one."""
    scope = reader_filters(request).scope
    if scope is None:
        reader = "every learner"
    else:
        rule = scope.rule and (scope.rule.field, scope.rule.custom_field, scope.rule.operator, scope.rule.value)
        reader = repr((sorted(scope.groups), rule, scope.match_all))
    parts = [version, reader, request.path]
    if query:
        parts.append(repr(sorted(request.GET.lists())))
    return "|".join(parts)


def query_without_page(request: HtmxHttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def render_report(request: HtmxHttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render a page or one of its partials (``template#name``); the answer varies on HX-Request
    so a browser never shows a cached fragment as a page."""
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def export_response(
    request: HtmxHttpRequest, table: exports.Table, file_format: str, *, provenance: Provenance
) -> HttpResponse:
    """The table as a download named after its provenance (``?provenance=1`` adds the sidecar
    row): CSV streamed as it is read; XLSX written to a temporary file (``reports.xlsx``)
    and streamed from it."""
    table = replace(table, provenance=provenance)
    sidecar = request.GET.get(PROVENANCE_PARAM) == "1"
    filename = table.filename(file_format)
    if file_format == exports.XLSX:
        fh = tempfile.TemporaryFile(prefix="report-", suffix=".xlsx")  # noqa: SIM115  (FileResponse closes it)
        exports.xlsx_write(table, fh, sidecar=sidecar)
        fh.seek(0)
        return FileResponse(fh, as_attachment=True, filename=filename, content_type=exports.CONTENT_TYPES[exports.XLSX])
    response = StreamingHttpResponse(
        exports.csv_chunks(table, sidecar=sidecar), content_type=exports.CONTENT_TYPES[exports.CSV]
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def report_export(
    request: HtmxHttpRequest, *, report: str, file_format: str, session: PathSession | None = None
) -> HttpResponse:
    """A report's export link (``ReportExport.Report``) under the reader's filters: 400 with the
    form's errors; the file itself when it is small; else a background export (a worker writes
    it) and its page, where the reader follows its progress and downloads it."""
    try:
        built = background_exports.report_table(
            report=report, base=reader_filters(request), query=request.GET, session=session
        )
    except background_exports.InvalidFilters as invalid:
        return invalid_export(invalid.form)
    rows = built.table.row_count()
    if background_exports.goes_to_background(rows=rows):
        export, _ = background_exports.report_export_request(
            owner=request.user,
            report=report,
            file_format=file_format,
            query=request.GET,
            built=built,
            rows=rows,
            session=session,
        )
        return redirect("report-export-detail", export.pk)
    # Counted once: the sidecar row reuses it.
    table = replace(built.table, count=lambda: rows)
    return export_response(request, table, file_format, provenance=table.provenance)


def invalid_export(form: ReportForm) -> HttpResponse:
    return HttpResponseBadRequest(
        INVALID_EXPORT.format(errors=form.errors_text()), content_type="text/plain; charset=utf-8"
    )
