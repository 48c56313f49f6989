"""Connection screens: create, detail, edit, delete, and the inline "Test connection".

Create and edit receive the client secret and the v1 API key: their POST values and every
variable of these views and of what they call (the form's cleaned data is a plain dict)
are hidden from Django's error pages and reports.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations import selectors
from integrations.forms import ConnectionForm
from integrations.models import Connection
from integrations.services.connections import (
    ConnectionData,
    connection_check,
    connection_create,
    connection_delete,
    connection_sandbox_hint,
    connection_update,
)
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required


def _data(form: ConnectionForm) -> ConnectionData:
    d = form.cleaned_data
    return ConnectionData(
        name=d["name"],
        provider=d["provider"],
        base_url=d["base_url"],
        client_id=d["client_id"],
        client_secret=d.get("client_secret") or "",
        v1_company_id=d.get("v1_company_id") or "",
        v1_api_key=d.get("v1_api_key") or "",
        stale_after_hours=d["stale_after_hours"],
        alert_after_failures=d["alert_after_failures"],
    )


@admin_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("client_secret", "v1_api_key")
@sensitive_variables()
def connection_create_view(request: HtmxHttpRequest) -> HttpResponse:
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        connection = connection_create(actor=request.user, data=_data(form))
        messages.success(request, f"Connection “{connection.name}” added. Test it to check the credentials.")
        return redirect("connection-detail", pk=connection.pk)
    sandbox = connection_sandbox_hint(server_url=request.build_absolute_uri("/"))
    return render(request, "integrations/connection_form.html", {"form": form, "sandbox": sandbox})


@admin_required
@require_GET
def connection_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    context = {"connection": connection, **selectors.connection_overview(connection=connection)}
    return render(request, "integrations/connection_detail.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("client_secret", "v1_api_key")
@sensitive_variables()
def connection_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    form = ConnectionForm(request.POST or None, instance=connection)
    if request.method == "POST" and form.is_valid():
        connection_update(actor=request.user, connection=connection, data=_data(form))
        messages.success(request, f"Connection “{connection.name}” saved.")
        return redirect("connection-detail", pk=connection.pk)
    return render(request, "integrations/connection_form.html", {"form": form, "connection": connection})


@admin_required
@require_http_methods(["GET", "POST"])
def connection_delete_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    if request.method == "POST":
        name = connection.name
        connection_delete(actor=request.user, connection=connection)
        messages.success(request, f"Connection “{name}” deleted.")
        return redirect("connection-list")
    return render(request, "integrations/connection_confirm_delete.html", {"connection": connection})


@admin_required
@require_POST
def connection_check_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    result = connection_check(connection=connection, interactive=True)
    if not request.htmx:
        (messages.success if result.ok else messages.error)(request, result.message)
        return redirect("connection-detail", pk=connection.pk)
    return render(request, "integrations/connection_detail.html#check", {"connection": connection, "result": result})
