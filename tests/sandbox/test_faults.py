"""Fault knobs (per client id, next N calls, optional method/path scope) and the request log."""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sandbox import constants as c, faults, selectors
from sandbox.models import BulkOperation, Integration, PathSession
from tests.sandbox.conftest import spec_errors

USERS = "/api/v2/users"


def _bulk_archive(api):
    integration = Integration.objects.get()
    return api.request(
        "DELETE", f"/api/v2/bulk/integrations/{integration.oid}/courses", body={"input": [{"externalId": "X"}]}
    )


def test_rate_limit_answers_429_with_retry_after_for_the_next_n_calls(api):
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_RATE_LIMIT, count=2, retry_after=7)
    for _ in range(2):
        response = api.get(USERS)
        assert (response.status_code, response["Retry-After"], response.json()) == (
            429,
            "7",
            {"error": c.ERROR_TOO_MANY_REQUESTS},
        )
    assert api.get(USERS).status_code == 200
    log = selectors.request_log_list(client_id=c.DEFAULT_CLIENT_ID, path_prefix=USERS)
    assert [(entry.status, entry.fault) for entry in log] == [
        (429, c.FAULT_RATE_LIMIT),
        (429, c.FAULT_RATE_LIMIT),
        (200, ""),
    ]


def test_a_rate_limited_bulk_call_answers_its_documented_429_body_and_creates_nothing(api):
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_RATE_LIMIT, method="DELETE", path_prefix="/api/v2/bulk/"
    )
    refused = _bulk_archive(api)  # Api checks the body against the operation's 429 schema
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert not BulkOperation.objects.exists()
    assert _bulk_archive(api).status_code == 202
    # The retried chunk reached the sandbox twice, and was accepted once.
    sent = selectors.request_log_list(method="DELETE", path_prefix="/api/v2/bulk/integrations/")
    assert len({entry.body_sha256 for entry in sent}) == 1
    assert [entry.status for entry in sent] == [429, 202]
    assert sent.filter(status=202).get().bulk_operation_oid == BulkOperation.objects.get().oid


@pytest.mark.parametrize("status", c.SERVER_ERROR_STATUSES)
def test_server_errors_answer_the_chosen_status_once(api, status):
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID,
        kind=c.FAULT_SERVER_ERROR,
        status=status,
        retry_after=3 if status == 503 else None,
    )
    response = api.get(USERS, check=False)
    assert response.status_code == status
    if status == 500:
        assert response.json()["error"]["code"] == "internalServerError"
    else:
        assert response["Content-Type"] == "text/html"  # the load balancer's page, not JSON
    assert (response.get("Retry-After") == "3") is (status == 503)
    assert api.get(USERS).status_code == 200


def test_a_503_on_a_bulk_call_is_the_documented_bulk_api_disabled(api):
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SERVER_ERROR, status=503, path_prefix="/api/v2/bulk/")
    assert api.get(USERS).status_code == 200  # outside the prefix: untouched
    response = _bulk_archive(api)
    assert (response.status_code, response.json()["error"]["code"]) == (503, c.ERROR_BULK_API_DISABLED)


def test_slow_waits_then_answers_normally(api):
    rule = faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SLOW, delay_seconds=0.3)
    started = time.monotonic()
    assert api.get(USERS).status_code == 200
    assert time.monotonic() - started >= 0.3
    # Spent by that one request, so the next is not delayed. (Not timed: on a loaded machine a
    # plain request can take longer than the delay itself.)
    rule.refresh_from_db()
    assert rule.remaining == 0
    assert api.get(USERS).status_code == 200


def test_expired_token_expires_the_presented_token_until_a_new_one_is_fetched(api):
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_EXPIRED_TOKEN)
    assert api.get(USERS).json() == {"error": c.ERROR_INVALID_TOKEN}
    assert api.get(USERS).status_code == 401  # really expired, not a one-off
    api.authenticate()
    assert api.get(USERS).status_code == 200


def test_malformed_body_answers_200_with_broken_json_and_applies_nothing(api):
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_MALFORMED_BODY, count=2)
    response = api.get(USERS, check=False)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert _bulk_archive_unchecked(api).status_code == 200
    assert not BulkOperation.objects.exists()


def _bulk_archive_unchecked(api):
    integration = Integration.objects.get()
    return api.request(
        "DELETE",
        f"/api/v2/bulk/integrations/{integration.oid}/courses",
        body={"input": [{"externalId": "X"}]},
        check=False,
    )


def test_faults_can_target_one_method_and_path_and_wait_their_turn(api):
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID,
        kind=c.FAULT_SERVER_ERROR,
        status=502,
        method="GET",
        path_prefix="/api/v2/courses/stats",
    )
    assert api.get(USERS).status_code == 200
    assert api.get("/api/v2/courses/stats", check=False).status_code == 502
    assert api.get("/api/v2/courses/stats").status_code == 200


def test_faults_are_per_client(api):
    faults.fault_add(client_id="someone-else", kind=c.FAULT_RATE_LIMIT, count=5)
    assert api.get(USERS).status_code == 200


def test_the_token_call_itself_can_fail(seeded, client):
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SERVER_ERROR, status=502, path_prefix="/api/v2/oauth2/token"
    )
    body = {
        "grant_type": "client_credentials",
        "client_id": c.DEFAULT_CLIENT_ID,
        "client_secret": c.DEFAULT_CLIENT_SECRET,
    }
    url = f"{c.URL_PREFIX_360}/api/v2/oauth2/token"
    assert client.post(url, json.dumps(body), content_type="application/json").status_code == 502
    assert client.post(url, json.dumps(body), content_type="application/json").status_code == 200


def test_ispring_and_v1_calls_take_their_own_fault_rules(seeded, client):
    form = {
        "client_id": c.DEFAULT_ISPRING_CLIENT_ID,
        "client_secret": c.DEFAULT_ISPRING_CLIENT_SECRET,
        "grant_type": "client_credentials",
    }
    token = client.post(f"{c.URL_PREFIX_ISPRING}/api/v3/token", form).json()["access_token"]
    results = f"{c.URL_PREFIX_ISPRING}/learners/modules/results"
    faults.fault_add(client_id=c.DEFAULT_ISPRING_CLIENT_ID, kind=c.FAULT_MALFORMED_BODY)
    faults.fault_add(client_id=c.DEFAULT_ISPRING_CLIENT_ID, kind=c.FAULT_RATE_LIMIT)
    broken = client.get(results, headers={"Authorization": f"Bearer {token}"})
    assert broken.status_code == 200 and broken.content == c.MALFORMED_XML_BODY
    limited = client.get(results, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    assert limited.status_code == 429 and set(limited.json()) == {"code", "message"}
    assert client.get(results, headers={"Authorization": f"Bearer {token}"}).status_code == 200

    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_RATE_LIMIT, path_prefix="/api/v1/")
    v1 = f"{c.URL_PREFIX_360}/api/v1/paths/sessions/{PathSession.objects.order_by('pk').first().oid}/stats"
    query = {"company": c.DEFAULT_COMPANY_ID, "apiKey": c.DEFAULT_API_KEY}
    assert client.get(v1, query).status_code == 429
    assert client.get(v1, query).status_code == 200


def test_fault_add_refuses_what_it_cannot_do(db):
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.fault_add(client_id="x", kind="teapot")
    with pytest.raises(ValueError, match="500, 502, 503, 504"):
        faults.fault_add(client_id="x", kind=c.FAULT_SERVER_ERROR, status=418)
    with pytest.raises(ValueError, match="at least 1"):
        faults.fault_add(client_id="x", kind=c.FAULT_SLOW, count=0)


def test_the_sandbox_fault_command_adds_lists_and_clears_rules(api):
    out = StringIO()
    call_command(
        "sandbox_fault",
        "add",
        c.DEFAULT_CLIENT_ID,
        "server_error",
        "--status",
        "504",
        "--count",
        "3",
        "--path-prefix",
        "/api/v2/courses",
        stdout=out,
    )
    assert "server_error ×3 for sandbox-client" in out.getvalue()
    out = StringIO()
    call_command("sandbox_fault", "list", stdout=out)
    assert "\tsandbox-client\tserver_error\t×3\t/api/v2/courses" in out.getvalue()
    assert api.get("/api/v2/courses/stats", check=False).status_code == 504
    out = StringIO()
    call_command("sandbox_fault", "clear", c.DEFAULT_CLIENT_ID, stdout=out)
    assert "Removed 1 fault rule(s)." in out.getvalue()
    assert api.get("/api/v2/courses/stats").status_code == 200
    with pytest.raises(CommandError):
        call_command("sandbox_fault", "add", "x", "server_error", "--status", "418")


def test_every_fault_answer_of_a_documented_status_matches_the_document(api):
    for kind, kwargs in ((c.FAULT_RATE_LIMIT, {}), (c.FAULT_EXPIRED_TOKEN, {})):
        faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=kind, **kwargs)
        response = api.get("/api/v2/courses/stats")
        assert (
            spec_errors(
                "GET", "/api/v2/courses/stats", response.status_code, response["Content-Type"], response.content
            )
            == []
        )
