"""Learning360Client edge cases, stubbed at the HTTP seam.

Each test asserts what went on the wire: headers, query, JSON body (validated against the
vendor's OpenAPI request schema through ``sandbox.spec``), and how many requests were sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests
import responses
from urllib3.exceptions import NewConnectionError, ProtocolError

from integrations.clients.errors import (
    AuthError,
    BadRequest,
    BadResponse,
    BatchTooLarge,
    NotFound,
    PermissionDenied,
    RateLimited,
    RemoteUnavailable,
)
from integrations.clients.transport import InMemoryTokenStore
from integrations.providers.learning360 import client as l360, filters, resources
from integrations.providers.learning360.bulk_inputs import (
    CourseIdentifier,
    ExternalCourse,
    ExternalCourseSource,
    ExternalCourseStat,
    ExternalCourseTranslation,
    UserIdentifier,
)
from integrations.providers.learning360.client import Learning360Client
from sandbox import spec
from tests.integrations.clients import bodies
from tests.integrations.clients.conftest import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    RETRY,
    TOKEN_URL,
    add_token,
    calls_to,
    oid,
    sent,
    token_body,
)

STATS_URL = f"{BASE}/api/v2/courses/stats"
USERS_URL = f"{BASE}/api/v2/users"
INTEGRATION = oid(42)
BULK_COURSES_URL = f"{BASE}/api/v2/bulk/integrations/{INTEGRATION}/courses"
BULK_STATS_URL = f"{BASE}/api/v2/bulk/integrations/{INTEGRATION}/stats"
OPERATION = oid(77)
LOCATION = {"Location": f"{BASE}/api/v2/bulk/operations/{OPERATION}"}
T0 = datetime(2025, 6, 30, 13, 0, tzinfo=UTC)


def reset_after_sending() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    )


def refused_before_sending() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(NewConnectionError(None, "Failed to establish a new connection"))


def a_course(n: int = 1) -> ExternalCourse:
    return ExternalCourse(
        external_id=f"c-{n}",
        name="Machine Learning Crash Course",
        launch_url="https://player.example.org/c/1",
        default_lang="en",
        subjects=("Machine learning",),
        sources=(ExternalCourseSource("Wikipedia", logo_url="https://example.org/logo.png"),),
        description="Learn the basics.",
        content_type="course",
        difficulty_level="beginner",
        duration=10,
        translations=(ExternalCourseTranslation("fr", name="Cours", subjects=("Apprentissage",)),),
    )


def a_stat(n: int = 1) -> ExternalCourseStat:
    return ExternalCourseStat(
        course=CourseIdentifier.by_external_id(f"c-{n}"),
        user=UserIdentifier.by_mail(f"learner{n}@example.org"),
        progress=100,
        time_spent_ms=41390,
        first_activity_at=T0,
        last_activity_at=T0 + timedelta(minutes=5),
        score=75,
        result="success",
        lang="en",
        force_new=False,
    )


# Auth and headers ------------------------------------------------------------------------
def test_it_sends_the_version_header_bearer_token_and_user_agent_on_every_call(mocked, client):
    add_token(mocked)
    mocked.add(responses.GET, USERS_URL, json=[bodies.user(1)])

    assert [u.id for u in client.users()] == [oid(1)]

    token_call, users_call = (sent(c) for c in mocked.calls)
    assert token_call.method == "POST"
    assert token_call.json == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert spec.request_errors("POST", "/api/v2/oauth2/token", token_call.json) == []
    assert token_call.headers["360-api-version"] == "v2.0"
    assert users_call.headers["Authorization"] == "Bearer token-1"
    assert users_call.headers["360-api-version"] == "v2.0"
    assert users_call.headers["Accept"] == "application/json"
    for call in (token_call, users_call):
        assert call.headers["User-Agent"] == "lms-admin/9.9.9"


def test_it_reuses_the_token_until_the_refresh_margin_before_expiry(mocked, client, clock):
    add_token(mocked, "token-1", "token-2", expires_in=3600)
    mocked.add(responses.GET, USERS_URL, json=[])

    list(client.users())
    clock.advance(3600 - 61)
    list(client.users())
    clock.advance(2)  # now inside the 60 s margin
    list(client.users())

    gets = calls_to(mocked, "/api/v2/users")
    assert [g.headers["Authorization"] for g in gets] == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert len(calls_to(mocked, "/api/v2/oauth2/token")) == 2


def test_it_refreshes_the_token_before_expiry_in_the_middle_of_a_listing(mocked, client, clock):
    add_token(mocked, "token-1", "token-2")
    mocked.add(
        responses.GET,
        STATS_URL,
        json=[bodies.course_stat(1)],
        headers={"Link": '</api/v2/courses/stats?page=2>; rel="next"'},
    )
    mocked.add(responses.GET, STATS_URL, json=[bodies.course_stat(2)])

    listing = client.course_stats()
    assert next(listing).id == oid(1)
    clock.advance(3600)
    assert [s.id for s in listing] == [oid(2)]

    gets = calls_to(mocked, "/api/v2/courses/stats")
    assert [g.headers["Authorization"] for g in gets] == ["Bearer token-1", "Bearer token-2"]


def test_short_lived_tokens_are_still_used_for_half_their_lifetime(mocked, client, clock):
    add_token(mocked, "token-1", expires_in=10)
    mocked.add(responses.GET, USERS_URL, json=[])

    list(client.users())
    clock.advance(4)
    list(client.users())

    assert len(calls_to(mocked, "/api/v2/oauth2/token")) == 1


def test_it_reauthenticates_once_on_401_invalid_token_then_succeeds(mocked, client):
    add_token(mocked, "token-1", "token-2")
    mocked.add(responses.GET, USERS_URL, status=401, json={"error": "invalid_token"})
    mocked.add(responses.GET, USERS_URL, json=[bodies.user(1)])

    assert [u.id for u in client.users()] == [oid(1)]

    gets = calls_to(mocked, "/api/v2/users")
    assert [g.headers["Authorization"] for g in gets] == ["Bearer token-1", "Bearer token-2"]
    assert len(calls_to(mocked, "/api/v2/oauth2/token")) == 2


def test_it_gives_up_when_the_fresh_token_is_refused_too(mocked, client):
    add_token(mocked, "token-1", "token-2", "token-3")
    mocked.add(responses.GET, USERS_URL, status=401, json={"error": "invalid_token"})

    with pytest.raises(AuthError) as caught:
        list(client.users())

    assert caught.value.code == "invalid_token"
    assert caught.value.permanent
    assert len(calls_to(mocked, "/api/v2/users")) == 2
    assert len(calls_to(mocked, "/api/v2/oauth2/token")) == 2


def test_refused_credentials_raise_auth_error_without_retrying(mocked, client, sleeper):
    mocked.add(responses.POST, TOKEN_URL, status=401, json={"error": "invalid_client"})

    with pytest.raises(AuthError) as caught:
        list(client.users())

    assert caught.value.code == "invalid_client"
    assert caught.value.status == 401
    assert len(mocked.calls) == 1
    assert sleeper.waits == []


def test_clients_sharing_a_token_store_fetch_one_token(mocked, sleeper, clock):
    store = InMemoryTokenStore()
    add_token(mocked, "token-1", "token-2")
    mocked.add(responses.GET, USERS_URL, json=[])

    for _ in range(3):
        with Learning360Client(BASE, CLIENT_ID, CLIENT_SECRET, token_store=store, sleep=sleeper, clock=clock) as c:
            list(c.users())

    assert len(calls_to(mocked, "/api/v2/oauth2/token")) == 1
    [(key, (token, expires_at))] = store._tokens.items()
    assert token == "token-1"
    assert expires_at == clock.now + 3600 - 60
    assert CLIENT_SECRET not in key and CLIENT_ID not in key


def test_a_401_reuses_a_newer_token_another_process_already_stored(mocked, sleeper, clock):
    store = InMemoryTokenStore()
    add_token(mocked, "token-1")

    def refuse_while_another_worker_refreshes(request):
        [key] = store._tokens
        store.set(key, "token-from-another-worker", clock.now + 3000)
        return 401, {}, json.dumps({"error": "invalid_token"})

    mocked.add_callback(responses.GET, USERS_URL, callback=refuse_while_another_worker_refreshes)
    mocked.add(responses.GET, USERS_URL, json=[])
    client = Learning360Client(BASE, CLIENT_ID, CLIENT_SECRET, token_store=store, sleep=sleeper, clock=clock)

    list(client.users())

    gets = calls_to(mocked, "/api/v2/users")
    assert [g.headers["Authorization"] for g in gets] == ["Bearer token-1", "Bearer token-from-another-worker"]
    assert len(calls_to(mocked, "/api/v2/oauth2/token")) == 1


def test_a_token_answer_that_breaks_the_contract_is_a_bad_response(mocked, client):
    mocked.add(responses.POST, TOKEN_URL, json={"token_type": "Bearer", "access_token": "t"})

    with pytest.raises(BadResponse, match="expires_in"):
        list(client.users())


# Pagination ------------------------------------------------------------------------------
def test_it_follows_link_next_until_absent(mocked, client):
    add_token(mocked)
    mocked.add(
        responses.GET,
        STATS_URL,
        json=[bodies.course_stat(1), bodies.course_stat(2)],
        headers={"Link": '</api/v2/courses/stats?courseId[eq]=000000000000000000000258&after=2>; rel="next"'},
    )
    mocked.add(
        responses.GET,
        STATS_URL,
        json=[bodies.course_stat(3)],
        headers={"Link": f'<{BASE}/api/v2/courses/stats?courseId[eq]=000000000000000000000258&after=3>; rel="next"'},
    )
    mocked.add(responses.GET, STATS_URL, json=[bodies.course_stat(4)])

    ids = [s.id for s in client.course_stats(course_id_eq=oid(600))]

    assert ids == [oid(1), oid(2), oid(3), oid(4)]
    queries = [g.query for g in calls_to(mocked, "/api/v2/courses/stats")]
    assert queries == [
        [("courseId[eq]", oid(600))],
        [("courseId[eq]", oid(600)), ("after", "2")],
        [("courseId[eq]", oid(600)), ("after", "3")],
    ]


def test_it_reads_one_page_at_a_time(mocked, client):
    add_token(mocked)
    mocked.add(
        responses.GET,
        STATS_URL,
        json=[bodies.course_stat(1)],
        headers={"Link": '</api/v2/courses/stats?p=2>; rel="next"'},
    )
    mocked.add(responses.GET, STATS_URL, json=[bodies.course_stat(2)])

    listing = client.course_stats()
    assert len(mocked.calls) == 0  # nothing is sent until the caller iterates
    next(listing)

    assert len(calls_to(mocked, "/api/v2/courses/stats")) == 1


def test_it_refuses_a_next_link_to_another_origin(mocked, client):
    add_token(mocked)
    mocked.add(
        responses.GET,
        STATS_URL,
        json=[bodies.course_stat(1)],
        headers={"Link": '<https://evil.example/steal>; rel="next"'},
    )

    with pytest.raises(BadResponse, match="another origin"):
        list(client.course_stats())

    assert [sent(c).path for c in mocked.calls] == ["/api/v2/oauth2/token", "/api/v2/courses/stats"]


def test_it_stops_when_a_next_link_points_back_to_a_page_already_read(mocked, client):
    add_token(mocked)
    mocked.add(responses.GET, STATS_URL, json=[], headers={"Link": '</api/v2/courses/stats?p=2>; rel="next"'})
    mocked.add(responses.GET, STATS_URL, json=[], headers={"Link": '</api/v2/courses/stats?p=2>; rel="next"'})

    with pytest.raises(BadResponse, match="already read"):
        list(client.course_stats())

    assert len(calls_to(mocked, "/api/v2/courses/stats")) == 2


# Filters ---------------------------------------------------------------------------------
def test_it_turns_filter_keywords_into_bracket_params(mocked, client):
    add_token(mocked)
    mocked.add(responses.GET, STATS_URL, json=[])
    paris = timezone(timedelta(hours=2))

    list(
        client.course_stats(
            completed_at_gte=datetime(2025, 1, 1, 2, 0, 0, 123456, tzinfo=paris),
            completed_at_lt=datetime(2025, 2, 1, tzinfo=UTC),
            course_id_in=[oid(1), oid(2)],
            user_id_ne=oid(3),
            user_id_eq=None,
        )
    )

    [call] = calls_to(mocked, "/api/v2/courses/stats")
    assert call.query == [
        ("completedAt[gte]", "2025-01-01T00:00:00.123Z"),
        ("completedAt[lt]", "2025-02-01T00:00:00.000Z"),
        ("courseId[in]", oid(1)),
        ("courseId[in]", oid(2)),
        ("userId[ne]", oid(3)),
    ]


def test_it_refuses_filters_the_operation_does_not_document_before_sending(mocked, client):
    with pytest.raises(TypeError, match="completed_at_gte"):
        client.courses(completed_at_gte=T0)
    with pytest.raises(TypeError):
        client.users(status_in=["active"])
    with pytest.raises(TypeError, match="datetime"):
        client.course_stats(completed_at_gte="2025-01-01")
    with pytest.raises(ValueError, match="timezone"):
        client.course_stats(completed_at_gte=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="24-hex"):
        client.course_stats(course_id_eq="../../users")
    with pytest.raises(TypeError, match="sequence"):
        client.course_stats(course_id_in=oid(1))

    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("table", "method", "template"),
    [
        (filters.USERS_FILTERS, "GET", "/api/v2/users"),
        ({}, "GET", "/api/v2/groups"),
        (filters.COURSES_FILTERS, "GET", "/api/v2/courses"),
        (filters.COURSE_STATS_FILTERS, "GET", "/api/v2/courses/stats"),
        (filters.PATHS_FILTERS, "GET", "/api/v2/paths"),
        (filters.PATH_SESSIONS_FILTERS, "GET", "/api/v2/paths/sessions"),
        (filters.USER_STATS_FILTERS, "GET", "/api/v2/paths/{pathId}/sessions/{sessionId}/user-stats"),
        (filters.INTEGRATIONS_FILTERS, "GET", "/api/v2/integrations"),
        (filters.BULK_OPERATIONS_FILTERS, "GET", "/api/v2/bulk/operations"),
    ],
)
def test_each_listing_accepts_exactly_the_filters_its_operation_documents(table, method, template):
    documented = {field: set(ops) for field, ops in spec.operation_filters(spec.operation(method, template)).items()}
    assert {field: set(ops) for field, ops in table.items()} == documented


# Records ---------------------------------------------------------------------------------
def test_it_parses_course_stats_into_typed_records(mocked, client):
    add_token(mocked)
    mocked.add(
        responses.GET,
        STATS_URL,
        json=[bodies.course_stat(1), {**bodies.course_stat(2, score=None, completedAt=None), "extra": 1}],
    )

    first, second = client.course_stats()

    assert first == resources.CourseStat(
        id=oid(1),
        course_id=oid(600),
        user_id=oid(700),
        lang="en",
        time_spent_ms=41390.0,
        progress=100,
        score=75,
        first_activity_at=datetime(2025, 6, 30, 13, 0, tzinfo=UTC),
        last_activity_at=datetime(2025, 6, 30, 13, 23, 56, 59000, tzinfo=UTC),
        completed_at=datetime(2025, 6, 30, 13, 23, 56, 59000, tzinfo=UTC),
        version_number=0,
        path_id=oid(500),
        path_session_id=oid(501),
    )
    assert second.score is None and second.completed_at is None
    with pytest.raises(AttributeError):
        first.progress = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("call", "url", "body", "check"),
    [
        (
            lambda c: c.users(),
            "/api/v2/users",
            [bodies.user(1)],
            lambda r: r.mail == "learner1@example.org" and r.status == "active",
        ),
        (
            lambda c: c.groups(),
            "/api/v2/groups",
            [bodies.group(2)],
            lambda r: r.name == "Group 2" and r.parent_id == oid(1),
        ),
        (
            lambda c: c.courses(),
            "/api/v2/courses",
            [bodies.course(3)],
            lambda r: r.translations[0].name == "Cours 3" and r.type == "external",
        ),
        (lambda c: c.paths(), "/api/v2/paths", [bodies.path(4)], lambda r: r.name == "Path 4" and r.steps == ()),
        (
            lambda c: c.path_sessions(),
            "/api/v2/paths/sessions",
            [bodies.path_session(5)],
            lambda r: r.end_date.year == 2025,
        ),
        (
            lambda c: c.path_session_user_stats(oid(500), oid(501)),
            f"/api/v2/paths/{oid(500)}/sessions/{oid(501)}/user-stats",
            [bodies.user_stat(7, {"type": "unsuccessful", "reason": "sessionEnded"})],
            lambda r: r.status == resources.DetailedStatus("unsuccessful", "sessionEnded") and r.completed_at is None,
        ),
        (
            lambda c: c.integrations(),
            "/api/v2/integrations",
            [bodies.integration(8)],
            lambda r: r.external_platform == "platform-8",
        ),
        (
            lambda c: c.bulk_operations(),
            "/api/v2/bulk/operations",
            [bodies.bulk_operation("running")],
            lambda r: r.progress_index == 3,
        ),
    ],
)
def test_each_listing_yields_typed_records(mocked, client, call, url, body, check):
    add_token(mocked)
    mocked.add(responses.GET, BASE + url, json=body)

    [record] = list(call(client))

    assert check(record)


def test_it_reads_aggregated_user_statuses(mocked, client):
    add_token(mocked)
    mocked.add(
        responses.GET, f"{BASE}/api/v2/paths/{oid(1)}/sessions/{oid(2)}/user-statuses", json=bodies.user_statuses()
    )

    counts = client.path_session_user_statuses(oid(1), oid(2))

    assert counts.certificates == 3
    assert counts.by_status() == bodies.user_statuses()["usersCountByStatus"]


def test_malformed_json_is_a_bad_response(mocked, client):
    add_token(mocked)
    mocked.add(responses.GET, STATS_URL, body=b'[{"_id": "507f1f77bcf86cd7994', content_type="application/json")

    with pytest.raises(BadResponse, match="malformed JSON") as caught:
        list(client.course_stats())

    assert caught.value.status == 200
    assert not caught.value.permanent  # a truncated body may not happen twice


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"not": "a list"}, "JSON array"),
        ([bodies.course_stat(1, userId=None)], "userId"),
        ([bodies.course_stat(1, progress="100")], "progress"),
        ([bodies.course_stat(1, progress=True)], "progress"),
        ([bodies.course_stat(1, completedAt="yesterday")], "completedAt"),
        ([bodies.course_stat(1, courseId="not-an-id")], "courseId"),
        (["a string"], "JSON object"),
    ],
)
def test_a_body_that_breaks_the_contract_is_a_bad_response(mocked, client, body, field):
    add_token(mocked)
    mocked.add(responses.GET, STATS_URL, json=body)

    with pytest.raises(BadResponse, match=field) as caught:
        list(client.course_stats())

    assert caught.value.permanent


def test_a_page_that_breaks_the_contract_yields_none_of_its_records(mocked, client):
    add_token(mocked)
    mocked.add(responses.GET, STATS_URL, json=[bodies.course_stat(1), bodies.course_stat(2, lang=None)])

    listing = client.course_stats()
    with pytest.raises(BadResponse, match="item 1"):
        next(listing)


def test_an_unknown_detailed_status_is_a_bad_response(mocked, client):
    add_token(mocked)
    mocked.add(
        responses.GET,
        f"{BASE}/api/v2/paths/{oid(1)}/sessions/{oid(2)}/user-stats",
        json=[bodies.user_stat(1, {"type": "lost"})],
    )

    with pytest.raises(BadResponse, match="type"):
        list(client.path_session_user_stats(oid(1), oid(2)))


# Retries ---------------------------------------------------------------------------------
def test_it_honours_retry_after_on_429(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.GET, USERS_URL, status=429, json={"error": "tooManyRequests"}, headers={"Retry-After": "7"})
    mocked.add(responses.GET, USERS_URL, json=[bodies.user(1)])

    assert len(list(client.users())) == 1

    assert sleeper.waits == [7.0]
    assert len(calls_to(mocked, "/api/v2/users")) == 2


def test_a_retry_after_beyond_the_cap_raises_rate_limited_at_once(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.GET, USERS_URL, status=429, json={"error": "tooManyRequests"}, headers={"Retry-After": "3600"})

    with pytest.raises(RateLimited) as caught:
        list(client.users())

    assert caught.value.retry_after == 3600
    assert not caught.value.permanent
    assert sleeper.waits == []
    assert len(calls_to(mocked, "/api/v2/users")) == 1


def test_it_retries_503_then_succeeds(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.GET, USERS_URL, status=503, body="upstream down")
    mocked.add(responses.GET, USERS_URL, json=[bodies.user(1)])

    assert len(list(client.users())) == 1

    [wait] = sleeper.waits
    assert 0.25 <= wait <= 0.5  # backoff_base, jittered to 50-100 %


def test_it_retries_a_connection_reset_on_reads(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.GET, USERS_URL, body=reset_after_sending())
    mocked.add(responses.GET, USERS_URL, json=[])

    assert list(client.users()) == []
    assert len(calls_to(mocked, "/api/v2/users")) == 2
    assert len(sleeper.waits) == 1


def test_it_backs_off_exponentially_and_gives_up_after_max_attempts(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.GET, USERS_URL, status=502)

    with pytest.raises(RemoteUnavailable) as caught:
        list(client.users())

    assert caught.value.status == 502
    assert not caught.value.permanent
    assert len(calls_to(mocked, "/api/v2/users")) == RETRY.max_attempts
    assert len(sleeper.waits) == RETRY.max_attempts - 1
    for attempt, wait in enumerate(sleeper.waits, start=1):
        full = RETRY.backoff_base * 2 ** (attempt - 1)
        assert full / 2 <= wait <= full


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (400, bodies.error("sessionNotBelongToPath"), BadRequest, "sessionNotBelongToPath"),
        (403, bodies.error("invalid_scope"), PermissionDenied, "invalid_scope"),
        (404, bodies.error("pathNotFound", "No path with this id."), NotFound, "pathNotFound"),
        (418, {}, BadRequest, None),
    ],
)
def test_it_maps_4xx_to_permanent_errors_without_retrying(mocked, client, sleeper, status, body, error, code):
    add_token(mocked)
    url = f"{BASE}/api/v2/paths/{oid(1)}/sessions/{oid(2)}/user-stats"
    mocked.add(responses.GET, url, status=status, json=body)

    with pytest.raises(error) as caught:
        list(client.path_session_user_stats(oid(1), oid(2)))

    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.code == code
    assert caught.value.permanent
    assert sleeper.waits == []
    if code == "pathNotFound":
        assert "No path with this id." in str(caught.value)


def test_it_does_not_follow_redirects(mocked, client):
    add_token(mocked)
    mocked.add(responses.GET, USERS_URL, status=302, headers={"Location": "https://evil.example/"})

    with pytest.raises(BadResponse, match="redirect"):
        list(client.users())

    assert [sent(c).path for c in mocked.calls] == ["/api/v2/oauth2/token", "/api/v2/users"]


def test_malformed_ids_are_refused_before_sending(mocked, client):
    with pytest.raises(ValueError):
        client.path_session_user_stats("../admin", oid(1))
    with pytest.raises(ValueError):
        client.bulk_operation("x?y=1")
    with pytest.raises(ValueError):
        client.bulk_stats_import("nope", [a_stat()])

    assert len(mocked.calls) == 0


# Integrations ----------------------------------------------------------------------------
def test_it_creates_an_integration_with_a_contract_valid_body(mocked, client):
    add_token(mocked)
    mocked.add(responses.POST, f"{BASE}/api/v2/integrations", status=201, json=bodies.integration(8))

    created = client.integration_create(
        external_platform="platform-8",
        group_id=oid(901),
        author_id=oid(900),
        default_completion=True,
        default_progress=0,
        external_platform_logo_url="https://example.org/logo.svg",
    )

    assert created.id == oid(8)
    [call] = calls_to(mocked, "/api/v2/integrations")
    assert call.json == {
        "externalPlatform": "platform-8",
        "groupId": oid(901),
        "authorId": oid(900),
        "defaultCompletion": True,
        "defaultProgress": 0,
        "externalPlatformLogoUrl": "https://example.org/logo.svg",
    }
    assert spec.request_errors("POST", "/api/v2/integrations", call.json) == []


def test_it_edits_only_the_given_fields_of_an_integration(mocked, client):
    add_token(mocked)
    answer = {k: v for k, v in bodies.integration(8, defaultProgress=50).items() if k != "_id"}
    mocked.add(responses.PATCH, f"{BASE}/api/v2/integrations/{oid(8)}", json=answer)

    edited = client.integration_edit(oid(8), default_progress=50, no_group_propagation=True)

    assert edited.id == oid(8)
    assert edited.default_progress == 50
    [call] = calls_to(mocked, f"/api/v2/integrations/{oid(8)}")
    assert call.method == "PATCH"
    assert call.json == {"defaultProgress": 50, "noGroupPropagation": True}
    assert spec.request_errors("PATCH", "/api/v2/integrations/{integrationId}", call.json) == []
    assert spec.response_errors("PATCH", "/api/v2/integrations/{integrationId}", 200, answer) == []


def test_it_deletes_an_integration(mocked, client):
    add_token(mocked)
    mocked.add(responses.DELETE, f"{BASE}/api/v2/integrations/{oid(8)}", status=204)

    assert client.integration_delete(oid(8)) is None

    [call] = calls_to(mocked, f"/api/v2/integrations/{oid(8)}")
    assert call.method == "DELETE" and not call.body


def test_a_duplicate_external_platform_is_a_bad_request_with_the_remote_message(mocked, client):
    add_token(mocked)
    mocked.add(
        responses.POST,
        f"{BASE}/api/v2/integrations",
        status=400,
        json=bodies.error("duplicateExternalPlatform", "An integration already uses this platform."),
    )

    with pytest.raises(BadRequest) as caught:
        client.integration_create(external_platform="p", group_id=oid(1), author_id=oid(2))

    assert caught.value.code == "duplicateExternalPlatform"
    assert "An integration already uses this platform." in caught.value.message
    assert not caught.value.may_have_been_applied


def test_an_integration_create_whose_answer_is_lost_is_not_resent(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.POST, f"{BASE}/api/v2/integrations", body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(RemoteUnavailable) as caught:
        client.integration_create(external_platform="p", group_id=oid(1), author_id=oid(2))

    assert caught.value.may_have_been_applied
    assert len(calls_to(mocked, "/api/v2/integrations")) == 1
    assert sleeper.waits == []


def test_an_unreadable_201_says_the_integration_may_exist(mocked, client):
    add_token(mocked)
    mocked.add(responses.POST, f"{BASE}/api/v2/integrations", status=201, json={"_id": oid(1)})

    with pytest.raises(BadResponse) as caught:
        client.integration_create(external_platform="p", group_id=oid(1), author_id=oid(2))

    assert caught.value.may_have_been_applied


def test_integration_edit_refuses_unknown_fields_before_sending(mocked, client):
    with pytest.raises(TypeError, match="colour"):
        client.integration_edit(oid(8), colour="red")
    with pytest.raises(ValueError):
        client.integration_edit(oid(8))

    assert len(mocked.calls) == 0


# Bulk ------------------------------------------------------------------------------------
def test_bulk_courses_upsert_sends_a_contract_valid_body_and_returns_the_operation_id(mocked, client):
    add_token(mocked)
    mocked.add(responses.PUT, BULK_COURSES_URL, status=202, headers=LOCATION)

    operation_id = client.bulk_courses_upsert(
        INTEGRATION,
        [
            a_course(1),
            {
                "externalId": "raw",
                "name": "Raw",
                "launchUrl": "https://x",
                "defaultLang": "en",
                "sources": [],
                "subjects": [],
            },
        ],
    )

    assert operation_id == OPERATION
    [call] = calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/courses")
    assert call.method == "PUT"
    assert call.json["input"][0] == {
        "externalId": "c-1",
        "name": "Machine Learning Crash Course",
        "launchUrl": "https://player.example.org/c/1",
        "defaultLang": "en",
        "subjects": ["Machine learning"],
        "sources": [{"name": "Wikipedia", "logoUrl": "https://example.org/logo.png"}],
        "description": "Learn the basics.",
        "contentType": "course",
        "difficultyLevel": "beginner",
        "duration": 10,
        "translations": [{"lang": "fr", "translatedFields": {"name": "Cours", "subjects": ["Apprentissage"]}}],
    }
    assert spec.request_errors("PUT", "/api/v2/bulk/integrations/{integrationId}/courses", call.json) == []


def test_bulk_courses_archive_sends_external_ids(mocked, client):
    add_token(mocked)
    mocked.add(responses.DELETE, BULK_COURSES_URL, status=202, headers=LOCATION)

    assert client.bulk_courses_archive(INTEGRATION, ["c-1", "c-2"]) == OPERATION

    [call] = calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/courses")
    assert call.method == "DELETE"
    assert call.json == {"input": [{"externalId": "c-1"}, {"externalId": "c-2"}]}
    assert spec.request_errors("DELETE", "/api/v2/bulk/integrations/{integrationId}/courses", call.json) == []


def test_bulk_stats_import_sends_a_contract_valid_body(mocked, client):
    add_token(mocked)
    mocked.add(responses.POST, BULK_STATS_URL, status=202, headers={"Location": f"/api/v2/bulk/operations/{OPERATION}"})

    assert client.bulk_stats_import(INTEGRATION, [a_stat(1)]) == OPERATION

    [call] = calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/stats")
    assert call.json == {
        "input": [
            {
                "courseIdentifier": {"type": "externalId", "value": "c-1"},
                "userIdentifier": {"type": "mail", "value": "learner1@example.org"},
                "progress": 100,
                "timeSpent": 41390,
                "firstActivityAt": "2025-06-30T13:00:00.000Z",
                "lastActivityAt": "2025-06-30T13:05:00.000Z",
                "score": 75,
                "result": "success",
                "lang": "en",
                "forceNew": False,
            }
        ]
    }
    assert spec.request_errors("POST", "/api/v2/bulk/integrations/{integrationId}/stats", call.json) == []


def test_a_bulk_post_whose_read_times_out_after_sending_is_not_resent(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.POST, BULK_STATS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    mocked.add(responses.POST, BULK_STATS_URL, status=202, headers=LOCATION)  # would be used by a resend

    with pytest.raises(RemoteUnavailable) as caught:
        client.bulk_stats_import(INTEGRATION, [a_stat(1)])

    assert caught.value.may_have_been_applied
    assert "may have been applied" in str(caught.value)
    assert len(calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/stats")) == 1
    assert sleeper.waits == []


def test_a_bulk_call_reset_after_sending_is_not_resent(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.PUT, BULK_COURSES_URL, body=reset_after_sending())

    with pytest.raises(RemoteUnavailable) as caught:
        client.bulk_courses_upsert(INTEGRATION, [a_course()])

    assert caught.value.may_have_been_applied
    assert len(calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/courses")) == 1


def test_a_bulk_call_that_never_connected_is_retried(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(responses.POST, BULK_STATS_URL, body=refused_before_sending())
    mocked.add(responses.POST, BULK_STATS_URL, status=202, headers=LOCATION)

    assert client.bulk_stats_import(INTEGRATION, [a_stat()]) == OPERATION

    assert len(calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/stats")) == 2
    assert len(sleeper.waits) == 1


def test_a_bulk_call_that_never_connected_reports_not_applied_when_attempts_run_out(mocked, client):
    add_token(mocked)
    mocked.add(responses.POST, BULK_STATS_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))

    with pytest.raises(RemoteUnavailable) as caught:
        client.bulk_stats_import(INTEGRATION, [a_stat()])

    assert not caught.value.may_have_been_applied
    assert len(calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/stats")) == RETRY.max_attempts


def test_the_bulk_concurrency_limit_is_raised_as_not_applied_without_waiting(mocked, client, sleeper):
    add_token(mocked)
    mocked.add(
        responses.POST,
        BULK_STATS_URL,
        status=429,
        json=bodies.error("bulkOperationsConcurrencyLimitReached"),
        headers={"Retry-After": "1"},
    )

    with pytest.raises(RateLimited) as caught:
        client.bulk_stats_import(INTEGRATION, [a_stat()])

    assert caught.value.code == "bulkOperationsConcurrencyLimitReached"
    assert caught.value.retry_after == 1
    assert not caught.value.may_have_been_applied
    assert sleeper.waits == []
    assert len(calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/stats")) == 1


@pytest.mark.parametrize(
    ("status", "body", "applied"),
    [
        (503, bodies.error("bulkAPIDisabled"), False),
        (502, None, True),
        (500, bodies.error("internal"), True),
    ],
)
def test_bulk_5xx_are_not_retried_and_say_whether_they_may_have_applied(mocked, client, sleeper, status, body, applied):
    add_token(mocked)
    mocked.add(responses.PUT, BULK_COURSES_URL, status=status, json=body)

    with pytest.raises(RemoteUnavailable) as caught:
        client.bulk_courses_upsert(INTEGRATION, [a_course()])

    assert caught.value.may_have_been_applied is applied
    assert not caught.value.permanent
    assert sleeper.waits == []
    assert len(calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/courses")) == 1


def test_a_bulk_call_refused_with_401_is_resent_once_with_a_fresh_token(mocked, client):
    add_token(mocked, "token-1", "token-2")
    mocked.add(responses.POST, BULK_STATS_URL, status=401, json={"error": "invalid_token"})
    mocked.add(responses.POST, BULK_STATS_URL, status=202, headers=LOCATION)

    assert client.bulk_stats_import(INTEGRATION, [a_stat()]) == OPERATION

    posts = calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/stats")
    assert [p.headers["Authorization"] for p in posts] == ["Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize(
    ("call", "limit"),
    [
        (lambda c, n: c.bulk_courses_upsert(INTEGRATION, [a_course(i) for i in range(n)]), l360.COURSES_UPSERT_LIMIT),
        (lambda c, n: c.bulk_courses_archive(INTEGRATION, [f"c-{i}" for i in range(n)]), l360.COURSES_ARCHIVE_LIMIT),
        (lambda c, n: c.bulk_stats_import(INTEGRATION, [a_stat(i) for i in range(n)]), l360.STATS_IMPORT_LIMIT),
    ],
)
def test_over_limit_batches_are_refused_before_sending(mocked, client, call, limit):
    with pytest.raises(BatchTooLarge) as caught:
        call(client, limit + 1)

    assert isinstance(caught.value, ValueError) and isinstance(caught.value, BadRequest)
    assert caught.value.permanent and not caught.value.may_have_been_applied
    assert f"{limit:,}" in str(caught.value)
    assert len(mocked.calls) == 0  # not even a token request


def test_the_documented_limits_match_the_bulk_document():
    def max_items(method: str, template: str) -> int:
        schema = spec.operation(method, template)["requestBody"]["content"]["application/json"]["schema"]
        name = schema["$ref"].rsplit("/", 1)[-1]
        return spec.document(spec.BULK_DOCUMENT)["components"]["schemas"][name]["properties"]["input"]["maxItems"]

    assert max_items("PUT", "/api/v2/bulk/integrations/{integrationId}/courses") == l360.COURSES_UPSERT_LIMIT
    assert max_items("DELETE", "/api/v2/bulk/integrations/{integrationId}/courses") == l360.COURSES_ARCHIVE_LIMIT
    assert max_items("POST", "/api/v2/bulk/integrations/{integrationId}/stats") == l360.STATS_IMPORT_LIMIT


def test_a_batch_at_the_limit_is_sent(mocked, client):
    add_token(mocked)
    mocked.add(responses.DELETE, BULK_COURSES_URL, status=202, headers=LOCATION)

    client.bulk_courses_archive(INTEGRATION, [f"c-{i}" for i in range(l360.COURSES_ARCHIVE_LIMIT)])

    [call] = calls_to(mocked, f"/api/v2/bulk/integrations/{INTEGRATION}/courses")
    assert len(call.json["input"]) == 1000
    assert spec.request_errors("DELETE", "/api/v2/bulk/integrations/{integrationId}/courses", call.json) == []


def test_an_empty_batch_is_refused_before_sending(mocked, client):
    with pytest.raises(ValueError, match="empty"):
        client.bulk_stats_import(INTEGRATION, [])

    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Location": f"{BASE}/api/v2/bulk/operations/not-an-id"}, {"Location": f"{BASE}/elsewhere/{OPERATION}"}],
)
def test_a_202_without_an_operation_url_says_it_may_have_been_applied(mocked, client, headers):
    add_token(mocked)
    mocked.add(responses.POST, BULK_STATS_URL, status=202, headers=headers)

    with pytest.raises(BadResponse) as caught:
        client.bulk_stats_import(INTEGRATION, [a_stat()])

    assert caught.value.may_have_been_applied


@pytest.mark.parametrize("status", ["pending", "queued", "running", "completed", "error"])
def test_it_reads_a_bulk_operation_in_every_status(mocked, client, status):
    add_token(mocked)
    mocked.add(responses.GET, f"{BASE}/api/v2/bulk/operations/{OPERATION}", json=bodies.bulk_operation(status))

    operation = client.bulk_operation(OPERATION)

    assert operation.status == status
    assert operation.is_finished is (status in ("completed", "error"))
    assert (operation.progress_index is None) is (status in ("pending", "queued"))
    assert (operation.error_message is not None) is (status == "error")


def test_a_running_operation_without_progress_is_a_bad_response(mocked, client):
    add_token(mocked)
    body = bodies.bulk_operation("running")
    del body["progress"]
    mocked.add(responses.GET, f"{BASE}/api/v2/bulk/operations/{OPERATION}", json=body)

    with pytest.raises(BadResponse, match="progress"):
        client.bulk_operation(OPERATION)


def test_bulk_results_come_back_in_input_order_with_their_index(mocked, client):
    add_token(mocked)
    mocked.add(responses.GET, f"{BASE}/api/v2/bulk/operations/{OPERATION}/results", json=bodies.bulk_results())

    first, second = client.bulk_operation_results(OPERATION)

    assert (first.index, first.ok, first.resource_id, first.error_message) == (0, True, oid(1), None)
    assert (second.index, second.ok, second.resource_id) == (1, False, None)
    assert second.error_message == "No course matches courseIdentifier."
    assert second.input == {"externalId": "c-2"}
    with pytest.raises(TypeError):
        second.input["externalId"] = "x"  # type: ignore[index]


def test_results_of_an_operation_that_has_not_run_are_a_bad_request(mocked, client):
    add_token(mocked)
    mocked.add(
        responses.GET,
        f"{BASE}/api/v2/bulk/operations/{OPERATION}/results",
        status=400,
        json=bodies.error("bulkOperationNotRun"),
    )

    with pytest.raises(BadRequest) as caught:
        list(client.bulk_operation_results(OPERATION))

    assert caught.value.code == "bulkOperationNotRun"


# Construction ----------------------------------------------------------------------------
def test_region_constants_are_the_documented_servers():
    servers = [s["url"] for s in spec.document(spec.CORE_DOCUMENT)["servers"]]
    assert servers == [l360.EU_BASE_URL, l360.US_BASE_URL]


def test_it_refuses_non_http_base_urls():
    with pytest.raises(ValueError):
        Learning360Client("ftp://example.org", CLIENT_ID, CLIENT_SECRET)
    with pytest.raises(ValueError):
        Learning360Client(BASE, CLIENT_ID, "")


def test_token_fixture_follows_the_contract():
    assert spec.response_errors("POST", "/api/v2/oauth2/token", 200, token_body()) == []
