"""360Learning API v1: GET /api/v1/paths/sessions/{sessionId}/stats?company=…&apiKey=…

Built from the same rows as v2's user-stats and user-statuses, so both versions agree:
detailed statuses and their counts are identical, ``totalTimeSpentInSeconds`` is v2's
``timeSpent`` (ms) in whole seconds, ``certificate`` is v2's ``certificateId`` being set.
"""

from __future__ import annotations

import re

from django.http import HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare

from sandbox import constants as c
from sandbox.api import ApiError, Call, parse_query_datetime
from sandbox.models import CustomField, PathSession, PathSessionUserStat
from sandbox.serializers import iso, status_json
from sandbox.views.learning360 import status_counts

OBJECT_ID = re.compile(r"^[a-fA-F0-9]{24}$")
# Query filters the endpoint page lists ("filter paths created before/after…").
DATE_FILTERS = {
    "createdBefore": ("created_at", "lt"),
    "createdAfter": ("created_at", "gt"),
    "modifiedBefore": ("modified_at", "lt"),
    "modifiedAfter": ("modified_at", "gt"),
}


def _v1_error(status: int, code: str) -> ApiError:
    return ApiError(status, {"error": code})


def v1_status(row: PathSessionUserStat) -> str:
    """v1's coarser ``status``: completed, awaitingCorrection, late or onTime."""
    if row.completed_at is not None:
        return "completed"
    if row.status_type == c.STATUS_AWAITING_CORRECTION:
        return "awaitingCorrection"
    if row.status_type in (c.STATUS_LATE, c.STATUS_UNSUCCESSFUL):
        return "late"
    return "onTime"


def v1_result(row: PathSessionUserStat) -> str | None:
    return {c.STATUS_SUCCESSFUL: "successful", c.STATUS_UNSUCCESSFUL: "unsuccessful", c.STATUS_TO_RETAKE: "retake"}.get(
        row.status_type
    )


def session_stats(call: Call, session_id: str) -> HttpResponse:
    query = call.request.GET
    api_key, company = query.get("apiKey", ""), query.get("company", "")
    tenant = call.tenant
    if not api_key or tenant is None or not constant_time_compare(tenant.api_key, api_key):
        raise _v1_error(401, c.V1_UNAUTHORIZED)
    if company and company != tenant.company_id:
        raise _v1_error(401, c.V1_UNAUTHORIZED)
    path_filters = {}
    for name, (field, lookup) in DATE_FILTERS.items():
        if name in query:
            moment = parse_query_datetime(query[name])
            if moment is None:
                raise _v1_error(400, c.V1_BAD_REQUEST)
            path_filters[f"path__{field}__{lookup}"] = moment
    if not OBJECT_ID.match(session_id):
        raise _v1_error(400, c.V1_BAD_REQUEST)
    session = PathSession.objects.filter(tenant=tenant, oid=session_id, **path_filters).select_related("path").first()
    if session is None:
        raise _v1_error(404, c.V1_SESSION_NOT_FOUND)

    field_names = dict(CustomField.objects.filter(tenant=tenant).values_list("oid", "name"))
    rows = list(PathSessionUserStat.objects.filter(session=session).select_related("user").order_by("pk"))
    detailed, _ = status_counts(session)
    started = sum(1 for r in rows if r.started_at is not None)
    completed = sum(1 for r in rows if r.completed_at is not None)
    body = {
        "sessionId": session.oid,
        "sessionName": session.name,
        "pathId": session.path.oid,
        "pathName": session.path.name,
        "userStatus": {
            "inProgress": sum(1 for r in rows if r.started_at is not None and r.completed_at is None),
            "completed": completed,
            "enrolled": len(rows),
            "selfEnrolled": sum(1 for r in rows if r.self_enrolled),
            "started": started,
        },
        "detailedStatus": detailed,
        "userStats": [
            {
                "_id": r.user.oid,
                "deleted": r.user.status == "deleted",
                "firstName": r.user.first_name,
                "lastName": r.user.last_name,
                "mail": r.user.mail,
                "totalTimeSpentInSeconds": r.time_spent_ms // 1000,
                "progress": r.progress,
                "score": r.score if r.completed_at is not None else None,
                "completedAt": iso(r.completed_at),
                "detailedStatus": status_json(r.status_type, r.status_reason),
                "certificate": bool(r.certificate_oid),
                "status": v1_status(r),
                "customFields": [
                    {"customFieldId": oid, "value": value, "name": field_names.get(oid, "")}
                    for oid, value in r.user.custom_fields.items()
                ],
                "result": v1_result(r),
            }
            for r in rows
        ],
    }
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
