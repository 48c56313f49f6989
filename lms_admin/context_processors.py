from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from lms_admin.roles import can_view_reports, is_admin, role_label


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The main navigation, filtered by role so a manager never sees admin links."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[tuple[str, str, str]] = []  # (label, url name, url prefix for "current")
    if is_admin(user):
        items += [
            ("Connections", "connection-list", "/connections/"),
            ("Integrations", "integration-list", "/integrations/"),
            ("Imports", "importrun-list", "/imports/"),
            ("Syncs", "syncrun-list", "/syncs/"),
            ("Managers", "manager-list", "/managers/"),
        ]
    if can_view_reports(user):
        items.append(("Reports", "report-index", "/reports/"))
    nav = [
        {"label": label, "url": reverse(name), "current": request.path.startswith(prefix)}
        for label, name, prefix in items
    ]
    context = {
        "nav_items": nav,
        "user_is_admin": is_admin(user),
        "user_reads_reports": can_view_reports(user),
        "user_role": role_label(user),
    }
    if context["user_is_admin"]:
        from integrations.services.alerts import alerts_open

        context["open_alerts"] = list(alerts_open()[:5])
    return context
