"""Managers and their scopes (``reports.scopes``): the list, and the scope form. L&D admins only."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required
from reports.models import ManagerScope
from reports.scope_forms import ManagerScopeForm
from reports.scopes import manager_list, manager_scope_update, scope_describe

SCOPE_SAVED = "The scope of {manager} is saved; it applies to their next page, export and digest."


@admin_required
@require_GET
def manager_list_view(request: HtmxHttpRequest) -> HttpResponse:
    rows = [
        {"manager": manager, "description": scope_describe(_scope_row(manager), manager.email)}
        for manager in manager_list()
    ]
    return render(request, "reports/manager_list.html", {"rows": rows})


def _scope_row(manager) -> ManagerScope | None:
    try:
        return manager.report_scope
    except ManagerScope.DoesNotExist:
        return None


@admin_required
@require_http_methods(["GET", "POST"])
def manager_scope_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    manager = manager_list().filter(pk=pk).first()
    if manager is None:
        raise Http404("No manager has this id.")
    instance = ManagerScope.objects.filter(user=manager).first() or ManagerScope(user=manager)
    form = ManagerScopeForm(request.POST or None, instance=instance, manager=manager)
    if request.method == "POST" and form.is_valid():
        manager_scope_update(
            manager=manager, values=form.scope_values(), groups=form.scope_groups(), actor=request.user
        )
        messages.success(request, SCOPE_SAVED.format(manager=manager.get_username()))
        return redirect("manager-list")
    return render(request, "reports/managerscope_form.html", {"form": form, "manager": manager})
