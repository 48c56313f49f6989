from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.models import SyncKind
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import reports_required
from reports.freshness import report_freshness
from reports.views.helpers import reader_filters

#: (sync kind, what it feeds) for the freshness table.
FEEDS = (
    (SyncKind.SESSIONS, "Sessions overview and path-session reports"),
    (SyncKind.COURSE_STATS, "Course statistics and attempts"),
    (SyncKind.MODULE_RESULTS, "iSpring module results"),
)


@reports_required
@require_GET
def report_index(request: HtmxHttpRequest) -> HttpResponse:
    filters = reader_filters(request)
    # Per report, the connections whose rows it shows; one never synced is a row of its own
    # ("not synced yet"), never a stale stamp on the others' numbers.
    freshness = []
    for kind, label in FEEDS:
        report = report_freshness(filters=filters, kind=kind)
        freshness += [
            {"kind": label, "connection": connection, "freshness": fresh} for connection, fresh in report.shown
        ]
        freshness += [
            {"kind": label, "connection": connection, "freshness": None} for connection in report.never_synced
        ]
    return render(
        request,
        "reports/report_index.html",
        {
            "freshness": freshness,
            "scope": filters.scope,
        },
    )
