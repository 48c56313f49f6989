"""iSpring Learn: form-encoded token, module results as XML (default) or JSON, filters, pages."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
import pytest

from sandbox import constants as c, spec
from sandbox.models import IspringModuleResult

TOKEN = f"{c.URL_PREFIX_ISPRING}/api/v3/token"
RESULTS = f"{c.URL_PREFIX_ISPRING}/learners/modules/results"


@pytest.fixture
def token(seeded, client) -> str:
    response = client.post(
        TOKEN,
        {
            "client_id": c.DEFAULT_ISPRING_CLIENT_ID,
            "client_secret": c.DEFAULT_ISPRING_CLIENT_SECRET,
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    assert response.json()["expires_in"] > 0
    return response.json()["access_token"]


def _json(client, token, query=None):
    response = client.get(
        RESULTS, query or {}, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    assert response.status_code == 200, response.content
    assert spec.ispring_response_errors(response.json()) == []
    return response.json()


def _xml_as_json(content: bytes) -> dict:
    """The XML body read back into the JSON body's types."""
    root = SafeET.fromstring(content)
    integers, floats = {"timeSpent", "viewsCount"}, {"progress", "awardedScore", "passingScore"}
    results = []
    for node in root.find("results"):
        item = {}
        for child in node:
            text = child.text
            if child.tag == "isOverdue":
                item[child.tag] = text == "1"
            elif child.tag in integers:
                item[child.tag] = int(text)
            elif child.tag in floats:
                item[child.tag] = float(text)
            else:
                item[child.tag] = text
        results.append(item)
    body = {"results": results}
    if root.find("nextPageToken") is not None:
        body["nextPageToken"] = root.find("nextPageToken").text
    return body


def test_xml_is_the_default_and_carries_the_same_results_as_json(client, token):
    xml = client.get(RESULTS, {"pageSize": 50}, headers={"Authorization": f"Bearer {token}"})
    assert xml.status_code == 200
    assert xml["Content-Type"].startswith("application/xml")
    assert xml.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    as_json = _xml_as_json(xml.content)
    assert spec.ispring_response_errors(as_json) == []
    assert as_json == _json(client, token, {"pageSize": 50})


def test_it_accepts_the_bare_token_the_vendor_page_shows(client, token):
    response = client.get(RESULTS, headers={"Authorization": token})
    assert response.status_code == 200


def test_it_pages_with_page_size_and_next_page_token(client, token):
    active = IspringModuleResult.objects.filter(user_status=c.ISPRING_USER_ACTIVE).count()
    page = _json(client, token, {"pageSize": 7})
    seen = [r["moduleId"] + r["userId"] for r in page["results"]]
    assert len(seen) == 7
    while "nextPageToken" in page:
        page = _json(client, token, {"pageSize": 7, "pageToken": page["nextPageToken"]})
        seen += [r["moduleId"] + r["userId"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == active
    assert "nextPageToken" not in _json(client, token)  # default page of 1000 holds them all


def test_every_completion_status_is_seeded_and_filterable(client, token):
    everything = _json(client, token)["results"]
    assert {r["completionStatus"] for r in everything} == set(c.ISPRING_COMPLETION_STATUSES)
    failed = _json(client, token, {"completionStatuses[]": ["failed", "passed"]})["results"]
    assert failed and {r["completionStatus"] for r in failed} <= {"failed", "passed"}
    assert len(failed) == sum(r["completionStatus"] in ("failed", "passed") for r in everything)


def test_it_filters_by_ids_user_status_and_date_ranges(client, token):
    everything = _json(client, token)["results"]
    one = everything[0]
    for name, key in (
        ("userIds", "userId"),
        ("courseIds", "courseId"),
        ("moduleIds", "moduleId"),
        ("courseItemIds", "courseItemId"),
    ):
        # Both spellings: `userIds[]` (the vendor's page) and `userIds` (its Postman collection).
        for param in (f"{name}[]", name):
            rows = _json(client, token, {param: one[key]})["results"]
            assert rows and all(r[key] == one[key] for r in rows)
    department = IspringModuleResult.objects.filter(user_uuid=one["userId"]).values_list("department_uuid", flat=True)[
        0
    ]
    assert one in _json(client, token, {"departmentIds[]": department})["results"]
    blocked = _json(client, token, {"userStatuses[]": "3"})["results"]
    assert len(blocked) == IspringModuleResult.objects.filter(user_status=c.ISPRING_USER_BLOCKED).count()
    both = _json(client, token, {"userStatuses[]": ["1", "3"]})["results"]
    assert len(both) == len(everything) + len(blocked)
    window = {"accessDate[startDate]": "2025-01-01T00:00:00Z", "accessDate[endDate]": "2025-03-01T00:00:00Z"}
    rows = _json(client, token, window)["results"]
    assert rows and all("2025-01-01" <= r["accessDate"] <= "2025-03-01" for r in rows)
    completed = _json(client, token, {"completionDate[startDate]": "2000-01-01T00:00:00Z"})["results"]
    assert completed and all("completionDate" in r for r in completed)


@pytest.mark.parametrize(
    "query",
    [
        {"pageSize": "0"},
        {"pageSize": "1001"},
        {"pageToken": "forged"},
        {"userIds[]": "123"},
        {"completionStatuses[]": "done"},
        {"userStatuses[]": "2"},
        {"dueDate[endDate]": "soon"},
    ],
)
def test_it_refuses_bad_queries_with_400_in_the_asked_format(client, token, query):
    json_answer = client.get(RESULTS, query, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    assert json_answer.status_code == 400
    assert set(json_answer.json()) == {"code", "message"}
    xml_answer = client.get(RESULTS, query, headers={"Authorization": f"Bearer {token}"})
    assert xml_answer.status_code == 400
    assert SafeET.fromstring(xml_answer.content).find("message").text


def test_it_answers_401_without_a_valid_token(seeded, client):
    response = client.get(RESULTS, headers={"Authorization": "Bearer nope", "Accept": "application/json"})
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message"}


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"client_id": c.DEFAULT_ISPRING_CLIENT_ID, "client_secret": "wrong", "grant_type": "client_credentials"}, 401),
        ({"client_id": c.DEFAULT_ISPRING_CLIENT_ID, "grant_type": "client_credentials"}, 400),
        (
            {
                "client_id": c.DEFAULT_ISPRING_CLIENT_ID,
                "client_secret": c.DEFAULT_ISPRING_CLIENT_SECRET,
                "grant_type": "password",
            },
            400,
        ),
    ],
)
def test_it_refuses_bad_token_requests(seeded, client, form, status):
    response = client.post(TOKEN, form)
    assert response.status_code == status
    assert response.json()["code"] == c.ISPRING_TOKEN_ERROR_CODE


def test_360_tokens_do_not_open_ispring_and_back(api, client, token):
    assert client.get(RESULTS, headers={"Authorization": f"Bearer {api.token}"}).status_code == 401
    assert api.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"}).status_code == 401
