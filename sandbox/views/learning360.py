"""360Learning API v2 core endpoints: token, reads, integrations.

Each handler receives a ``Call`` already authenticated, version-checked and, for bodies,
validated against the operation's schema (sandbox.api); it reads or calls one service.
"""

from __future__ import annotations

import json
import re

from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.utils.crypto import constant_time_compare

from sandbox import bulk_integrations, constants as c, spec, tenants
from sandbox.api import ApiError, Call, FilterField, apply_filters, error_body, json_response, paginated_response
from sandbox.models import (
    Course,
    CourseAttempt,
    Group,
    Integration,
    Path,
    PathSession,
    PathSessionUserStat,
    Tenant,
    User,
)
from sandbox.serializers import (
    ATTEMPT_FIELDS,
    USER_STAT_FIELDS,
    attempt_json,
    course_json,
    group_json,
    integration_json,
    path_json,
    session_json,
    user_json,
    user_stat_json,
)

OBJECT_ID = re.compile(r"^[a-fA-F0-9]{24}$")
TOKEN_PATH = "/api/v2/oauth2/token"


# --- POST /api/v2/oauth2/token ------------------------------------------------------------------
def token(call: Call) -> HttpResponse:
    try:
        body = json.loads(call.raw_body or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, {"error": c.ERROR_INVALID_REQUEST})
    if isinstance(body.get("grant_type"), str) and body["grant_type"] != "client_credentials":
        raise ApiError(400, {"error": c.ERROR_UNSUPPORTED_GRANT_TYPE})
    if spec.request_errors("POST", TOKEN_PATH, body):
        raise ApiError(400, {"error": c.ERROR_INVALID_REQUEST})
    tenant = Tenant.objects.filter(client_id=body["client_id"]).first()
    if tenant is None or not constant_time_compare(tenant.client_secret, body["client_secret"]):
        raise ApiError(401, {"error": c.ERROR_INVALID_CLIENT})
    if (
        body.get("user_id")
        and not User.objects.filter(tenant=tenant, oid=body["user_id"]).exclude(status="deleted").exists()
    ):
        raise ApiError(400, {"error": c.ERROR_NON_EXISTING_USER})
    call.tenant = tenant
    raw, ttl = tenants.token_issue(tenant=tenant, api=c.API_360)
    return json_response({"token_type": "Bearer", "access_token": raw, "expires_in": ttl})


def slim(queryset: QuerySet, *related: str) -> QuerySet:
    """Join the relations of ``related`` (``"author__oid"``) but load only those columns of them.

    Listing 500 rows otherwise builds 500 full users (custom fields and all) per relation.
    """
    relations = sorted({name.split("__", 1)[0] for name in related})
    own = [f.name for f in queryset.model._meta.concrete_fields]
    return queryset.select_related(*relations).only(*own, *related)


# --- reads --------------------------------------------------------------------------------------
USER_FILTERS = {"mail": FilterField("mail"), "username": FilterField("username"), "status": FilterField("status")}


def users(call: Call) -> HttpResponse:
    queryset = slim(apply_filters(call, User.objects.filter(tenant=call.tenant), USER_FILTERS), "primary_group__oid")
    return paginated_response(
        call, queryset, lambda u: user_json(u, primary_group_oid=u.primary_group.oid if u.primary_group else None)
    )


def groups(call: Call) -> HttpResponse:
    queryset = slim(Group.objects.filter(tenant=call.tenant), "parent__oid")
    return paginated_response(call, queryset, lambda g: group_json(g, parent_oid=g.parent.oid if g.parent else None))


COURSE_FILTERS = {
    "createdAt": FilterField("created_at", "date"),
    "modifiedAt": FilterField("modified_at", "date"),
    "status": FilterField("status"),
    "type": FilterField("type"),
    "authorId": FilterField("author__oid"),
    "groupId": FilterField("group__oid"),
    # The sandbox keeps no duplication history: a course's original author is its author.
    "originalAuthorId": FilterField("author__oid"),
    "tagIds": FilterField("tag_oids", "json-list"),
    "coAuthorIds": FilterField("co_author_oids", "json-list"),
    "sourceLang": FilterField("source_lang"),
    "collaborativeLearning": FilterField("collaborative_learning"),
}


def courses(call: Call) -> HttpResponse:
    queryset = Course.objects.filter(tenant=call.tenant)
    if "status[eq]" not in call.request.GET:
        # Archived (and deleted) courses leave the catalogue; ask for them with status[eq].
        queryset = queryset.filter(status="published")
    queryset = slim(
        apply_filters(call, queryset, COURSE_FILTERS), "author__oid", "group__oid", "integration__external_platform"
    )
    return paginated_response(
        call,
        queryset,
        lambda co: course_json(
            co,
            author_oid=co.author.oid,
            group_oid=co.group.oid,
            external_platform=co.integration.external_platform if co.integration else None,
        ),
    )


ATTEMPT_FILTERS = {
    "completedAt": FilterField("completed_at", "date"),
    "courseId": FilterField("course__oid"),
    "userId": FilterField("user__oid"),
}


def course_stats(call: Call) -> HttpResponse:
    queryset = apply_filters(call, CourseAttempt.objects.filter(tenant=call.tenant), ATTEMPT_FILTERS)
    return paginated_response(call, queryset.values("pk", *ATTEMPT_FIELDS), attempt_json)


PATH_FILTERS = {
    "createdAt": FilterField("created_at", "date"),
    "modifiedAt": FilterField("modified_at", "date"),
    "status": FilterField("status"),
}


def paths(call: Call) -> HttpResponse:
    queryset = slim(
        apply_filters(call, Path.objects.filter(tenant=call.tenant), PATH_FILTERS), "author__oid", "group__oid"
    )
    return paginated_response(call, queryset, lambda p: path_json(p, author_oid=p.author.oid, group_oid=p.group.oid))


SESSION_DATE_FILTERS = {
    "createdAt": FilterField("created_at", "date"),
    "modifiedAt": FilterField("modified_at", "date"),
    "startDate": FilterField("start_date", "date"),
    "endDate": FilterField("end_date", "date"),
}
SESSION_FILTERS = SESSION_DATE_FILTERS | {"sessionId": FilterField("oid"), "pathId": FilterField("path__oid")}


def _session_json(session: PathSession, *, with_translations: bool) -> dict:
    return session_json(
        session,
        path_oid=session.path.oid,
        group_oid=session.group.oid,
        instructor_oid=session.main_instructor.oid,
        with_translations=with_translations,
    )


def all_path_sessions(call: Call) -> HttpResponse:
    queryset = apply_filters(call, PathSession.objects.filter(tenant=call.tenant), SESSION_FILTERS)
    queryset = slim(queryset, "path__oid", "path__name", "group__oid", "main_instructor__oid")
    return paginated_response(call, queryset, lambda s: _session_json(s, with_translations=False))


def _path(call: Call, path_id: str) -> Path:
    path = Path.objects.filter(tenant=call.tenant, oid=path_id).first() if OBJECT_ID.match(path_id) else None
    if path is None:
        raise ApiError(404, error_body(c.ERROR_PATH_NOT_FOUND, f"No path has the id {path_id!r}."))
    return path


def path_sessions(call: Call, path_id: str) -> HttpResponse:
    path = _path(call, path_id)
    queryset = apply_filters(call, PathSession.objects.filter(path=path), SESSION_DATE_FILTERS)
    queryset = slim(queryset, "path__oid", "path__name", "group__oid", "main_instructor__oid")
    return paginated_response(call, queryset, lambda s: _session_json(s, with_translations=True))


def _session(call: Call, path_id: str, session_id: str) -> PathSession:
    path = _path(call, path_id)
    session = (
        PathSession.objects.filter(tenant=call.tenant, oid=session_id).first() if OBJECT_ID.match(session_id) else None
    )
    if session is None:
        raise ApiError(404, error_body(c.ERROR_SESSION_NOT_FOUND, f"No path session has the id {session_id!r}."))
    if session.path_id != path.pk:
        raise ApiError(
            400,
            error_body(c.ERROR_SESSION_NOT_BELONG_TO_PATH, f"Session {session_id} does not belong to path {path_id}."),
        )
    return session


USER_STAT_FILTERS = {"completedAt": FilterField("completed_at", "date"), "userId": FilterField("user__oid")}


def user_stats(call: Call, path_id: str, session_id: str) -> HttpResponse:
    session = _session(call, path_id, session_id)
    queryset = apply_filters(call, PathSessionUserStat.objects.filter(session=session), USER_STAT_FILTERS)
    return paginated_response(call, queryset.values("pk", *USER_STAT_FIELDS), user_stat_json)


def status_counts(session: PathSession) -> tuple[dict[str, int], int]:
    """Users per detailed status (all eight keys) and certificates issued, for one session."""
    counts = dict.fromkeys(c.DETAILED_STATUSES, 0)
    rows = PathSessionUserStat.objects.filter(session=session).values("status_type").annotate(n=Count("pk")).order_by()
    for row in rows:
        counts[row["status_type"]] = row["n"]
    certificates = PathSessionUserStat.objects.filter(session=session).exclude(certificate_oid="").count()
    return counts, certificates


def user_statuses(call: Call, path_id: str, session_id: str) -> HttpResponse:
    counts, certificates = status_counts(_session(call, path_id, session_id))
    return json_response({"certificates": certificates, "usersCountByStatus": counts})


# --- integrations -------------------------------------------------------------------------------
INTEGRATION_FILTERS = {"externalPlatform": FilterField("external_platform")}


def integrations(call: Call) -> HttpResponse:
    queryset = Integration.objects.filter(tenant=call.tenant, deleted_at__isnull=True)
    queryset = slim(apply_filters(call, queryset, INTEGRATION_FILTERS), "group__oid", "author__oid")
    return paginated_response(call, queryset, integration_json)


def integration_create(call: Call) -> HttpResponse:
    integration = bulk_integrations.integration_create(tenant=call.tenant, data=call.body)
    return json_response(integration_json(integration), status=201)


def integration_update(call: Call, integration_id: str) -> HttpResponse:
    integration = bulk_integrations.integration_update(tenant=call.tenant, oid=integration_id, data=call.body)
    return json_response(integration_json(integration))


def integration_delete(call: Call, integration_id: str) -> HttpResponse:
    bulk_integrations.integration_delete(tenant=call.tenant, oid=integration_id)
    return HttpResponse(status=204)
