"""Bulk API: asynchronous operations with real effects, limits and errors as documented."""

from __future__ import annotations

import pytest

from sandbox import bulk, constants as c, faults, seeding, selectors, tenants
from sandbox.models import BulkOperation, Course, CourseAttempt, Integration, User
from tests.sandbox.conftest import SMALL, Api, Http


def _stat(user: User | str, external_id: str, first: str, last: str, progress: int = 50, **extra) -> dict:
    mail = user.mail if isinstance(user, User) else user
    return {
        "courseIdentifier": {"type": "externalId", "value": external_id},
        "userIdentifier": {"type": "mail", "value": mail},
        "progress": progress,
        "timeSpent": 60000,
        "firstActivityAt": first,
        "lastActivityAt": last,
        **extra,
    }


def _integration() -> Integration:
    return Integration.objects.get(external_platform="Sandbox Academy")


def _fresh_pair() -> tuple[User, Course]:
    """An active user and an external course of the seeded integration with no attempt between them."""
    courses = list(Course.objects.filter(integration=_integration()).order_by("pk"))
    for user in User.objects.filter(status="active").order_by("pk"):
        for course in courses:
            if not CourseAttempt.objects.filter(user=user, course=course).exists():
                return user, course
    raise AssertionError("no fresh pair in the seed")


def run_operation(api: Api, method: str, path: str, records: list[dict]) -> tuple[list[str], list[dict]]:
    """Submit a bulk call, poll its operation to the end; the statuses seen and the results."""
    response = api.request(method, path, body={"input": records})
    assert response.status_code == 202, response.content
    location = response["Location"]
    assert location.startswith("http://testserver/sandbox/360/api/v2/bulk/operations/")
    seen = []
    for _ in range(100):
        operation = api.get(location.split("testserver", 1)[1]).json()
        seen.append(operation["status"])
        if operation["status"] in c.BULK_FINISHED:
            break
    results = api.get(location.split("testserver", 1)[1] + "/results").json()
    return seen, results


@pytest.mark.django_db(transaction=True)
def test_a_bulk_stats_import_over_http_goes_through_every_state_and_shows_in_course_stats(live_server):
    seeding.seed(**SMALL)
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, bulk_batch_size=2)
    http = Http(live_server.url + c.URL_PREFIX_360).authenticate()
    integration = http.call("GET", "/api/v2/integrations").json()[0]
    user, course = _fresh_pair()
    other_user = User.objects.filter(status="active").exclude(pk=user.pk).order_by("pk").first()
    records = [
        _stat(
            user,
            course.external_id,
            "2025-07-01T08:00:00.000Z",
            "2025-07-01T09:00:00.000Z",
            progress=40,
            lang="fr",
            score=30,
        ),
        _stat("nobody@nowhere.example", course.external_id, "2025-07-01T08:00:00.000Z", "2025-07-01T09:00:00.000Z"),
        _stat(other_user, "NO-SUCH-COURSE", "2025-07-01T08:00:00.000Z", "2025-07-01T09:00:00.000Z"),
        _stat(user, course.external_id, "2025-07-01T08:30:00.000Z", "2025-07-02T10:00:00.000Z", progress=100, score=88),
        _stat(
            user, course.external_id, "2025-07-01T08:00:00.000Z", "2025-07-01T09:00:00.000Z", progress=10, forceNew=True
        ),
    ]

    response = http.call("POST", f"/api/v2/bulk/integrations/{integration['_id']}/stats", json={"input": records})
    assert response.status_code == 202
    assert response.content == b""
    location = response.headers["Location"]
    assert location.startswith(f"{live_server.url}/sandbox/360/api/v2/bulk/operations/")

    seen = []
    while not seen or seen[-1]["status"] not in c.BULK_FINISHED:
        seen.append(http.call("GET", location).json())
    assert [(o["status"], o.get("progress", {}).get("index")) for o in seen] == [
        ("pending", None),
        ("queued", None),
        ("running", 1),
        ("running", 3),
        ("running", 4),
        ("completed", 4),
    ]

    results = http.call("GET", location + "/results").json()
    assert [r["status"] for r in results] == ["success", "error", "error", "success", "success"]
    assert [r["input"] for r in results] == records
    assert results[1]["errorMessage"] == c.MSG_USER_NOT_FOUND.format(type="mail", value="nobody@nowhere.example")
    assert results[2]["errorMessage"] == c.MSG_COURSE_NOT_FOUND.format(type="externalId", value="NO-SUCH-COURSE")
    # Record 3 updated record 0's open attempt and completed it; record 4 forced a new one.
    assert results[0]["resourceId"] == results[3]["resourceId"] != results[4]["resourceId"]

    stats = http.call(
        "GET", "/api/v2/courses/stats", params={"userId[eq]": user.oid, "courseId[eq]": course.oid}
    ).json()
    by_id = {s["_id"]: s for s in stats}
    assert set(by_id) == {results[0]["resourceId"], results[4]["resourceId"]}
    completed = by_id[results[0]["resourceId"]]
    assert completed["progress"] == 100
    assert completed["score"] == 88
    assert completed["timeSpent"] == 60000
    assert completed["firstActivityAt"] == "2025-07-01T08:30:00.000Z"
    assert completed["completedAt"] == completed["lastActivityAt"] == "2025-07-02T10:00:00.000Z"
    assert completed["lang"] == course.default_lang  # record 3 names no lang: the course's default
    forced = by_id[results[4]["resourceId"]]
    assert forced["progress"] == 10
    assert "completedAt" not in forced

    # The request log shows the chunk was sent once and which operation it created.
    posts = selectors.request_log_list(
        client_id=c.DEFAULT_CLIENT_ID, method="POST", path_prefix="/api/v2/bulk/integrations/"
    )
    assert posts.count() == 1
    assert posts.get().bulk_operation_oid == location.rsplit("/", 1)[1]
    assert posts.get().status == 202 and len(posts.get().body_sha256) == 64


@pytest.fixture
def integration_path(seeded) -> str:
    return f"/api/v2/bulk/integrations/{_integration().oid}"


def test_a_later_first_activity_starts_a_new_attempt_and_an_earlier_one_updates_the_open_attempt(api, integration_path):
    user, course = _fresh_pair()
    _, results = run_operation(
        api,
        "POST",
        f"{integration_path}/stats",
        [_stat(user, course.external_id, "2025-01-01T10:00:00Z", "2025-01-03T10:00:00Z")],
    )
    first = results[0]["resourceId"]
    _, results = run_operation(
        api,
        "POST",
        f"{integration_path}/stats",
        [
            _stat(
                user, course.external_id, "2025-01-02T10:00:00Z", "2025-01-05T10:00:00Z", progress=70
            ),  # overlaps: update
            _stat(
                user, course.external_id, "2025-02-01T10:00:00Z", "2025-02-02T10:00:00Z", progress=20
            ),  # later: new attempt
        ],
    )
    assert results[0]["resourceId"] == first
    assert results[1]["resourceId"] != first
    attempts = CourseAttempt.objects.filter(user=user, course=course).order_by("pk")
    assert [(a.oid, a.progress, a.completed_at) for a in attempts] == [
        (first, 70, None),
        (results[1]["resourceId"], 20, None),
    ]


def test_it_refuses_to_overwrite_completed_attempts_but_accepts_an_exact_resend(api, integration_path):
    user, course = _fresh_pair()
    done = _stat(user, course.external_id, "2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z", progress=100)
    _, results = run_operation(api, "POST", f"{integration_path}/stats", [done])
    attempt = CourseAttempt.objects.get(oid=results[0]["resourceId"])
    assert attempt.completed_at == attempt.last_activity_at
    _, results = run_operation(
        api,
        "POST",
        f"{integration_path}/stats",
        [done, _stat(user, course.external_id, "2025-01-01T12:00:00Z", "2025-01-04T10:00:00Z", progress=30)],
    )
    assert results[0] == {"input": done, "status": "success", "resourceId": attempt.oid}
    assert results[1]["errorMessage"] == c.MSG_COMPLETED_ATTEMPT
    assert CourseAttempt.objects.filter(user=user, course=course).count() == 1


def test_it_resolves_internal_ids_and_refuses_deleted_users_and_reversed_dates(api, integration_path):
    user, course = _fresh_pair()
    deleted = User.objects.filter(status="deleted").first() or User.objects.exclude(pk=user.pk).first()
    User.objects.filter(pk=deleted.pk).update(status="deleted")
    by_ids = {
        "courseIdentifier": {"type": "internalId", "value": course.oid},
        "userIdentifier": {"type": "internalId", "value": user.oid},
        "progress": 100,
        "timeSpent": 5,
        "firstActivityAt": "2025-01-01T10:00:00Z",
        "lastActivityAt": "2025-01-01T11:00:00Z",
    }
    _, results = run_operation(
        api,
        "POST",
        f"{integration_path}/stats",
        [
            by_ids,
            _stat(deleted, course.external_id, "2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z"),
            _stat(user.mail.upper(), course.external_id, "2025-03-01T10:00:00Z", "2025-02-01T11:00:00Z"),
        ],
    )
    assert results[0]["status"] == "success"
    assert results[1]["errorMessage"] == c.MSG_USER_DELETED.format(type="mail", value=deleted.mail)
    assert results[2]["errorMessage"] == c.MSG_ACTIVITY_ORDER


def test_upserted_courses_appear_in_courses_and_archived_ones_disappear(api, integration_path):
    existing = Course.objects.filter(integration=_integration(), status="published").order_by("pk").first()
    new = {
        "externalId": "NEW-001",
        "defaultLang": "fr",
        "name": "Prise en main de l’outil",
        "description": "Découverte guidée.",
        "launchUrl": "https://academy.example/launch/NEW-001",
        "sources": [{"name": "Sandbox Academy"}],
        "subjects": ["Outils"],
        "duration": 25,
        "translations": [{"lang": "en", "translatedFields": {"name": "Getting started"}}],
    }
    renamed = {**new, "externalId": existing.external_id, "name": "Renamed course", "defaultLang": "en"}
    bad_author = {**new, "externalId": "NEW-002", "authorId": "0" * 24}
    states, results = run_operation(api, "PUT", f"{integration_path}/courses", [new, renamed, bad_author])
    assert states == ["pending", "queued", "running", "completed"]
    assert [r["status"] for r in results] == ["success", "success", "error"]
    assert results[1]["resourceId"] == existing.oid
    assert results[2]["errorMessage"] == c.MSG_AUTHOR_NOT_FOUND.format(value="0" * 24)

    listed = {co["_id"]: co for co in api.all_pages("/api/v2/courses")}
    created = listed[results[0]["resourceId"]]
    assert (
        created["name"],
        created["type"],
        created["externalPlatform"],
        created["defaultLang"],
        created["duration"],
    ) == (
        "Prise en main de l’outil",
        "external",
        "Sandbox Academy",
        "fr",
        25,
    )
    assert created["translations"][0]["translatedFields"] == {"name": "Getting started"}
    assert listed[existing.oid]["name"] == "Renamed course"

    _, results = run_operation(
        api, "DELETE", f"{integration_path}/courses", [{"externalId": "NEW-001"}, {"externalId": "NOPE"}]
    )
    assert results[0] == {"input": {"externalId": "NEW-001"}, "status": "success", "resourceId": created["_id"]}
    assert results[1]["errorMessage"] == c.MSG_ARCHIVE_NOT_FOUND.format(value="NOPE")
    assert created["_id"] not in {co["_id"] for co in api.all_pages("/api/v2/courses")}
    archived = api.all_pages("/api/v2/courses", **{"status[eq]": "archived"})
    assert created["_id"] in {co["_id"] for co in archived}


@pytest.mark.parametrize(
    ("method", "suffix", "limit", "record"),
    [
        ("POST", "stats", 10000, _stat("a@b.example", "X", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z")),
        (
            "PUT",
            "courses",
            10000,
            {
                "externalId": "X",
                "defaultLang": "en",
                "name": "X",
                "launchUrl": "https://x",
                "sources": [],
                "subjects": [],
            },
        ),
        ("DELETE", "courses", 1000, {"externalId": "X"}),
    ],
)
def test_it_refuses_more_records_than_the_documented_limit(api, integration_path, method, suffix, limit, record):
    response = api.request(method, f"{integration_path}/{suffix}", body={"input": [record] * (limit + 1)})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == c.ERROR_INPUT_TOO_LONG
    assert api.request(method, f"{integration_path}/{suffix}", body={"input": [record] * limit}).status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        {"input": "not a list"},
        {"records": []},
        {"input": [{"externalId": ""}]},
        {"input": [{"externalId": 42}]},
        [1, 2],
    ],
)
def test_it_refuses_bodies_that_break_the_request_schema_with_invalid_input(api, integration_path, body):
    response = api.request("DELETE", f"{integration_path}/courses", body=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == c.ERROR_INVALID_INPUT
    assert not BulkOperation.objects.exists()


def test_it_refuses_a_body_that_is_not_json(api, integration_path):
    response = api.client.delete(
        f"{c.URL_PREFIX_360}{integration_path}/courses",
        data=b"{oops",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}", c.API_VERSION_HEADER: c.API_VERSION},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, c.ERROR_INVALID_INPUT)


def test_it_answers_integration_not_found(api):
    response = api.request(
        "DELETE", f"/api/v2/bulk/integrations/{'0' * 24}/courses", body={"input": [{"externalId": "X"}]}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (404, c.ERROR_INTEGRATION_NOT_FOUND)


def test_it_limits_unfinished_operations_per_integration_with_429_and_retry_after(api, integration_path):
    body = {"input": [{"externalId": "X"}]}
    first = api.request("DELETE", f"{integration_path}/courses", body=body)
    assert api.request("DELETE", f"{integration_path}/courses", body=body).status_code == 202
    refused = api.request("DELETE", f"{integration_path}/courses", body=body)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == c.ERROR_CONCURRENCY_LIMIT
    assert refused["Retry-After"] == "1"
    bulk.bulk_operation_finish(tenant=tenants.tenant_default(), oid=first["Location"].rsplit("/", 1)[1])
    assert api.request("DELETE", f"{integration_path}/courses", body=body).status_code == 202


def test_it_answers_503_bulk_api_disabled_when_the_tenant_switches_it_off(api, integration_path):
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, bulk_api_enabled=False)
    response = api.request("DELETE", f"{integration_path}/courses", body={"input": [{"externalId": "X"}]})
    assert (response.status_code, response.json()["error"]["code"]) == (503, c.ERROR_BULK_API_DISABLED)


def test_results_wait_for_the_operation_to_have_run(api, integration_path):
    location = api.request("DELETE", f"{integration_path}/courses", body={"input": [{"externalId": "X"}]})["Location"]
    path = location.split("testserver", 1)[1]
    response = api.get(path + "/results")
    assert (response.status_code, response.json()["error"]["code"]) == (400, c.ERROR_BULK_OPERATION_NOT_RUN)
    response = api.get(f"/api/v2/bulk/operations/{'0' * 24}")
    assert (response.status_code, response.json()["error"]["code"]) == (404, c.ERROR_BULK_OPERATION_NOT_FOUND)
    response = api.get(f"/api/v2/bulk/operations/{'0' * 24}/results")
    assert (response.status_code, response.json()["error"]["code"]) == (404, c.ERROR_BULK_OPERATION_NOT_FOUND)


def test_states_last_at_least_the_tenants_minimum(api, integration_path):
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, bulk_min_state_seconds=3600)
    location = api.request("DELETE", f"{integration_path}/courses", body={"input": [{"externalId": "X"}]})["Location"]
    path = location.split("testserver", 1)[1]
    assert [api.get(path).json()["status"] for _ in range(3)] == ["pending"] * 3


def test_an_operation_whose_integration_is_deleted_ends_in_error(api, integration_path):
    location = api.request("DELETE", f"{integration_path}/courses", body={"input": [{"externalId": "X"}]})["Location"]
    path = location.split("testserver", 1)[1]
    assert api.get(path).json()["status"] == "pending"
    assert api.get(path).json()["status"] == "queued"
    assert api.request("DELETE", f"/api/v2/integrations/{_integration().oid}").status_code == 204
    operation = api.get(path).json()
    assert (operation["status"], operation["errorMessage"]) == ("error", c.MSG_INTEGRATION_GONE)
    assert api.get(path + "/results").json() == []


def test_the_bulk_error_fault_stops_an_operation_half_way_with_partial_results(api, integration_path):
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_BULK_ERROR)
    records = [{"externalId": f"X{i}"} for i in range(4)]
    states, results = run_operation(api, "DELETE", f"{integration_path}/courses", records)
    assert states == ["pending", "queued", "running", "error"]
    assert [r["input"] for r in results] == records[:2]
    operation = BulkOperation.objects.get()
    assert operation.error_message == c.MSG_OPERATION_FAILED.format(index=2)


def test_it_lists_bulk_operations_with_their_filters(api, integration_path):
    run_operation(api, "DELETE", f"{integration_path}/courses", [{"externalId": "X"}])
    api.request("POST", f"{integration_path}/stats", body={"input": []})
    everything = api.all_pages("/api/v2/bulk/operations")
    assert [o["type"] for o in everything] == [c.OP_ARCHIVE_COURSES, c.OP_IMPORT_STATISTICS]
    assert [o["status"] for o in api.all_pages("/api/v2/bulk/operations", **{"status[eq]": "completed"})] == [
        "completed"
    ]
    assert [o["type"] for o in api.all_pages("/api/v2/bulk/operations", **{"type[eq]": c.OP_IMPORT_STATISTICS})] == [
        c.OP_IMPORT_STATISTICS
    ]
