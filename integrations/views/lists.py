"""The admin's list screens: connections and integrations (syncs: integrations.views.syncs)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations import selectors
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required

PAGE_SIZE = 50


def _paginated(request: HtmxHttpRequest, queryset, template: str, context: dict) -> HttpResponse:
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    if request.htmx:
        template += "#table"
    return render(request, template, {**context, "page_obj": page})


@admin_required
@require_GET
def connection_list(request: HtmxHttpRequest) -> HttpResponse:
    return _paginated(request, selectors.connection_list(), "integrations/connection_list.html", {})


@admin_required
@require_GET
def integration_list(request: HtmxHttpRequest) -> HttpResponse:
    return _paginated(request, selectors.integration_list(), "integrations/integration_list.html", {})
