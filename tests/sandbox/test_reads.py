"""360Learning v2 read endpoints: shapes from the document, pagination by Link, bracket filters.

Every answer goes through ``Api``, which checks it against the response schema the vendor's
document gives for its status.
"""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox import constants as c, seeding
from sandbox.models import Course, CourseAttempt, Path, PathSession
from tests.sandbox.conftest import ANCHOR, Api


def _session(api: Api) -> dict:
    return api.get("/api/v2/paths/sessions").json()[0]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/users",
        "/api/v2/groups",
        "/api/v2/courses",
        "/api/v2/courses/stats",
        "/api/v2/paths",
        "/api/v2/paths/sessions",
        "/api/v2/integrations",
    ],
)
def test_every_list_the_product_reads_matches_its_documented_schema(api, path):
    rows = api.all_pages(path)
    assert rows, path


def test_path_session_reads_match_their_documented_schemas(api):
    session = _session(api)
    assert api.get(f"/api/v2/paths/{session['pathId']}/sessions").json()
    stats = api.all_pages(f"/api/v2/paths/{session['pathId']}/sessions/{session['_id']}/user-stats")
    statuses = api.get(f"/api/v2/paths/{session['pathId']}/sessions/{session['_id']}/user-statuses").json()
    assert sum(statuses["usersCountByStatus"].values()) == len(stats)
    assert statuses["certificates"] == sum(1 for s in stats if "certificateId" in s)
    assert dict(Counter(s["status"]["type"] for s in stats)) == {
        k: v for k, v in statuses["usersCountByStatus"].items() if v
    }


def test_it_pages_course_stats_by_500_with_a_link_header_only_while_more_exist(api):
    first = api.get("/api/v2/courses/stats")
    assert len(first.json()) == 500
    assert first["Link"].startswith("<http://testserver/sandbox/360/api/v2/courses/stats?cursor=")
    assert first["Link"].endswith('>; rel="next"')
    rows = api.all_pages("/api/v2/courses/stats")
    assert len(rows) == CourseAttempt.objects.count() == 600
    assert len({r["_id"] for r in rows}) == 600


def test_it_pages_user_stats_with_link_header_by_2000(db, client):
    seeding.seed(users=2001, paths=1, sessions=1, courses=3, attempts=0, session_size=2001, seed=2, anchor=ANCHOR)
    api = Api(client).authenticate()
    session = _session(api)
    url = f"/api/v2/paths/{session['pathId']}/sessions/{session['_id']}/user-stats"
    first = api.get(url)
    assert len(first.json()) == 2000
    assert "Link" in first
    rows = api.all_pages(url)
    assert len(rows) == 2001 == len({r["userId"] for r in rows})


def test_it_pages_paths_by_200_and_users_by_500(db, client):
    seeding.seed(users=501, paths=201, sessions=0, courses=5, attempts=0, seed=3, anchor=ANCHOR)
    api = Api(client).authenticate()
    assert len(api.get("/api/v2/paths").json()) == 200
    assert len(api.all_pages("/api/v2/paths")) == 201
    assert len(api.get("/api/v2/users").json()) == 500
    last = api.all_pages("/api/v2/users")
    assert len(last) == 501


def test_the_link_keeps_the_filters(api):
    course = Course.objects.filter(status="published").order_by("pk").first()
    CourseAttempt.objects.filter(pk__in=list(CourseAttempt.objects.values_list("pk", flat=True)[:520])).update(
        course=course
    )
    first = api.get("/api/v2/courses/stats", **{"courseId[eq]": course.oid})
    assert "courseId[eq]=" + course.oid in first["Link"]
    rows = api.all_pages("/api/v2/courses/stats", **{"courseId[eq]": course.oid})
    assert len(rows) == CourseAttempt.objects.filter(course=course).count()
    assert {r["courseId"] for r in rows} == {course.oid}


def test_it_filters_course_stats_with_the_documented_bracket_operators(api):
    attempts = CourseAttempt.objects.select_related("course", "user")
    some = attempts.order_by("pk")[:3]
    user_ids = [a.user.oid for a in some]
    rows = api.all_pages("/api/v2/courses/stats", **{"userId[in]": ",".join(user_ids)})
    assert {r["userId"] for r in rows} == set(user_ids)
    assert len(rows) == attempts.filter(user__oid__in=user_ids).count()

    excluded = some[0].course.oid
    rows = api.all_pages("/api/v2/courses/stats", **{"courseId[ne]": excluded})
    assert excluded not in {r["courseId"] for r in rows}
    assert len(rows) == attempts.exclude(course__oid=excluded).count()

    rows = api.all_pages(
        "/api/v2/courses/stats",
        **{"completedAt[gte]": "2025-01-01T00:00:00.000Z", "completedAt[lt]": "2025-03-01T00:00:00.000Z"},
    )
    assert rows
    assert all("2025-01-01" <= r["completedAt"] < "2025-03-01" for r in rows)


def test_it_accepts_repeated_in_values(api):
    users = api.get("/api/v2/users").json()[:2]
    response = api.client.get(
        f"{c.URL_PREFIX_360}/api/v2/users?mail[in]={users[0]['mail']}&mail[in]={users[1]['mail']}",
        headers={"Authorization": f"Bearer {api.token}", c.API_VERSION_HEADER: c.API_VERSION},
    )
    assert {u["_id"] for u in response.json()} == {users[0]["_id"], users[1]["_id"]}


@pytest.mark.parametrize(
    "query",
    [
        {"lessonId[eq]": "507f1f77bcf86cd799439011"},  # not a filter of this endpoint
        {"courseId[gte]": "507f1f77bcf86cd799439011"},  # not an operator of this filter
        {"courseId[eq]": "not-an-object-id"},
        {"completedAt[gte]": "yesterday"},
        {"courseId": "507f1f77bcf86cd799439011"},  # deepObject needs brackets
        {"cursor": "forged"},
    ],
)
def test_it_refuses_filters_the_document_does_not_list(api, query):
    response = api.get("/api/v2/courses/stats", check=False, **query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == c.ERROR_INVALID_QUERY


def test_it_filters_users_courses_paths_sessions_and_integrations(api):
    deleted = api.all_pages("/api/v2/users", **{"status[eq]": "deleted"})
    assert all(u["status"] == "deleted" for u in deleted)
    external = api.all_pages("/api/v2/courses", **{"type[eq]": "external"})
    assert external and all(co["type"] == "external" and co["externalPlatform"] == "Sandbox Academy" for co in external)
    archived_paths = api.all_pages("/api/v2/paths", **{"status[eq]": "published"})
    assert len(archived_paths) == Path.objects.filter(status="published").count()
    path = Path.objects.order_by("pk").first()
    sessions = api.all_pages("/api/v2/paths/sessions", **{"pathId[eq]": path.oid})
    assert {s["pathId"] for s in sessions} == {path.oid}
    assert len(sessions) == PathSession.objects.filter(path=path).count()
    ongoing = api.all_pages("/api/v2/paths/sessions", **{"startDate[lt]": "2025-06-01T00:00:00.000Z"})
    assert all(s["startDate"] < "2025-06-01" for s in ongoing)
    assert api.all_pages("/api/v2/integrations", **{"externalPlatform[eq]": "Sandbox Academy"})
    assert api.all_pages("/api/v2/integrations", **{"externalPlatform[ne]": "Sandbox Academy"}) == []


def test_archived_courses_leave_the_catalogue_unless_asked_for(api):
    archived = Course.objects.filter(status="archived")
    assert archived.exists()
    listed = {co["_id"] for co in api.all_pages("/api/v2/courses")}
    assert not listed & set(archived.values_list("oid", flat=True))
    assert {co["_id"] for co in api.all_pages("/api/v2/courses", **{"status[eq]": "archived"})} == set(
        archived.values_list("oid", flat=True)
    )


def test_it_answers_not_found_and_not_belonging_as_documented(api):
    session = PathSession.objects.select_related("path").order_by("pk").first()
    other_path = Path.objects.exclude(pk=session.path_id).order_by("pk").first()
    unknown = "0" * 24
    for suffix in ("user-stats", "user-statuses"):
        response = api.get(f"/api/v2/paths/{unknown}/sessions/{session.oid}/{suffix}")
        assert (response.status_code, response.json()["error"]["code"]) == (404, c.ERROR_PATH_NOT_FOUND)
        response = api.get(f"/api/v2/paths/{session.path.oid}/sessions/{unknown}/{suffix}")
        assert (response.status_code, response.json()["error"]["code"]) == (404, c.ERROR_SESSION_NOT_FOUND)
        response = api.get(f"/api/v2/paths/{other_path.oid}/sessions/{session.oid}/{suffix}")
        assert (response.status_code, response.json()["error"]["code"]) == (400, c.ERROR_SESSION_NOT_BELONG_TO_PATH)
    response = api.get(f"/api/v2/paths/{unknown}/sessions")
    assert (response.status_code, response.json()["error"]["code"]) == (404, c.ERROR_PATH_NOT_FOUND)


def test_user_stats_carry_every_detailed_status_and_reason(api):
    seen = set()
    for session in api.all_pages("/api/v2/paths/sessions"):
        for stat in api.all_pages(f"/api/v2/paths/{session['pathId']}/sessions/{session['_id']}/user-stats"):
            seen.add((stat["status"]["type"], stat["status"].get("reason")))
    assert {t for t, _ in seen} == set(c.DETAILED_STATUSES)
    assert ("toRetake", "mandatoryReplay") in seen
    assert ("unsuccessful", "sessionEnded") in seen


def test_it_answers_405_for_undocumented_methods(api):
    response = api.client.post(
        f"{c.URL_PREFIX_360}/api/v2/courses/stats", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status_code == 405
