"""Integration screens: create (with group and author pickers), edit, delete, pull."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations import providers
from integrations.clients.errors import LmsError
from integrations.forms import IntegrationForm
from integrations.models import Connection, Integration
from integrations.services import tenant
from integrations.services.integrations import (
    IntegrationData,
    IntegrationRemoteError,
    integration_author_label,
    integration_create,
    integration_delete,
    integration_pull,
    integration_update,
)
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required


def _data(form: IntegrationForm) -> IntegrationData:
    d = form.cleaned_data
    return IntegrationData(
        external_platform=d["external_platform"],
        group_id=d["group_id"],
        author_id=d["author_id"],
        external_platform_logo_url=d.get("external_platform_logo_url") or "",
        external_platform_unicolor_logo_url=d.get("external_platform_unicolor_logo_url") or "",
        default_completion=d["default_completion"],
        default_progress=d["default_progress"],
        no_group_propagation=d["no_group_propagation"],
    )


def _pickers(connection: Connection, request: HtmxHttpRequest) -> tuple[list | None, list | None, str]:
    """Groups and a first list of authors from the tenant; None and an error text when it
    cannot be read (the form then asks for the ids)."""
    try:
        return (
            tenant.tenant_groups(connection=connection, interactive=True),
            tenant.tenant_user_search(connection=connection, interactive=True),
            "",
        )
    except LmsError as exc:
        return None, None, tenant.lookup_error_message(exc)


def _author_label(connection: Connection, form_data, initial: dict) -> str:
    author_id = (form_data or {}).get("author_id") or initial.get("author_id") or ""
    return integration_author_label(connection=connection, author_id=author_id)


def _integration_form(
    request: HtmxHttpRequest, connection: Connection, *, initial: dict
) -> tuple[IntegrationForm, str]:
    """The create/edit form with the tenant's groups and authors (or the lookup's error)."""
    groups, authors, lookup_error = _pickers(connection, request)
    form = IntegrationForm(
        request.POST or None,
        groups=groups,
        authors=authors,
        initial=initial,
        current_author_label=_author_label(connection, request.POST, initial),
    )
    return form, lookup_error


def _integration_form_page(request, form, connection, integration=None, lookup_error=""):
    return render(
        request,
        "integrations/integration_form.html",
        {"form": form, "connection": connection, "integration": integration, "lookup_error": lookup_error},
    )


def _save(request, form, connection, save) -> HttpResponse | None:
    """Run ``save``; on a remote refusal, put the message on the field it is about."""
    try:
        integration = save(_data(form))
    except IntegrationRemoteError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None
    messages.success(
        request, f"Integration “{integration.external_platform}” saved in 360Learning ({integration.remote_id})."
    )
    return redirect("connection-detail", pk=connection.pk)


@admin_required
@require_http_methods(["GET", "POST"])
def integration_create_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk, provider__in=providers.with_integrations())
    form, lookup_error = _integration_form(request, connection, initial={"default_progress": 0})
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            connection,
            lambda data: integration_create(actor=request.user, connection=connection, data=data, interactive=True),
        )
        if done:
            return done
    return _integration_form_page(request, form, connection, lookup_error=lookup_error)


@admin_required
@require_http_methods(["GET", "POST"])
def integration_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration.objects.select_related("connection"), pk=pk)
    connection = integration.connection
    initial = {field: getattr(integration, field) for field in IntegrationForm.base_fields}
    form, lookup_error = _integration_form(request, connection, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = _save(
            request,
            form,
            connection,
            lambda data: integration_update(actor=request.user, integration=integration, data=data, interactive=True),
        )
        if done:
            return done
    return _integration_form_page(request, form, connection, integration, lookup_error)


@admin_required
@require_http_methods(["GET", "POST"])
def integration_delete_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration.objects.select_related("connection"), pk=pk)
    error = ""
    if request.method == "POST":
        try:
            integration_delete(actor=request.user, integration=integration, interactive=True)
        except IntegrationRemoteError as exc:
            error = exc.message
        else:
            messages.success(request, f"Integration “{integration.external_platform}” deleted.")
            return redirect("connection-detail", pk=integration.connection_id)
    return render(request, "integrations/integration_confirm_delete.html", {"integration": integration, "error": error})


@admin_required
@require_POST
def integration_pull_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk, provider__in=providers.with_integrations())
    try:
        result = integration_pull(actor=request.user, connection=connection, interactive=True)
    except LmsError as exc:
        messages.error(request, tenant.lookup_error_message(exc))
    else:
        messages.success(
            request,
            f"Pulled from 360Learning: {result.created} new, {result.updated} changed, {result.removed} no longer on the LMS.",
        )
    return redirect("connection-detail", pk=connection.pk)


@admin_required
@require_GET
def tenant_user_search_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The author picker's options for a search text (HTMX fragment)."""
    connection = get_object_or_404(Connection, pk=pk, provider__in=providers.with_integrations())
    error = ""
    try:
        authors = tenant.tenant_user_search(
            connection=connection, query=request.GET.get("q", "")[:200], interactive=True
        )
    except LmsError as exc:
        authors, error = [], tenant.lookup_error_message(exc)
    initial = {"author_id": request.GET.get("author_id", "")[:24]}
    form = IntegrationForm(
        authors=authors, initial=initial, current_author_label=_author_label(connection, None, initial)
    )
    context = {"form": form, "search_error": error, "query": request.GET.get("q", "")[:200]}
    return render(request, "integrations/integration_form.html#author-options", context)
