"""Mounted under /sandbox/ only when SANDBOX_ENABLED is on.

- 360Learning tenant: /sandbox/360/ (a connection's base URL is http://host:port/sandbox/360)
- iSpring Learn: /sandbox/ispring/ (base URL http://host:port/sandbox/ispring)

Paths after the mount are the vendors' own; each 360Learning v2 route names its documented
path template, so a route the documents do not describe fails at import time.
"""

from __future__ import annotations

from django.urls import path

from sandbox.api import route_360, route_ispring, route_v1
from sandbox.views import bulk, ispring, learning360 as v2, learning360_v1 as v1

app_name = "sandbox"

urlpatterns = [
    path("360/api/v2/oauth2/token", route_360("/api/v2/oauth2/token", POST=v2.token), name="360-token"),
    path("360/api/v2/users", route_360("/api/v2/users", GET=v2.users), name="360-users"),
    path("360/api/v2/groups", route_360("/api/v2/groups", GET=v2.groups), name="360-groups"),
    path("360/api/v2/courses", route_360("/api/v2/courses", GET=v2.courses), name="360-courses"),
    path("360/api/v2/courses/stats", route_360("/api/v2/courses/stats", GET=v2.course_stats), name="360-course-stats"),
    path("360/api/v2/paths", route_360("/api/v2/paths", GET=v2.paths), name="360-paths"),
    path(
        "360/api/v2/paths/sessions",
        route_360("/api/v2/paths/sessions", GET=v2.all_path_sessions),
        name="360-all-path-sessions",
    ),
    path(
        "360/api/v2/paths/<str:path_id>/sessions",
        route_360("/api/v2/paths/{pathId}/sessions", GET=v2.path_sessions),
        name="360-path-sessions",
    ),
    path(
        "360/api/v2/paths/<str:path_id>/sessions/<str:session_id>/user-stats",
        route_360("/api/v2/paths/{pathId}/sessions/{sessionId}/user-stats", GET=v2.user_stats),
        name="360-user-stats",
    ),
    path(
        "360/api/v2/paths/<str:path_id>/sessions/<str:session_id>/user-statuses",
        route_360("/api/v2/paths/{pathId}/sessions/{sessionId}/user-statuses", GET=v2.user_statuses),
        name="360-user-statuses",
    ),
    path(
        "360/api/v2/integrations",
        route_360("/api/v2/integrations", GET=v2.integrations, POST=v2.integration_create),
        name="360-integrations",
    ),
    path(
        "360/api/v2/integrations/<str:integration_id>",
        route_360("/api/v2/integrations/{integrationId}", PATCH=v2.integration_update, DELETE=v2.integration_delete),
        name="360-integration",
    ),
    path(
        "360/api/v2/bulk/integrations/<str:integration_id>/courses",
        route_360(
            "/api/v2/bulk/integrations/{integrationId}/courses", PUT=bulk.courses_upsert, DELETE=bulk.courses_archive
        ),
        name="360-bulk-courses",
    ),
    path(
        "360/api/v2/bulk/integrations/<str:integration_id>/stats",
        route_360("/api/v2/bulk/integrations/{integrationId}/stats", POST=bulk.stats_import),
        name="360-bulk-stats",
    ),
    path(
        "360/api/v2/bulk/operations",
        route_360("/api/v2/bulk/operations", GET=bulk.operations),
        name="360-bulk-operations",
    ),
    path(
        "360/api/v2/bulk/operations/<str:operation_id>",
        route_360("/api/v2/bulk/operations/{bulkOperationId}", GET=bulk.operation_detail),
        name="360-bulk-operation",
    ),
    path(
        "360/api/v2/bulk/operations/<str:operation_id>/results",
        route_360("/api/v2/bulk/operations/{bulkOperationId}/results", GET=bulk.operation_results),
        name="360-bulk-operation-results",
    ),
    path("360/api/v1/paths/sessions/<str:session_id>/stats", route_v1(v1.session_stats), name="360-v1-session-stats"),
    path("ispring/api/v3/token", route_ispring("POST", ispring.token, token_endpoint=True), name="ispring-token"),
    path(
        "ispring/learners/modules/results", route_ispring("GET", ispring.module_results), name="ispring-module-results"
    ),
    path("ispring/users", route_ispring("GET", ispring.users), name="ispring-users"),
]
