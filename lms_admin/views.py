"""Project-wide screens: the home dashboard and the system status page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from integrations.models import ImportRun, SyncRun
from integrations.selectors import connection_dashboard
from lms_admin import services
from lms_admin.http import HtmxHttpRequest
from lms_admin.models import WorkerPing
from lms_admin.roles import admin_required, authenticated, is_admin


@authenticated
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    connections = list(connection_dashboard())
    # Two queries for every connection's latest runs, not two per connection.
    syncs = SyncRun.objects.in_bulk([c.latest_sync_id for c in connections if c.latest_sync_id])
    imports = ImportRun.objects.select_related("integration").in_bulk(
        [c.latest_import_id for c in connections if c.latest_import_id]
    )
    rows = [
        {"connection": c, "latest_sync": syncs.get(c.latest_sync_id), "latest_import": imports.get(c.latest_import_id)}
        for c in connections
    ]
    return render(request, "home.html", {"rows": rows, "show_admin": is_admin(request.user)})


@admin_required
@require_GET
def system_status(request: HtmxHttpRequest) -> HttpResponse:
    pings = WorkerPing.objects.all()[:10]
    return render(request, "lms_admin/system_status.html", {"pings": pings, "broker": services.broker_name()})


@admin_required
@require_POST
def worker_ping_create(request: HtmxHttpRequest) -> HttpResponse:
    ping = services.worker_ping_request(user=request.user)
    if not request.htmx:
        messages.info(request, f"Worker ping #{ping.pk} sent; refresh to see the answer.")
        return redirect("system-status")
    return _ping_fragment(request, ping)


def _ping_fragment(request: HtmxHttpRequest, ping: WorkerPing) -> HttpResponse:
    """The ping's state, and the recent-pings table swapped out of band so the two agree."""
    context = {"ping": ping, "pings": WorkerPing.objects.all()[:10], "oob": True}
    return render(request, "lms_admin/system_status.html#ping", context)


@admin_required
@require_GET
def worker_ping_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ping = get_object_or_404(WorkerPing, pk=pk)
    response = _ping_fragment(request, ping)
    if ping.is_answered and request.htmx:
        response.status_code = HTMX_STOP_POLLING
    return response
