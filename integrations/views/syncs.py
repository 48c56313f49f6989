"""Sync screens: the run list, one run with live progress, and a connection's syncs
("Sync now" per kind, live progress, schedules). Admins only.

Live progress polls with ``hx-trigger="every 2s"`` and stops on ``HTMX_STOP_POLLING`` once
nothing is left running; without JavaScript every form posts and redirects, and a reload
shows where the run stands.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from integrations import selectors as integration_selectors
from integrations.models import Connection, SyncKind, SyncRun
from integrations.sync import selectors, services
from integrations.sync.forms import SyncLaunchForm, SyncRunFilterForm, SyncScheduleForm
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required

PAGE_SIZE = 50
SCHEDULES_SAVED = "Schedules saved."
CONNECTION_TEMPLATE = "integrations/syncrun_connection.html"


@admin_required
@require_GET
def sync_run_list(request: HtmxHttpRequest) -> HttpResponse:
    """The Syncs page: every connection and its latest sync, then the runs (filterable)."""
    form = SyncRunFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    runs = selectors.sync_run_list(
        connection=filters.get("connection"), kind=filters.get("kind", ""), state=filters.get("state", "")
    )
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page_obj": page, "filter_form": form, "query": query.urlencode()}
    if request.htmx:
        return render(request, "integrations/syncrun_list.html#table", context)
    # Every connection, with or without runs: where a first sync is started.
    context["overview"] = integration_selectors.connection_sync_overview()
    return render(request, "integrations/syncrun_list.html", context)


@admin_required
@require_GET
def sync_run_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun.objects.select_related("connection", "requested_by"), pk=pk)
    context = {
        "run": run,
        "differences": selectors.sync_run_differences(run=run),
        "asked_for": integration_selectors.sync_cursor_words(kind=run.kind, cursor=run.cursor),
        "next_asks_for": integration_selectors.sync_cursor_words(kind=run.kind, cursor=run.next_cursor),
    }
    if request.htmx and request.htmx.target == "sync-progress":
        response = render(request, "integrations/syncrun_detail.html#progress", context)
        if run.is_finished:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "integrations/syncrun_detail.html", context)


def _connection_context(connection: Connection, *, schedule_form: SyncScheduleForm | None = None) -> dict:
    latest = selectors.sync_run_latest_by_kind(connection=connection)
    rows = [
        {"kind": kind, "label": SyncKind(kind).label, "run": latest.get(kind)}
        for kind in services.sync_kinds_for(connection=connection)
    ]
    if schedule_form is None:
        schedule_form = SyncScheduleForm(
            connection=connection, schedules=selectors.sync_schedule_list(connection=connection)
        )
    return {
        "connection": connection,
        "rows": rows,
        "active": any(row["run"] is not None and not row["run"].is_finished for row in rows),
        "launch_form": SyncLaunchForm(connection=connection),
        "schedule_form": schedule_form,
    }


def _kinds_fragment(request: HtmxHttpRequest, connection: Connection) -> HttpResponse:
    context = _connection_context(connection)
    response = render(request, CONNECTION_TEMPLATE + "#kinds", context)
    if not context["active"]:
        response.status_code = HTMX_STOP_POLLING
    return response


@admin_required
@require_GET
def connection_syncs(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    if request.htmx and request.htmx.target == "sync-kinds":
        return _kinds_fragment(request, connection)
    return render(request, CONNECTION_TEMPLATE, _connection_context(connection))


@admin_required
@require_POST
def sync_run_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    form = SyncLaunchForm(request.POST, connection=connection)
    if not form.is_valid():
        messages.error(request, "Choose what to sync.")
        return redirect("connection-syncs", pk=connection.pk)
    runs = services.sync_run_launch(
        connection=connection,
        kinds=form.kinds(),
        requested_by=request.user,
        full_refresh=form.cleaned_data["full_refresh"],
    )
    if request.htmx:
        return _kinds_fragment(request, connection)
    if len(runs) == 1:
        return redirect("syncrun-detail", pk=runs[0].pk)
    return redirect("connection-syncs", pk=connection.pk)


@admin_required
@require_POST
def sync_schedule_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    form = SyncScheduleForm(
        request.POST, connection=connection, schedules=selectors.sync_schedule_list(connection=connection)
    )
    saved = form.is_valid()
    if saved:
        services.sync_schedules_save(connection=connection, choices=form.choices())
        if not request.htmx:
            messages.success(request, SCHEDULES_SAVED)
            return redirect("connection-syncs", pk=connection.pk)
        form = None  # show what is now stored
    context = {**_connection_context(connection, schedule_form=form), "saved": saved}
    if request.htmx:
        return render(request, CONNECTION_TEMPLATE + "#schedules", context)
    return render(request, CONNECTION_TEMPLATE, context, status=400)
