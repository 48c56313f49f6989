"""What every report view shares: the reader's base filters, fragment rendering, export responses."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header

from lms_admin.http import HtmxHttpRequest
from reports import exports
from reports.forms import ReportForm
from reports.provenance import PROVENANCE_PARAM, Provenance, report_provenance
from reports.scopes import reader_scope
from reports.selectors import ReportFilters

PAGE_SIZE = 50
INVALID_EXPORT = "These filters are not valid, so nothing was exported: {errors}"


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
    (``selectors.report_data_version``), the reader's scope, the page's path and, with ``query``,
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


def filtered_export(
    request: HtmxHttpRequest,
    form: ReportForm,
    table: Callable[..., exports.Table],
    file_format: str,
    *,
    kind: str,
) -> HttpResponse:
    """A report's export under the reader's filters: 400 with the form's errors, or the
    ``table`` built from them, named after the provenance of the ``kind`` of sync it reads."""
    if not form.is_valid():
        return invalid_export(form)
    filters = form.filters(reader_filters(request))
    provenance = report_provenance(kind=kind, filters=filters, applied=form.applied())
    return export_response(request, table(filters=filters), file_format, provenance=provenance)


def invalid_export(form: ReportForm) -> HttpResponse:
    return HttpResponseBadRequest(
        INVALID_EXPORT.format(errors=form.errors_text()), content_type="text/plain; charset=utf-8"
    )
