"""Project-wide screens: the home dashboard and the system status page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from integrations.selectors import connection_dashboard_rows, getting_started_steps
from lms_admin import services
from lms_admin.http import HtmxHttpRequest
from lms_admin.models import WorkerPing
from lms_admin.roles import admin_required, authenticated, can_view_reports, is_admin


@authenticated
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    """An admin's dashboard (connections' health and latest activity, and the getting-started
    checklist until every step is done); a manager's home is their work: the sessions overview."""
    if not is_admin(request.user) and can_view_reports(request.user):
        return redirect("pathsession-list")
    show_admin = is_admin(request.user)
    steps = getting_started_steps() if show_admin else []
    context = {
        "rows": connection_dashboard_rows() if show_admin else [],
        "show_admin": show_admin,
        "steps": steps,
        "steps_done": sum(step.done for step in steps),
        "all_steps_done": all(step.done for step in steps),
        "next_step": next((step.key for step in steps if not step.done), ""),
    }
    return render(request, "home.html", context)


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
