from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.models import AuditEntry
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required


@admin_required
@require_GET
def audit_list(request: HtmxHttpRequest) -> HttpResponse:
    page = Paginator(AuditEntry.objects.all(), 50).get_page(request.GET.get("page"))
    template = "integrations/audit_list.html" + ("#table" if request.htmx else "")
    return render(request, template, {"page_obj": page})
