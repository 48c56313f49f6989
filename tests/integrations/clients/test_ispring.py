"""ISpringClient edge cases, stubbed at the HTTP seam: token form, filters, pageToken
pagination, JSON and XML bodies, and untrusted XML refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import responses

from integrations.clients.errors import AuthError, BadRequest, BadResponse, PermissionDenied
from integrations.providers.ispring.client import ModuleResult
from integrations.providers.ispring.vocabulary import COMPLETION_STATUSES
from sandbox import spec
from tests.integrations.clients import bodies
from tests.integrations.clients.conftest import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    ISPRING_TOKEN_URL,
    calls_to,
)

RESULTS_URL = f"{BASE}/learners/modules/results"
RESULTS_PATH = "/learners/modules/results"


def add_ispring_token(mocked, *tokens: str) -> None:
    for token in tokens or ("ispring-token-1",):
        mocked.add(
            responses.POST, ISPRING_TOKEN_URL, json={"access_token": token, "expires_in": 3600, "token_type": "bearer"}
        )


def test_it_asks_for_a_token_with_the_form_fields_of_the_collection(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([]))

    assert list(ispring_client.module_results()) == []

    [token_call] = calls_to(mocked, "/api/v3/token")
    assert token_call.method == "POST"
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert token_call.headers["Accept"] == "application/json"
    assert token_call.form == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "client_credentials",
    }
    [results_call] = calls_to(mocked, RESULTS_PATH)
    assert results_call.headers["Authorization"] == "Bearer ispring-token-1"
    assert results_call.headers["Accept"] == "application/json"
    assert results_call.query == []


def test_it_sends_every_filter_of_the_operation(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([]))
    moscow = timezone(timedelta(hours=3))

    list(
        ispring_client.module_results(
            user_ids=["u1", "u2"],
            course_ids=["c1"],
            module_ids=["m1", "m2"],
            course_item_ids=["ci1"],
            enrollment_ids=["e1"],
            department_ids=["d1"],
            completion_statuses=["passed", "failed"],
            user_statuses=[1, 3],
            access_date_start=datetime(2019, 12, 25, 0, 0, tzinfo=moscow),
            access_date_end=datetime(2020, 12, 30, 3, 0, tzinfo=UTC),
            due_date_start=datetime(2019, 8, 30, 3, 0, tzinfo=UTC),
            due_date_end=datetime(2019, 12, 30, 3, 0, tzinfo=UTC),
            completion_date_start=datetime(2019, 8, 30, 3, 0, tzinfo=UTC),
            completion_date_end=datetime(2019, 12, 30, 3, 0, tzinfo=UTC),
            page_size=33,
        )
    )

    [call] = calls_to(mocked, RESULTS_PATH)
    assert call.query == [
        ("userIds[]", "u1"),
        ("userIds[]", "u2"),
        ("courseIds[]", "c1"),
        ("moduleIds[]", "m1"),
        ("moduleIds[]", "m2"),
        ("courseItemIds[]", "ci1"),
        ("enrollmentIds[]", "e1"),
        ("departmentIds[]", "d1"),
        ("completionStatuses[]", "passed"),
        ("completionStatuses[]", "failed"),
        ("userStatuses[]", "1"),
        ("userStatuses[]", "3"),
        ("accessDate[startDate]", "2019-12-24T21:00:00Z"),
        ("accessDate[endDate]", "2020-12-30T03:00:00Z"),
        ("dueDate[startDate]", "2019-08-30T03:00:00Z"),
        ("dueDate[endDate]", "2019-12-30T03:00:00Z"),
        ("completionDate[startDate]", "2019-08-30T03:00:00Z"),
        ("completionDate[endDate]", "2019-12-30T03:00:00Z"),
        ("pageSize", "33"),
    ]


def test_completion_statuses_are_the_schema_enum():
    enum = spec._ispring_document()["components"]["schemas"]["CompletionStatus"]["enum"]
    assert set(enum) == set(COMPLETION_STATUSES)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"completion_statuses": ["finished"]},
        {"user_statuses": [2]},
        {"access_date_start": datetime(2020, 1, 1)},
        {"page_size": 0},
        {"user_ids": "u1"},
    ],
)
def test_invalid_filters_are_refused_before_sending(mocked, ispring_client, kwargs):
    with pytest.raises((ValueError, TypeError)):
        ispring_client.module_results(**kwargs)

    assert len(mocked.calls) == 0


def test_it_follows_next_page_token_until_absent(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([bodies.ispring_result(1)], "tok-2"))
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([bodies.ispring_result(2)], "tok-3"))
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([bodies.ispring_result(3)]))

    results = list(ispring_client.module_results(course_ids=["c1"], page_size=1))

    assert [r.user_id[-1] for r in results] == ["1", "2", "3"]
    queries = [c.query for c in calls_to(mocked, RESULTS_PATH)]
    assert queries == [
        [("courseIds[]", "c1"), ("pageSize", "1")],
        [("courseIds[]", "c1"), ("pageSize", "1"), ("pageToken", "tok-2")],
        [("courseIds[]", "c1"), ("pageSize", "1"), ("pageToken", "tok-3")],
    ]


def test_an_empty_next_page_token_ends_the_listing(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([bodies.ispring_result(1)], ""))

    assert len(list(ispring_client.module_results())) == 1
    assert len(calls_to(mocked, RESULTS_PATH)) == 1


def test_a_repeated_page_token_is_a_bad_response(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([], "same"))

    with pytest.raises(BadResponse, match="repeats"):
        list(ispring_client.module_results())

    assert len(calls_to(mocked, RESULTS_PATH)) == 2


def test_it_parses_json_results_into_typed_records(mocked, ispring_client):
    add_ispring_token(mocked)
    sparse = bodies.ispring_result(2, dueDate=None, enrollmentId=None, progress=None, viewsCount=None)
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([bodies.ispring_result(1), sparse]))

    full, partial = ispring_client.module_results()

    assert full == ModuleResult(
        user_id="114dba08-a75e-11eb-b4e5-000000000001",
        course_id="f0e7400a-ca31-11e9-b6fc-0a580af40a22",
        module_id="5a98720f-41e2-11ea-8a66-0a580af40c6f",
        module_title="Module <1> & more",
        course_item_id="553964ac-3c5c-11ef-b1c4-02420a200163",
        access_date=datetime(2021, 7, 28, 21, 0, tzinfo=UTC),
        completion_status="in_progress",
        is_overdue=True,
        enrollment_id="b9b41af0-f062-11eb-a99d-0242ac190033",
        due_date=datetime(2021, 7, 29, 21, 0, tzinfo=UTC),
        expiration_date=None,
        completion_date=None,
        time_spent=10,
        progress=9.09,
        awarded_score=50.0,
        passing_score=80.5,
        views_count=2,
    )
    assert (partial.due_date, partial.enrollment_id, partial.progress, partial.views_count) == (None, None, None, None)
    assert partial.is_overdue is False


def test_xml_and_json_bodies_give_equal_records(mocked, ispring_client, ispring_xml_client):
    results = [bodies.ispring_result(1), bodies.ispring_result(2, dueDate=None, progress=50)]
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page(results[:1], "p2"))
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page(results[1:]))
    mocked.add(responses.GET, RESULTS_URL, body=bodies.ispring_xml(results[:1], "p2"), content_type="application/xml")
    mocked.add(responses.GET, RESULTS_URL, body=bodies.ispring_xml(results[1:]), content_type="application/xml")

    from_json = list(ispring_client.module_results())
    from_xml = list(ispring_xml_client.module_results())

    assert from_json == from_xml
    assert len(from_xml) == 2
    xml_calls = calls_to(mocked, RESULTS_PATH)[2:]
    assert [c.headers["Accept"] for c in xml_calls] == ["application/xml", "application/xml"]
    assert xml_calls[1].query == [("pageToken", "p2")]


def test_it_parses_the_seed_pages_xml_example(mocked, ispring_xml_client):
    seed_body = """<?xml version="1.0" encoding="UTF-8"?>
<response>
  <results>
    <result>
      <userId>114dba08-a75e-11eb-b4e5-0242ac13002a</userId>
      <courseId>f0e7400a-ca31-11e9-b6fc-0a580af40a22</courseId>
      <moduleTitle>Course 3</moduleTitle>
      <moduleId>6657451e-3c5c-11ef-ae43-02420a200177</moduleId>
      <courseItemId>81fdb5be-3c5c-11ef-9bec-02420a200177</courseItemId>
      <enrollmentId>b44e7392-f389-11eb-b462-0242ac130033</enrollmentId>
      <accessDate>2021-08-01T21:00:00+00:00</accessDate>
      <dueDate>2021-08-03T21:00:00+00:00</dueDate>
      <timeSpent>0</timeSpent>
      <completionStatus>not_started</completionStatus>
      <isOverdue>1</isOverdue>
    </result>
  </results>
</response>"""
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, body=seed_body, content_type="application/xml")

    [result] = ispring_xml_client.module_results()

    assert result.module_title == "Course 3"
    assert result.is_overdue is True
    assert result.progress is None
    assert result.time_spent == 0


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (bodies.BILLION_LAUGHS, "refused"),
        (bodies.EXTERNAL_ENTITY, "refused"),
        ('<?xml version="1.0"?><response><results><result><userId>114dba08', "malformed XML"),
        ("<other/>", "root"),
        ("<response/>", "results"),
        ("<response><results><result><userId>u</userId></result></results></response>", "courseId"),
    ],
)
def test_untrusted_or_broken_xml_is_a_bad_response(mocked, ispring_xml_client, body, match):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, body=body, content_type="application/xml")

    with pytest.raises(BadResponse, match=match):
        list(ispring_xml_client.module_results())


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"results": [bodies.ispring_result(1, completionStatus="finished")]}, "completionStatus"),
        ({"results": [bodies.ispring_result(1, isOverdue="yes")]}, "isOverdue"),
        ({"results": [bodies.ispring_result(1, accessDate=None)]}, "accessDate"),
        ({"items": []}, "results"),
    ],
)
def test_a_json_body_that_breaks_the_schema_is_a_bad_response(mocked, ispring_client, body, match):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, json=body)

    with pytest.raises(BadResponse, match=match):
        list(ispring_client.module_results())


def test_malformed_json_is_a_bad_response(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, body='{"results": [', content_type="application/json")

    with pytest.raises(BadResponse, match="malformed JSON"):
        list(ispring_client.module_results())


def test_it_reauthenticates_once_on_401(mocked, ispring_client):
    add_ispring_token(mocked, "ispring-token-1", "ispring-token-2")
    mocked.add(responses.GET, RESULTS_URL, status=401, json={"code": 8122, "message": "Token expired"})
    mocked.add(responses.GET, RESULTS_URL, json=bodies.ispring_page([]))

    list(ispring_client.module_results())

    calls = calls_to(mocked, RESULTS_PATH)
    assert [c.headers["Authorization"] for c in calls] == ["Bearer ispring-token-1", "Bearer ispring-token-2"]


def test_refused_credentials_raise_auth_error_with_the_remote_code(mocked, ispring_client):
    mocked.add(responses.POST, ISPRING_TOKEN_URL, status=401, json={"code": 8150, "message": "Invalid client"})

    with pytest.raises(AuthError) as caught:
        list(ispring_client.module_results())

    assert caught.value.code == "8150"
    assert "Invalid client" in str(caught.value)
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(("status", "error"), [(400, BadRequest), (403, PermissionDenied)])
def test_it_maps_documented_errors(mocked, ispring_client, status, error):
    add_ispring_token(mocked)
    mocked.add(responses.GET, RESULTS_URL, status=status, json={"code": 8122, "message": "Nope"})

    with pytest.raises(error) as caught:
        list(ispring_client.module_results())

    assert caught.value.code == "8122"
    assert caught.value.message.endswith("Nope")


def test_it_reads_xml_error_bodies(mocked, ispring_xml_client):
    add_ispring_token(mocked)
    mocked.add(
        responses.GET,
        RESULTS_URL,
        status=400,
        body="<response><code>8122</code><message>Bad filter</message></response>",
        content_type="application/xml",
    )

    with pytest.raises(BadRequest) as caught:
        list(ispring_xml_client.module_results())

    assert caught.value.code == "8122"
    assert "Bad filter" in caught.value.message


def test_stub_bodies_follow_the_ispring_schema():
    assert spec.ispring_response_errors(bodies.ispring_page([bodies.ispring_result(1)], "t")) == []
