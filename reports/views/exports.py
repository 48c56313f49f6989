"""Background exports (``reports.background_exports``): a reader's own exports, one export's
progress (polled with htmx until it is ready or failed; a reload without JavaScript), and the
download of its file. Managers and admins; each sees and downloads only their own exports:
anyone else's answers 404, admins' included, as if it did not exist."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING

from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import reports_required
from reports import background_exports, exports
from reports.models import ReportExport
from reports.views.helpers import render_report

LIST_TEMPLATE = "reports/reportexport_list.html"
DETAIL_TEMPLATE = "reports/reportexport_detail.html"
FILE_MISSING = "This export's file is no longer on the server."


def _own(request: HtmxHttpRequest, pk: int) -> ReportExport:
    try:
        return background_exports.report_export_get(owner=request.user, pk=pk)
    except ReportExport.DoesNotExist:
        raise Http404("No such export.") from None


@reports_required
@require_GET
def report_export_list(request: HtmxHttpRequest) -> HttpResponse:
    exports_ = background_exports.report_export_list(owner=request.user)[:100]
    return render_report(
        request,
        LIST_TEMPLATE,
        {
            "exports": exports_,
            "threshold": settings.EXPORT_BACKGROUND_ROWS,
            "keep_days": settings.EXPORT_KEEP_DAYS,
        },
    )


@reports_required
@require_GET
def report_export_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    export = _own(request, pk)
    context = {
        "export": export,
        "again_url": background_exports.export_link(export),
        "keep_days": settings.EXPORT_KEEP_DAYS,
    }
    if request.htmx and request.htmx.target == "export-progress":
        response = render_report(request, DETAIL_TEMPLATE + "#progress", context)
        if export.is_finished:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render_report(request, DETAIL_TEMPLATE, context)


@reports_required
@require_GET
def report_export_download(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    export = _own(request, pk)
    if export.state != ReportExport.State.DONE:
        # Not ready (or gone): its page says where it stands.
        return redirect("report-export-detail", export.pk)
    try:
        fh = background_exports.export_file(export).open("rb")
    except FileNotFoundError:
        raise Http404(FILE_MISSING) from None
    response = FileResponse(
        fh, as_attachment=True, filename=export.file_name, content_type=exports.CONTENT_TYPES[export.file_format]
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
