"""The stub answers used by the client tests follow the vendor response schemas, so the
clients are tested against what the real APIs send."""

from __future__ import annotations

import pytest

from sandbox import spec
from tests.integrations.clients import bodies

P = "/api/v2/paths/{pathId}/sessions/{sessionId}"


@pytest.mark.parametrize(
    ("method", "template", "status", "body"),
    [
        ("GET", "/api/v2/users", 200, [bodies.user(1)]),
        ("GET", "/api/v2/groups", 200, [bodies.group(2)]),
        ("GET", "/api/v2/courses", 200, [bodies.course(3)]),
        ("GET", "/api/v2/courses/stats", 200, [bodies.course_stat(4)]),
        ("GET", "/api/v2/paths", 200, [bodies.path(5)]),
        ("GET", "/api/v2/paths/sessions", 200, [bodies.path_session(6)]),
        ("GET", "/api/v2/paths/{pathId}/sessions", 200, [{**bodies.path_session(7), "translations": []}]),
        (
            "GET",
            P + "/user-stats",
            200,
            [bodies.user_stat(8), bodies.user_stat(9, {"type": "toRetake", "reason": "mandatoryReplay"})],
        ),
        ("GET", P + "/user-statuses", 200, bodies.user_statuses()),
        ("GET", "/api/v2/integrations", 200, [bodies.integration(10)]),
        ("POST", "/api/v2/integrations", 201, bodies.integration(11)),
        ("POST", "/api/v2/integrations", 400, bodies.error("duplicateExternalPlatform")),
        ("GET", "/api/v2/bulk/operations/{bulkOperationId}/results", 200, bodies.bulk_results()),
        ("GET", "/api/v2/bulk/operations/{bulkOperationId}/results", 400, bodies.error("bulkOperationNotRun")),
        (
            "POST",
            "/api/v2/bulk/integrations/{integrationId}/stats",
            429,
            bodies.error("bulkOperationsConcurrencyLimitReached"),
        ),
        ("PUT", "/api/v2/bulk/integrations/{integrationId}/courses", 503, bodies.error("bulkAPIDisabled")),
        ("GET", "/api/v2/users", 401, {"error": "invalid_token"}),
        ("GET", "/api/v2/users", 429, {"error": "tooManyRequests"}),
        ("POST", "/api/v2/oauth2/token", 401, {"error": "invalid_client"}),
        (
            "GET",
            P + "/user-stats",
            404,
            bodies.error("pathNotFound"),
        ),
    ],
)
def test_stub_bodies_follow_the_contract(method, template, status, body):
    assert spec.response_errors(method, template, status, body) == []


@pytest.mark.parametrize("status", ["pending", "queued", "running", "completed", "error"])
def test_stub_bulk_operations_follow_the_contract(status):
    assert (
        spec.response_errors("GET", "/api/v2/bulk/operations/{bulkOperationId}", 200, bodies.bulk_operation(status))
        == []
    )
