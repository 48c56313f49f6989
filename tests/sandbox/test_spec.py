"""The spec module: shipped copies of the vendor documents, operation lookup, both directions."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from sandbox import spec

SHARED_OPENAPI = Path(__file__).resolve().parents[2].parent / "shared" / "openapi"
OID = "507f1f77bcf86cd799439011"
STATS = "/api/v2/bulk/integrations/{integrationId}/stats"


@pytest.mark.skipif(not SHARED_OPENAPI.is_dir(), reason="../shared/openapi is not next to the project")
def test_it_ships_exact_copies_of_the_shared_documents():
    for name in spec.DOCUMENTS:
        assert filecmp.cmp(spec.OPENAPI_DIR / name, SHARED_OPENAPI / name, shallow=False), name
    shared_ispring = sorted(p.name for p in (SHARED_OPENAPI / "ispring-json-schema").glob("*.json"))
    assert sorted(p.name for p in spec.ISPRING_SCHEMA_DIR.glob("*.json")) == shared_ispring
    for name in shared_ispring:
        assert filecmp.cmp(
            spec.ISPRING_SCHEMA_DIR / name,
            SHARED_OPENAPI / "ispring-json-schema" / name,
            shallow=False,
        ), name


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/api/v2/paths/sessions", "/api/v2/paths/sessions"),
        ("GET", f"/api/v2/paths/{OID}/sessions", "/api/v2/paths/{pathId}/sessions"),
        ("GET", "/api/v2/courses/stats?courseId[eq]=x", "/api/v2/courses/stats"),
        (
            "DELETE",
            f"/sandbox/360/api/v2/bulk/integrations/{OID}/courses",
            "/api/v2/bulk/integrations/{integrationId}/courses",
        ),
        (
            "GET",
            f"http://127.0.0.1:8000/sandbox/360/api/v2/bulk/operations/{OID}/results",
            "/api/v2/bulk/operations/{bulkOperationId}/results",
        ),
    ],
)
def test_it_finds_the_operation_of_a_concrete_path(method, path, template):
    found, op = spec.find_operation(method, path)
    assert found == template
    assert op["operationId"]


def test_it_refuses_undocumented_operations():
    with pytest.raises(spec.UnknownOperation):
        spec.find_operation("POST", "/api/v2/courses/stats")
    with pytest.raises(spec.UnknownOperation):
        spec.find_operation("GET", "/api/v2/no-such-thing")


def _stat(**overrides):
    record = {
        "courseIdentifier": {"type": "externalId", "value": "c-1"},
        "userIdentifier": {"type": "mail", "value": "ana@example.com"},
        "progress": 100,
        "timeSpent": 60000,
        "firstActivityAt": "2025-07-08T22:00:00.000Z",
        "lastActivityAt": "2025-07-09T22:00:00.000Z",
    }
    record.update(overrides)
    return record


def test_it_accepts_a_valid_stats_request_and_names_what_is_wrong_in_an_invalid_one():
    assert spec.request_errors("POST", STATS, {"input": [_stat()]}) == []
    errors = spec.request_errors("POST", STATS, {"input": [_stat(progress=101, firstActivityAt="2025-07-08")]})
    assert any("progress" in e and "maximum" in e for e in errors)
    assert any("firstActivityAt" in e and "date-time" in e for e in errors)
    assert spec.request_errors("POST", STATS, None) == ["a request body is required"]


def test_it_resolves_references_when_checking_responses():
    good = [
        {
            "_id": OID,
            "lang": "en",
            "timeSpent": 1,
            "progress": 5,
            "courseId": OID,
            "userId": OID,
        }
    ]
    assert spec.response_errors("GET", "/api/v2/courses/stats", 200, good) == []
    assert spec.response_errors("GET", "/api/v2/courses/stats", 200, [{**good[0], "lang": "xx"}])
    assert spec.response_errors("GET", "/api/v2/courses/stats", 401, {"error": "invalid_token"}) == []
    assert spec.response_errors("GET", "/api/v2/courses/stats", 418, {}) != []
    # 202 is documented without a body.
    assert spec.response_errors("POST", STATS, 202, None) == []
    assert spec.response_errors("POST", STATS, 202, {"x": 1}) != []


def test_it_validates_ispring_results_against_the_shared_json_schema():
    result = {
        "userId": "114dba08-a75e-11eb-b4e5-0242ac13002a",
        "courseId": "f0e7400a-ca31-11e9-b6fc-0a580af40a22",
        "moduleId": "5a98720f-41e2-11ea-8a66-0a580af40c6f",
        "moduleTitle": "Course 1",
        "courseItemId": "553964ac-3c5c-11ef-b1c4-02420a200163",
        "accessDate": "2021-07-28T21:00:00+00:00",
        "completionStatus": "in_progress",
        "isOverdue": False,
    }
    assert spec.ispring_response_errors({"results": [result]}) == []
    errors = spec.ispring_response_errors({"results": [{**result, "completionStatus": "done", "isOverdue": 0}]})
    assert len(errors) == 2


def test_it_reads_scope_page_size_version_header_and_filters_from_the_documents():
    op = spec.operation("GET", "/api/v2/paths/{pathId}/sessions/{sessionId}/user-stats")
    assert spec.operation_scope(op) == "pathStats:read"
    assert spec.operation_page_size(op) == 2000
    assert spec.requires_api_version_header(op)
    assert set(spec.operation_filters(op)) == {"completedAt", "userId"}
    assert not spec.requires_api_version_header(spec.operation("POST", "/api/v2/oauth2/token"))
    assert spec.operation_page_size(spec.operation("GET", "/api/v2/paths")) == 200
    assert spec.operation_page_size(spec.operation("GET", "/api/v2/courses/stats")) == 500
