"""Learning360V1Client: path-session stats with company + apiKey in the query string."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses

from integrations.clients.errors import AuthError, BadRequest, BadResponse, NotFound
from integrations.providers.learning360.client_v1 import BAD_REQUEST, SESSION_NOT_FOUND, UNAUTHORIZED, CustomFieldValue
from integrations.providers.learning360.resources import DetailedStatus
from tests.integrations.clients.conftest import API_KEY, BASE, COMPANY_ID, oid, sent

SESSION = oid(501)
STATS_URL = f"{BASE}/api/v1/paths/sessions/{SESSION}/stats"


def v1_stats() -> dict:
    """Shaped after the fields listed on the seed page."""
    return {
        "sessionId": SESSION,
        "sessionName": "Spring cohort",
        "pathName": "Onboarding",
        "pathId": oid(500),
        "userStatus": {"inProgress": 1, "completed": 1, "enrolled": 2, "selfEnrolled": 0, "started": 1},
        "detailedStatus": {"onTime": 1, "successful": 1, "unsuccessful": 0},
        "userStats": [
            {
                "_id": oid(700),
                "deleted": False,
                "firstName": "Ada",
                "lastName": "Lovelace",
                "mail": "ada@example.org",
                "totalTimeSpentInSeconds": 3600,
                "progress": 100,
                "score": 88,
                "completedAt": "2025-03-01T10:00:00.000Z",
                "detailedStatus": {"type": "successful"},
                "certificate": True,
                "status": "completed",
                "customFields": [{"customFieldId": "cf1", "value": "Paris", "name": "Office"}],
                "result": "successful",
            },
            {
                "_id": oid(701),
                "deleted": False,
                "firstName": "Alan",
                "lastName": "Turing",
                "mail": "alan@example.org",
                "totalTimeSpentInSeconds": 60,
                "progress": 10,
                "score": None,
                "completedAt": None,
                "detailedStatus": {"type": "toRetake", "reason": "mandatoryReplay"},
                "certificate": False,
                "status": "onTime",
                "customFields": [],
            },
        ],
    }


def test_it_sends_company_and_api_key_in_the_query_and_parses_the_stats(mocked, v1_client):
    mocked.add(responses.GET, STATS_URL, json=v1_stats())

    stats = v1_client.path_session_stats(SESSION)

    [call] = (sent(c) for c in mocked.calls)
    assert call.query == [("company", COMPANY_ID), ("apiKey", API_KEY)]
    assert "Authorization" not in call.headers
    assert stats.session_name == "Spring cohort"
    assert stats.path_name == "Onboarding"
    assert stats.user_status_counts["enrolled"] == 2
    assert stats.detailed_status_counts == {"onTime": 1, "successful": 1, "unsuccessful": 0}
    ada, alan = stats.user_stats
    assert ada.completed_at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert ada.detailed_status == DetailedStatus("successful")
    assert ada.custom_fields == (CustomFieldValue("cf1", "Office", "Paris"),)
    assert ada.total_time_spent_seconds == 3600
    assert alan.score is None and alan.completed_at is None
    assert alan.detailed_status == DetailedStatus("toRetake", "mandatoryReplay")


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [(404, SESSION_NOT_FOUND, NotFound), (401, UNAUTHORIZED, AuthError), (400, BAD_REQUEST, BadRequest)],
)
def test_it_maps_the_documented_errors(mocked, v1_client, sleeper, status, code, error):
    mocked.add(responses.GET, STATS_URL, status=status, json={"error": code})

    with pytest.raises(error) as caught:
        v1_client.path_session_stats(SESSION)

    assert caught.value.code == code
    assert caught.value.permanent
    assert len(mocked.calls) == 1
    assert API_KEY not in str(caught.value)


def test_a_body_that_is_not_a_stats_object_is_a_bad_response(mocked, v1_client):
    mocked.add(responses.GET, STATS_URL, json=[{"userStats": []}])

    with pytest.raises(BadResponse, match="JSON object"):
        v1_client.path_session_stats(SESSION)


def test_a_user_row_with_an_unknown_detailed_status_is_a_bad_response(mocked, v1_client):
    body = v1_stats()
    body["userStats"][0]["detailedStatus"] = {"type": "gone"}
    mocked.add(responses.GET, STATS_URL, json=body)

    with pytest.raises(BadResponse, match="detailedStatus"):
        v1_client.path_session_stats(SESSION)


def test_a_malformed_session_id_is_refused_before_sending(mocked, v1_client):
    with pytest.raises(ValueError):
        v1_client.path_session_stats("../../users?x=")

    assert len(mocked.calls) == 0
