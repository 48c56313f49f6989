"""iSpring Learn: POST /api/v3/token, GET /learners/modules/results and GET /users.

Results come as XML unless the client asks for JSON (``Accept: application/json``); both carry
the same values (XML writes ``isOverdue`` as 0/1, like the vendor's page).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Lower, Trim
from django.http import HttpResponse
from django.utils.crypto import constant_time_compare

from sandbox import constants as c, tenants
from sandbox.api import (
    ApiError,
    Call,
    decode_page_token,
    encode_page_token,
    ispring_error,
    json_response,
    parse_query_datetime,
    wants_json,
)
from sandbox.models import IspringModuleResult, IspringUser, Tenant
from sandbox.serializers import (
    ISPRING_FIELDS,
    ISPRING_USER_FIELDS,
    ispring_result_json,
    ispring_results_xml,
    ispring_user_json,
    ispring_users_xml,
)

# List filters: `userIds[]=…` as on the vendor's page, `userIds=…` as in its Postman collection.
LIST_FILTERS = {
    "userIds": "user_uuid",
    "courseIds": "course_uuid",
    "moduleIds": "module_uuid",
    "courseItemIds": "course_item_uuid",
    "enrollmentIds": "enrollment_uuid",
    "departmentIds": "department_uuid",
}
DATE_FILTERS = {"accessDate": "access_date", "dueDate": "due_date", "completionDate": "completion_date"}


def token(call: Call) -> HttpResponse:
    form = call.request.POST
    missing = [name for name in ("client_id", "client_secret", "grant_type") if not form.get(name)]
    if missing:
        raise ApiError(
            400, {"code": c.ISPRING_TOKEN_ERROR_CODE, "message": f"Missing form fields: {', '.join(missing)}."}
        )
    if form["grant_type"] != "client_credentials":
        raise ApiError(400, {"code": c.ISPRING_TOKEN_ERROR_CODE, "message": "grant_type must be client_credentials."})
    tenant = Tenant.objects.filter(ispring_client_id=form["client_id"]).first()
    if tenant is None or not constant_time_compare(tenant.ispring_client_secret, form["client_secret"]):
        raise ApiError(401, {"code": c.ISPRING_TOKEN_ERROR_CODE, "message": "Invalid client credentials."})
    call.tenant = tenant
    raw, ttl = tenants.token_issue(tenant=tenant, api=c.API_ISPRING)
    return json_response({"access_token": raw, "expires_in": ttl, "token_type": "bearer"})


def _values(call: Call, name: str) -> list[str]:
    query = call.request.GET
    return [value for raw in query.getlist(f"{name}[]") + query.getlist(name) for value in raw.split(",") if value]


def _uuid_list(call: Call, name: str) -> list[str]:
    values = _values(call, name)
    for value in values:
        try:
            uuid.UUID(value)
        except ValueError:
            raise ispring_error(call, 400, f"{name}: {value!r} is not a UUID.") from None
    return [value.lower() for value in values]


def _page(call: Call, rows: QuerySet) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a listing of ``values("pk", …)`` rows, in primary-key order (``pageSize``,
    ``pageToken``), and the token of the next page when there is one."""
    raw_size = call.request.GET.get("pageSize")
    size = c.ISPRING_DEFAULT_PAGE_SIZE
    if raw_size is not None:
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= c.ISPRING_MAX_PAGE_SIZE:
            raise ispring_error(call, 400, f"pageSize must be a whole number from 1 to {c.ISPRING_MAX_PAGE_SIZE}.")
        size = int(raw_size)
    raw_token = call.request.GET.get("pageToken")
    if raw_token:
        rows = rows.filter(pk__gt=decode_page_token(call, raw_token))
    page = list(rows.order_by("pk")[: size + 1])
    next_token = encode_page_token(page[size - 1]["pk"]) if len(page) > size else None
    return page[:size], next_token


def _listing(
    call: Call, key: str, items: list[dict[str, Any]], next_token: str | None, xml: Callable[..., bytes]
) -> HttpResponse:
    """JSON (``{key: items, "nextPageToken"?}``) when asked for, else the XML ``xml`` writes."""
    if wants_json(call.request):
        body: dict[str, Any] = {key: items}
        if next_token:
            body["nextPageToken"] = next_token
        return json_response(body)
    return HttpResponse(xml(items, next_token), content_type="application/xml; charset=utf-8")


def users(call: Call) -> HttpResponse:
    """User profiles of every status, by id; ``emails[]`` matches case-insensitively and
    ignoring surrounding spaces, ``logins[]`` exactly."""
    queryset = IspringUser.objects.filter(tenant=call.tenant)
    emails = [value.strip().lower() for value in _values(call, "emails")]
    if emails:
        queryset = queryset.annotate(email_key=Lower(Trim("email"))).filter(email_key__in=emails)
    logins = _values(call, "logins")
    if logins:
        queryset = queryset.filter(login__in=logins)
    departments = _uuid_list(call, "departments")
    if departments:
        queryset = queryset.filter(department_uuid__in=departments)
    if _uuid_list(call, "groups"):
        queryset = queryset.none()  # the seed puts iSpring users in no group
    rows, next_token = _page(call, queryset.values("pk", *ISPRING_USER_FIELDS))
    return _listing(call, "userProfiles", [ispring_user_json(row) for row in rows], next_token, ispring_users_xml)


def module_results(call: Call) -> HttpResponse:
    queryset = IspringModuleResult.objects.filter(tenant=call.tenant)
    for name, field in LIST_FILTERS.items():
        values = _uuid_list(call, name)
        if values:
            queryset = queryset.filter(**{f"{field}__in": values})
    # The page lists `completionStatuses`; its example query says `completionStatus`.
    statuses = _values(call, "completionStatuses") + _values(call, "completionStatus")
    unknown = [s for s in statuses if s not in c.ISPRING_COMPLETION_STATUSES]
    if unknown:
        raise ispring_error(call, 400, f"Unknown completion statuses: {', '.join(unknown)}.")
    if statuses:
        queryset = queryset.filter(completion_status__in=statuses)
    user_statuses = _values(call, "userStatuses") or [str(c.ISPRING_USER_ACTIVE)]  # "By default, … active users"
    if any(s not in {str(v) for v in c.ISPRING_USER_STATUSES} for s in user_statuses):
        raise ispring_error(call, 400, "userStatuses takes 1 (active) and 3 (blocked).")
    queryset = queryset.filter(user_status__in=[int(s) for s in user_statuses])
    for name, field in DATE_FILTERS.items():
        for bound, lookup in (("startDate", "gte"), ("endDate", "lte")):
            raw = call.request.GET.get(f"{name}[{bound}]")
            if raw is None:
                continue
            moment = parse_query_datetime(raw)
            if moment is None:
                raise ispring_error(call, 400, f"{name}[{bound}] must be a date-time such as 2019-12-24T21:00:00Z.")
            queryset = queryset.filter(**{f"{field}__{lookup}": moment})

    rows, next_token = _page(call, queryset.values("pk", *ISPRING_FIELDS))
    return _listing(call, "results", [ispring_result_json(row) for row in rows], next_token, ispring_results_xml)
