"""The clients end to end against the sandbox LMS over real HTTP (``live_server``).

The sandbox listens on this machine's loopback address, so every client here is built with
``allow_loopback=True`` (what ``LMS_ALLOW_LOOPBACK`` gives the product in demo and tests).

The sandbox validates every request against the vendor documents and answers with
contract-shaped bodies; its request log shows what crossed the socket and how often.
Faults (429, 5xx, expired tokens, malformed or slow answers) are injected per client id.

Who is who:
- ``v2``: a Learning360Client on the demo tenant (``sandbox-client``), with a recording
  ``sleep`` (the sandbox does not need the waits to really happen) and a movable clock.
- ``v1``: a Learning360V1Client with the demo company and API key.
- ``ispring`` / ``ispring_xml``: ISpringClients asking for JSON and for XML.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from integrations.clients.errors import AuthError, BadResponse, NotFound, RateLimited, RemoteUnavailable
from integrations.clients.transport import RetryPolicy
from integrations.providers.ispring.client import ISpringClient
from integrations.providers.learning360.bulk_inputs import (
    CourseIdentifier,
    ExternalCourse,
    ExternalCourseSource,
    ExternalCourseStat,
    UserIdentifier,
)
from integrations.providers.learning360.client import Learning360Client
from integrations.providers.learning360.client_v1 import Learning360V1Client
from sandbox import bulk_integrations, constants as c, faults, seeding, selectors, tenants
from sandbox.models import KIND_GROUP, Group, IspringModuleResult, Tenant
from tests.integrations.clients.conftest import Clock, Sleeper

pytestmark = pytest.mark.django_db(transaction=True)

ANCHOR = datetime(2025, 6, 1, tzinfo=UTC)
TINY = {"users": 30, "paths": 2, "sessions": 3, "courses": 10, "attempts": 50, "seed": 3, "anchor": ANCHOR}
RETRY = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_cap=0.05, retry_after_cap=60)


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.now = time.time()
    return clock


@pytest.fixture
def v2(live_server, sleeper, clock):
    with Learning360Client(
        live_server.url + c.URL_PREFIX_360,
        c.DEFAULT_CLIENT_ID,
        c.DEFAULT_CLIENT_SECRET,
        sleep=sleeper,
        clock=clock,
        retry=RETRY,
        allow_loopback=True,
    ) as client:
        yield client


@pytest.fixture
def v1(live_server, sleeper):
    with Learning360V1Client(
        live_server.url + c.URL_PREFIX_360,
        c.DEFAULT_COMPANY_ID,
        c.DEFAULT_API_KEY,
        sleep=sleeper,
        retry=RETRY,
        allow_loopback=True,
    ) as client:
        yield client


def _ispring(live_server, sleeper, response_format):
    return ISpringClient(
        live_server.url + c.URL_PREFIX_ISPRING,
        c.DEFAULT_ISPRING_CLIENT_ID,
        c.DEFAULT_ISPRING_CLIENT_SECRET,
        sleep=sleeper,
        retry=RETRY,
        response_format=response_format,
        allow_loopback=True,
    )


@pytest.fixture
def ispring(live_server, sleeper):
    with _ispring(live_server, sleeper, "json") as client:
        yield client


@pytest.fixture
def ispring_xml(live_server, sleeper):
    with _ispring(live_server, sleeper, "xml") as client:
        yield client


def statuses(path: str, *, method: str = "GET", client_id: str = c.DEFAULT_CLIENT_ID) -> list[int]:
    """Statuses of the sandbox's answers to ``method path`` (exact vendor path), oldest first."""
    return [
        entry.status for entry in selectors.request_log_list(client_id=client_id, method=method) if entry.path == path
    ]


def token_requests() -> int:
    return len(statuses("/api/v2/oauth2/token", method="POST"))


# Pagination over several pages for every listing ------------------------------------------
def test_users_page_through_the_sandbox(v2):
    summary = seeding.seed(**{**TINY, "users": 1100})

    users = list(v2.users())

    assert len({u.id for u in users}) == len(users) >= summary.users
    assert statuses("/api/v2/users") == [200, 200, 200]


def test_groups_page_through_the_sandbox(v2):
    seeding.seed(**TINY)
    tenant = Tenant.objects.get(client_id=c.DEFAULT_CLIENT_ID)
    root = Group.objects.get(tenant=tenant, oid=tenant.object_id(KIND_GROUP, 0))
    Group.objects.bulk_create(
        Group(tenant=tenant, oid=tenant.object_id(KIND_GROUP, 100 + i), name=f"Team {i}", parent=root, public=True)
        for i in range(600)
    )

    groups = list(v2.groups())

    assert len({g.id for g in groups}) == len(groups) == 609
    assert statuses("/api/v2/groups") == [200, 200]


def test_courses_page_through_the_sandbox(v2):
    seeding.seed(**{**TINY, "courses": 1100})

    courses = list(v2.courses())

    # Some generated courses are deleted, which the listing leaves out; still three pages.
    assert len({x.id for x in courses}) == len(courses) > 1000
    assert statuses("/api/v2/courses") == [200, 200, 200]


def test_course_stats_page_through_the_sandbox_and_filters_apply(v2):
    summary = seeding.seed(**{**TINY, "attempts": 1100})

    attempts = list(v2.course_stats())
    one_course = attempts[0].course_id
    filtered = list(v2.course_stats(course_id_eq=one_course))
    since = datetime(2025, 1, 1, tzinfo=UTC)
    completed_since = list(v2.course_stats(completed_at_gte=since))

    assert len({a.id for a in attempts}) == len(attempts) == summary.attempts
    assert statuses("/api/v2/courses/stats")[:3] == [200, 200, 200]
    assert filtered and all(a.course_id == one_course for a in filtered)
    assert {a.id for a in filtered} == {a.id for a in attempts if a.course_id == one_course}
    assert {a.id for a in completed_since} == {
        a.id for a in attempts if a.completed_at and a.completed_at.replace(microsecond=0) >= since
    }


def test_paths_page_through_the_sandbox(v2):
    seeding.seed(**{**TINY, "paths": 450, "sessions": 0})

    paths = list(v2.paths())

    assert len({p.id for p in paths}) == len(paths) == 450
    assert statuses("/api/v2/paths") == [200, 200, 200]


def test_path_sessions_page_through_the_sandbox_globally_and_filtered_by_path(v2):
    seeding.seed(**{**TINY, "paths": 2, "sessions": 1100, "session_size": 1})

    sessions = list(v2.path_sessions())
    by_path = Counter(s.path_id for s in sessions)
    path_id, count = by_path.most_common(1)[0]
    filtered = list(v2.path_sessions(path_id_eq=path_id))

    assert len({s.id for s in sessions}) == len(sessions) == 1100
    assert statuses("/api/v2/paths/sessions").count(200) >= 3
    assert count > 200
    assert {s.id for s in filtered} == {s.id for s in sessions if s.path_id == path_id}
    assert len(filtered) == count


def test_path_session_user_stats_page_through_the_sandbox(v2, v1):
    seeding.seed(**{**TINY, "users": 4100, "paths": 1, "sessions": 1, "session_size": 4100, "attempts": 0})
    [session] = v2.path_sessions()

    stats = list(v2.path_session_user_stats(session.path_id, session.id))
    counts = v2.path_session_user_statuses(session.path_id, session.id)
    v1_stats = v1.path_session_stats(session.id)

    assert len({s.user_id for s in stats}) == len(stats) == 4100
    assert statuses(f"/api/v2/paths/{session.path_id}/sessions/{session.id}/user-stats") == [200, 200, 200]
    assert counts.by_status() == dict(Counter(s.status.type for s in stats)) | {
        k: 0 for k in counts.by_status() if k not in {s.status.type for s in stats}
    }
    # v1 and v2 describe the same learners with the same detailed statuses.
    assert Counter(u.detailed_status for u in v1_stats.user_stats) == Counter(s.status for s in stats)
    assert {k: v for k, v in v1_stats.detailed_status_counts.items() if v} == {
        k: v for k, v in counts.by_status().items() if v
    }


def test_integrations_page_through_the_sandbox(v2):
    seeding.seed(**TINY)
    tenant = Tenant.objects.get(client_id=c.DEFAULT_CLIENT_ID)
    [existing] = v2.integrations()
    for i in range(150):
        bulk_integrations.integration_create(
            tenant=tenant,
            data={"externalPlatform": f"platform-{i}", "groupId": existing.group_id, "authorId": existing.author_id},
        )

    integrations = list(v2.integrations())

    assert len({i.id for i in integrations}) == len(integrations) == 151
    assert statuses("/api/v2/integrations") == [200, 200, 200]  # the first call, then two pages


def test_bulk_operations_page_through_the_sandbox(v2):
    seeding.seed(**TINY)
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, bulk_concurrency_limit=100)
    [integration] = v2.integrations()
    created = {v2.bulk_courses_archive(integration.id, [f"gone-{i}"]) for i in range(45)}

    listed = list(v2.bulk_operations())

    assert created <= {o.id for o in listed}
    assert len(statuses("/api/v2/bulk/operations")) == 3


def test_ispring_module_results_page_through_the_sandbox(ispring):
    seeding.seed(**{**TINY, "ispring_results": 25})

    results = list(ispring.module_results(page_size=10))

    assert len(results) == 25
    assert statuses("/learners/modules/results", client_id=c.DEFAULT_ISPRING_CLIENT_ID) == [200, 200, 200]


def test_ispring_users_page_through_the_sandbox_in_json_and_xml(ispring, ispring_xml):
    summary = seeding.seed(**{**TINY, "ispring_results": 25})

    users = list(ispring.users(page_size=4))
    in_xml = list(ispring_xml.users(page_size=4))

    assert len(users) == summary.ispring_users == 9
    assert in_xml == users
    assert statuses("/users", client_id=c.DEFAULT_ISPRING_CLIENT_ID) == [200] * 6
    results = {r.user_id for r in ispring.module_results(user_statuses=[1, 3])}
    assert results == {u.user_id for u in users}
    [spaced] = ispring.users(emails=[users[2].email.strip().upper()])
    assert spaced == users[2] and spaced.email == f" {spaced.email.strip()} "


# Tokens ----------------------------------------------------------------------------------
def test_a_token_expiring_mid_listing_gets_one_reauthentication(v2):
    seeding.seed(**{**TINY, "attempts": 1100})

    listing = v2.course_stats()
    first = next(listing)
    tenants.token_expire(client_id=c.DEFAULT_CLIENT_ID)
    rest = list(listing)

    assert len(rest) + 1 == 1100 and first.id not in {a.id for a in rest}
    assert statuses("/api/v2/courses/stats") == [200, 401, 200, 200]
    assert token_requests() == 2


def test_a_token_is_refreshed_before_it_expires_mid_listing(v2, clock):
    seeding.seed(**{**TINY, "attempts": 1100})

    listing = v2.course_stats()
    next(listing)
    clock.advance(c.TOKEN_TTL_SECONDS - 30)  # inside the refresh margin
    assert len(list(listing)) == 1099

    assert statuses("/api/v2/courses/stats") == [200, 200, 200]  # no 401: refreshed beforehand
    assert token_requests() == 2


def test_an_expired_token_fault_on_ispring_gets_one_reauthentication(ispring):
    seeding.seed(**{**TINY, "ispring_results": 5})
    faults.fault_add(client_id=c.DEFAULT_ISPRING_CLIENT_ID, kind=c.FAULT_EXPIRED_TOKEN, path_prefix="/learners/")

    assert len(list(ispring.module_results())) == 5

    assert statuses("/learners/modules/results", client_id=c.DEFAULT_ISPRING_CLIENT_ID) == [401, 200]


def test_wrong_credentials_are_an_auth_error(live_server):
    client = Learning360Client(
        live_server.url + c.URL_PREFIX_360, c.DEFAULT_CLIENT_ID, "wrong-secret", allow_loopback=True
    )
    tenants.tenant_default()

    with pytest.raises(AuthError) as caught:
        list(client.groups())

    assert caught.value.code == c.ERROR_INVALID_CLIENT
    assert "wrong-secret" not in repr(caught.value)


# Faults ----------------------------------------------------------------------------------
def test_429_with_retry_after_is_honoured(v2, sleeper):
    seeding.seed(**TINY)
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_RATE_LIMIT, retry_after=2, path_prefix="/api/v2/users")

    assert len(list(v2.users())) >= 30

    assert sleeper.waits == [2.0]
    assert statuses("/api/v2/users") == [429, 200]


def test_503_then_success(v2, sleeper):
    seeding.seed(**TINY)
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SERVER_ERROR, status=503, path_prefix="/api/v2/courses"
    )

    assert list(v2.courses())

    assert statuses("/api/v2/courses") == [503, 200]
    assert len(sleeper.waits) == 1


def test_malformed_json_from_the_sandbox_is_a_bad_response(v2):
    seeding.seed(**TINY)
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_MALFORMED_BODY, path_prefix="/api/v2/courses/stats")

    with pytest.raises(BadResponse, match="malformed JSON"):
        list(v2.course_stats())


def test_malformed_xml_from_the_sandbox_is_a_bad_response(ispring_xml):
    seeding.seed(**{**TINY, "ispring_results": 5})
    faults.fault_add(client_id=c.DEFAULT_ISPRING_CLIENT_ID, kind=c.FAULT_MALFORMED_BODY, path_prefix="/learners/")

    with pytest.raises(BadResponse, match="malformed XML"):
        list(ispring_xml.module_results())


# iSpring formats -------------------------------------------------------------------------
def test_ispring_xml_and_json_bodies_give_equal_records(ispring, ispring_xml):
    seeding.seed(**{**TINY, "ispring_results": 40})

    from_json = list(ispring.module_results(page_size=15))
    from_xml = list(ispring_xml.module_results(page_size=15))

    # The default view lists the active learners' results: the seed blocks a few learners at random.
    active = IspringModuleResult.objects.filter(user_status=c.ISPRING_USER_ACTIVE).count()
    assert len(from_json) == active > 2 * 15
    assert from_json == from_xml
    assert {r.completion_status for r in from_json} == set(c.ISPRING_COMPLETION_STATUSES)


def test_ispring_accepts_every_filter(ispring):
    seeding.seed(**{**TINY, "ispring_results": 40})
    everything = list(ispring.module_results())
    sample = everything[0]

    narrowed = list(
        ispring.module_results(
            user_ids=[sample.user_id],
            course_ids=[sample.course_id],
            module_ids=[sample.module_id],
            course_item_ids=[sample.course_item_id],
            enrollment_ids=[sample.enrollment_id] if sample.enrollment_id else [],
            completion_statuses=[sample.completion_status],
            user_statuses=[1, 3],
            # Dates travel in whole seconds; the sandbox keeps sub-second values it does not show.
            access_date_start=sample.access_date,
            access_date_end=sample.access_date + timedelta(seconds=1),
        )
    )

    assert sample in narrowed
    assert all(r.user_id == sample.user_id and r.module_id == sample.module_id for r in narrowed)


# Integrations and bulk -------------------------------------------------------------------
def test_integration_create_edit_delete_round_trip(v2):
    seeding.seed(**TINY)
    [seeded] = v2.integrations()

    created = v2.integration_create(
        external_platform="Partner Academy",
        group_id=seeded.group_id,
        author_id=seeded.author_id,
        default_completion=True,
        default_progress=10,
        external_platform_logo_url="https://example.org/logo.svg",
    )
    edited = v2.integration_edit(created.id, default_progress=50, no_group_propagation=True)
    listed = {i.id: i for i in v2.integrations(external_platform_eq="Partner Academy")}
    v2.integration_delete(created.id)

    assert edited.default_progress == 50 and edited.no_group_propagation is True
    assert listed[created.id].default_progress == 50
    assert created.id not in {i.id for i in v2.integrations()}
    with pytest.raises(NotFound):
        v2.integration_delete(created.id)


def test_bulk_upsert_stats_and_archive_round_trip(v2):
    seeding.seed(**TINY)
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, bulk_min_state_seconds=0)
    [integration] = v2.integrations()
    [user] = list(v2.users(status_eq="active"))[:1]

    upsert = v2.bulk_courses_upsert(
        integration.id,
        [
            ExternalCourse(
                external_id=f"live-{i}",
                name=f"Live course {i}",
                launch_url=f"https://partner.example.org/c/{i}",
                default_lang="en",
                subjects=("Testing",),
                sources=(ExternalCourseSource("Partner"),),
                duration=15,
            )
            for i in range(3)
        ],
    )
    upsert_results = _finish(v2, upsert)
    stats = v2.bulk_stats_import(
        integration.id,
        [
            ExternalCourseStat(
                course=CourseIdentifier.by_external_id("live-0"),
                user=UserIdentifier.by_id(user.id),
                progress=100,
                time_spent_ms=60_000,
                first_activity_at=datetime(2025, 5, 1, 9, tzinfo=UTC),
                last_activity_at=datetime(2025, 5, 1, 10, tzinfo=UTC),
                score=90,
            ),
            ExternalCourseStat(
                course=CourseIdentifier.by_external_id("no-such-course"),
                user=UserIdentifier.by_id(user.id),
                progress=10,
                time_spent_ms=1_000,
                first_activity_at=datetime(2025, 5, 1, 9, tzinfo=UTC),
                last_activity_at=datetime(2025, 5, 1, 10, tzinfo=UTC),
            ),
        ],
    )
    stats_results = _finish(v2, stats)
    archive_results = _finish(v2, v2.bulk_courses_archive(integration.id, ["live-1"]))

    assert [r.ok for r in upsert_results] == [True, True, True]
    assert [r.ok for r in stats_results] == [True, False]
    assert stats_results[1].error_message
    assert [r.ok for r in archive_results] == [True]


def _finish(client: Learning360Client, operation_id: str) -> list:
    for _ in range(100):
        operation = client.bulk_operation(operation_id)
        if operation.is_finished:
            return list(client.bulk_operation_results(operation_id))
    raise AssertionError(f"bulk operation {operation_id} did not finish")


def test_a_bulk_post_that_times_out_after_sending_is_not_resent(live_server, sleeper):
    seeding.seed(**TINY)
    client = Learning360Client(
        live_server.url + c.URL_PREFIX_360,
        c.DEFAULT_CLIENT_ID,
        c.DEFAULT_CLIENT_SECRET,
        sleep=sleeper,
        retry=RETRY,
        timeout=(5, 0.5),
        allow_loopback=True,
    )
    [integration] = client.integrations()
    [user] = list(client.users(status_eq="active"))[:1]
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SLOW, delay_seconds=1.5, path_prefix="/api/v2/bulk/integrations/"
    )
    stat = ExternalCourseStat(
        course=CourseIdentifier.by_external_id("SA-00001"),
        user=UserIdentifier.by_id(user.id),
        progress=50,
        time_spent_ms=5_000,
        first_activity_at=datetime(2025, 5, 1, 9, tzinfo=UTC),
        last_activity_at=datetime(2025, 5, 1, 10, tzinfo=UTC),
    )

    with pytest.raises(RemoteUnavailable) as caught:
        client.bulk_stats_import(integration.id, [stat])

    assert caught.value.may_have_been_applied
    assert sleeper.waits == []
    # The sandbox did apply it once the slow answer completed: one operation, one POST.
    operations = selectors.bulk_operation_list(client_id=c.DEFAULT_CLIENT_ID, integration_oid=integration.id)
    posts = selectors.request_log_list(client_id=c.DEFAULT_CLIENT_ID, method="POST", path_prefix="/api/v2/bulk/")
    _wait_for(lambda: operations.count() == 1 and posts.count() == 1)
    time.sleep(0.2)  # room for a resend to show up, were there one
    assert operations.count() == 1
    assert posts.count() == 1


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.05)


def test_the_bulk_concurrency_limit_is_refused_and_not_applied(v2, sleeper):
    seeding.seed(**TINY)
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, bulk_concurrency_limit=1, bulk_min_state_seconds=60)
    [integration] = v2.integrations()
    v2.bulk_courses_archive(integration.id, ["a"])

    with pytest.raises(RateLimited) as caught:
        v2.bulk_courses_archive(integration.id, ["b"])

    assert caught.value.code == c.ERROR_CONCURRENCY_LIMIT
    assert not caught.value.may_have_been_applied
    assert sleeper.waits == []
    assert selectors.bulk_operation_list(client_id=c.DEFAULT_CLIENT_ID, integration_oid=integration.id).count() == 1


def test_a_disabled_bulk_api_is_refused_and_not_applied(v2, sleeper):
    seeding.seed(**TINY)
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, bulk_api_enabled=False)
    [integration] = v2.integrations()

    with pytest.raises(RemoteUnavailable) as caught:
        v2.bulk_courses_archive(integration.id, ["a"])

    assert caught.value.code == c.ERROR_BULK_API_DISABLED
    assert caught.value.status == 503
    assert not caught.value.may_have_been_applied
    assert sleeper.waits == []


# API v1 ----------------------------------------------------------------------------------
def test_v1_session_stats_over_http_never_log_the_api_key(v1, v2, caplog):
    seeding.seed(**TINY)
    [session, *_] = v2.path_sessions()
    caplog.set_level(logging.DEBUG)

    stats = v1.path_session_stats(session.id)

    assert stats.session_id == session.id
    assert stats.user_stats
    assert "apiKey=***" in caplog.text  # urllib3's request line, masked
    assert c.DEFAULT_API_KEY not in caplog.text


def test_v1_documented_errors_over_http(live_server, v1):
    seeding.seed(**TINY)
    wrong_key = Learning360V1Client(
        live_server.url + c.URL_PREFIX_360, c.DEFAULT_COMPANY_ID, "wrong-api-key", allow_loopback=True
    )

    with pytest.raises(NotFound) as missing:
        v1.path_session_stats("0" * 24)
    with pytest.raises(AuthError) as refused:
        wrong_key.path_session_stats("0" * 24)

    assert missing.value.code == c.V1_SESSION_NOT_FOUND
    assert refused.value.code == c.V1_UNAUTHORIZED
    assert "wrong-api-key" not in str(refused.value) + repr(refused.value)
