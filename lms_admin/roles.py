"""The two roles of the product and the decorators that enforce them on views.

- L&D admin: everything (connections, integrations, imports, syncs, reports).
- Manager: reports and exports only, read-only.

Every view carries an ``access`` attribute (one of ``ACCESS_*``) so the role matrix test can
walk every URL pattern and check it against what the view declares.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

ADMIN_GROUP = "L&D admin"
MANAGER_GROUP = "Manager"

ACCESS_PUBLIC = "public"  # no login (login page, sandbox API, unsubscribe links)
ACCESS_AUTHENTICATED = "authenticated"  # any signed-in user (home, password change)
ACCESS_REPORTS = "reports"  # managers and admins
ACCESS_ADMIN = "admin"  # L&D admins only

View = Callable[..., HttpResponse]


def _group_names(user: Any) -> set[str]:
    cached = getattr(user, "_lms_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._lms_group_names = cached
    return cached


def is_admin(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or ADMIN_GROUP in _group_names(user)))


def can_view_reports(user: Any) -> bool:
    return is_admin(user) or (user.is_authenticated and MANAGER_GROUP in _group_names(user))


def role_label(user: Any) -> str:
    if is_admin(user):
        return ADMIN_GROUP
    if can_view_reports(user):
        return MANAGER_GROUP
    return "No role"


def _require(check: Callable[[Any], bool], access: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.access = access  # type: ignore[attr-defined]
        return wrapped

    return decorator


admin_required = _require(is_admin, ACCESS_ADMIN)
reports_required = _require(can_view_reports, ACCESS_REPORTS)


def authenticated(view: View) -> View:
    """Any signed-in user; LoginRequiredMiddleware does the enforcing."""
    view.access = ACCESS_AUTHENTICATED  # type: ignore[attr-defined]
    return view


def public(view: View) -> View:
    """No login needed (e.g. the sandbox LMS's API, which has its own credentials)."""
    view = login_not_required(view)
    view.access = ACCESS_PUBLIC  # type: ignore[attr-defined]
    return view
