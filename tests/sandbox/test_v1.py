"""API v1 path session stats: its seed's fields and errors, consistent with v2's user-stats."""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox import constants as c, request_log, selectors, tenants
from sandbox.models import PathSession

V1 = f"{c.URL_PREFIX_360}/api/v1/paths/sessions/{{}}/stats"


def _v1(client, session_oid, **query):
    params = {"company": c.DEFAULT_COMPANY_ID, "apiKey": c.DEFAULT_API_KEY} | query
    return client.get(V1.format(session_oid), {k: v for k, v in params.items() if v is not None})


def test_v1_session_stats_agree_with_v2_user_stats_and_user_statuses(api, client):
    for session in PathSession.objects.select_related("path").order_by("pk"):
        v1 = _v1(client, session.oid)
        assert v1.status_code == 200
        body = v1.json()
        base = f"/api/v2/paths/{session.path.oid}/sessions/{session.oid}"
        v2_stats = {s["userId"]: s for s in api.all_pages(f"{base}/user-stats")}
        v2_counts = api.get(f"{base}/user-statuses").json()

        assert (body["sessionId"], body["sessionName"], body["pathId"], body["pathName"]) == (
            session.oid,
            session.name,
            session.path.oid,
            session.path.name,
        )
        assert body["detailedStatus"] == v2_counts["usersCountByStatus"]
        assert sum(u["certificate"] for u in body["userStats"]) == v2_counts["certificates"]
        assert body["userStatus"]["enrolled"] == len(v2_stats) == len(body["userStats"])
        assert body["userStatus"]["completed"] == sum(1 for s in v2_stats.values() if "completedAt" in s)
        assert body["userStatus"]["started"] == sum(1 for s in v2_stats.values() if "startedAt" in s)
        assert body["userStatus"]["selfEnrolled"] == sum(1 for s in v2_stats.values() if s["selfEnrolled"])
        assert body["userStatus"]["inProgress"] == body["userStatus"]["started"] - body["userStatus"]["completed"]
        assert Counter(u["detailedStatus"]["type"] for u in body["userStats"]) == Counter(
            s["status"]["type"] for s in v2_stats.values()
        )
        for user in body["userStats"]:
            v2 = v2_stats[user["_id"]]
            assert user["detailedStatus"] == v2["status"]
            assert user["progress"] == v2["progress"]
            assert user["totalTimeSpentInSeconds"] == v2["timeSpent"] // 1000
            assert user["completedAt"] == v2.get("completedAt")
            assert user["score"] == (v2.get("score") if "completedAt" in v2 else None)
            assert user["certificate"] == ("certificateId" in v2)
            assert user["status"] in ("onTime", "late", "completed", "awaitingCorrection")
            assert user["result"] in (None, "successful", "unsuccessful", "retake")
            assert {f["name"] for f in user["customFields"]} == {
                "Department",
                "Country",
                "Employee ID",
                "Contract type",
            }


def test_v1_names_carry_their_accents(seeded, client):
    session = PathSession.objects.order_by("pk").first()
    users = _v1(client, session.oid).json()["userStats"]
    assert any(any(ord(ch) > 127 for ch in u["firstName"] + u["lastName"]) for u in users)
    assert all(u["mail"].isascii() for u in users)


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ({"apiKey": None}, 401, c.V1_UNAUTHORIZED),
        ({"apiKey": "wrong"}, 401, c.V1_UNAUTHORIZED),
        ({"company": "other-company"}, 401, c.V1_UNAUTHORIZED),
        ({"createdBefore": "last week"}, 400, c.V1_BAD_REQUEST),
        ({"createdBefore": "2000-01-01T00:00:00Z"}, 404, c.V1_SESSION_NOT_FOUND),
    ],
)
def test_v1_refuses_as_its_page_documents(seeded, client, query, status, error):
    session = PathSession.objects.order_by("pk").first()
    response = _v1(client, session.oid, **query)
    assert (response.status_code, response.json()) == (status, {"error": error})


def test_v1_answers_session_not_found_for_unknown_and_foreign_sessions(seeded, client):
    assert _v1(client, "0" * 24).json() == {"error": c.V1_SESSION_NOT_FOUND}
    assert _v1(client, "0" * 24).status_code == 404
    assert (_v1(client, "not-an-id").status_code, _v1(client, "not-an-id").json()) == (400, {"error": c.V1_BAD_REQUEST})


def test_v1_does_not_show_another_companys_session(seeded, client):
    tenants.tenant_create(
        name="Other Co",
        client_id="other-client",
        client_secret="other-secret",
        company_id="other-company",
        api_key="other-key",
        ispring_client_id="other-ispring",
        ispring_client_secret="other-ispring-secret",
    )
    mine = PathSession.objects.order_by("pk").first()
    response = _v1(client, mine.oid, company="other-company", apiKey="other-key")
    assert (response.status_code, response.json()) == (404, {"error": c.V1_SESSION_NOT_FOUND})


def test_the_request_log_keeps_the_query_but_never_the_api_key(seeded, client):
    session = PathSession.objects.order_by("pk").first()
    assert _v1(client, session.oid).status_code == 200
    assert _v1(client, session.oid, apiKey="a-wrong-key-typed-by-someone").status_code == 401

    logged = [entry.query for entry in selectors.request_log_list(method="GET")]

    assert logged == [f"company={c.DEFAULT_COMPANY_ID}&apiKey={request_log.REDACTED}"] * 2
    assert not any(c.DEFAULT_API_KEY in q or "a-wrong-key" in q for q in logged)


def test_redacting_a_query_keeps_every_other_pair_byte_for_byte():
    query = "completedAt%5Bgte%5D=2025-01-01&APIKEY=k1&api%4Bey=k2&apiKeys=kept&company=c"
    assert (
        request_log.redact_query(query)
        == "completedAt%5Bgte%5D=2025-01-01&APIKEY=***&api%4Bey=***&apiKeys=kept&company=c"
    )
    assert request_log.redact_query("") == ""
