"""POST /api/v2/oauth2/token, the version header, expired tokens, scopes and tenant isolation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox import constants as c, seeding, tenants
from sandbox.models import AccessToken
from tests.sandbox.conftest import Api, spec_errors

TOKEN_URL = f"{c.URL_PREFIX_360}/api/v2/oauth2/token"


def _token(client, body, content_type="application/json"):
    response = client.post(
        TOKEN_URL, data=json.dumps(body) if content_type == "application/json" else body, content_type=content_type
    )
    assert spec_errors("POST", TOKEN_URL, response.status_code, response["Content-Type"], response.content) == []
    return response


def test_it_issues_an_hour_long_bearer_token_for_valid_client_credentials(seeded, client):
    response = _token(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": c.DEFAULT_CLIENT_ID,
            "client_secret": c.DEFAULT_CLIENT_SECRET,
        },
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"
    assert response.json()["expires_in"] == 3600


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": c.DEFAULT_CLIENT_ID, "client_secret": "wrong"},
            401,
            c.ERROR_INVALID_CLIENT,
        ),
        (
            {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
            401,
            c.ERROR_INVALID_CLIENT,
        ),
        (
            {"grant_type": "password", "client_id": c.DEFAULT_CLIENT_ID, "client_secret": c.DEFAULT_CLIENT_SECRET},
            400,
            c.ERROR_UNSUPPORTED_GRANT_TYPE,
        ),
        ({"grant_type": "client_credentials", "client_id": c.DEFAULT_CLIENT_ID}, 400, c.ERROR_INVALID_REQUEST),
        (
            {
                "grant_type": "client_credentials",
                "client_id": c.DEFAULT_CLIENT_ID,
                "client_secret": c.DEFAULT_CLIENT_SECRET,
                "user_id": "0" * 24,
            },
            400,
            c.ERROR_NON_EXISTING_USER,
        ),
    ],
)
def test_it_refuses_bad_token_requests_with_the_documented_bodies(seeded, client, body, status, error):
    response = _token(client, body)
    assert (response.status_code, response.json()) == (status, {"error": error})


def test_it_wants_a_json_token_request_not_a_form(seeded, client):
    response = client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": c.DEFAULT_CLIENT_ID,
            "client_secret": c.DEFAULT_CLIENT_SECRET,
        },
    )
    assert (response.status_code, response.json()) == (400, {"error": c.ERROR_INVALID_REQUEST})


def test_it_answers_invalid_token_without_a_token_and_once_the_token_expired(api):
    assert api.get("/api/v2/users", headers={"Authorization": None}).json() == {"error": c.ERROR_INVALID_TOKEN}
    assert api.get("/api/v2/users").status_code == 200
    tenants.token_expire(client_id=c.DEFAULT_CLIENT_ID)
    response = api.get("/api/v2/users")
    assert (response.status_code, response.json()) == (401, {"error": c.ERROR_INVALID_TOKEN})


def test_it_gives_tokens_the_tenants_lifetime(seeded, client):
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, token_ttl_seconds=90)
    before = timezone.now()
    response = _token(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": c.DEFAULT_CLIENT_ID,
            "client_secret": c.DEFAULT_CLIENT_SECRET,
        },
    )
    assert response.json()["expires_in"] == 90
    token = AccessToken.objects.get(client_id=c.DEFAULT_CLIENT_ID)
    assert timedelta(seconds=89) <= token.expires_at - before <= timedelta(seconds=91)
    assert response.json()["access_token"] not in token.token_sha256  # only a digest is kept


@pytest.mark.parametrize("version", [None, "v1.0", "2.0"])
def test_it_requires_the_360_api_version_header(api, version):
    response = api.get("/api/v2/users", headers={c.API_VERSION_HEADER: version}, check=False)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == c.ERROR_INVALID_API_VERSION
    assert set(response.json()["error"]) == {"code", "message"}


def test_it_answers_invalid_scope_when_the_tenant_lacks_the_documented_scope(seeded, client):
    tenants.tenant_update(client_id=c.DEFAULT_CLIENT_ID, scopes=["users:read"])
    api = Api(client).authenticate()
    assert api.get("/api/v2/users").status_code == 200
    response = api.get("/api/v2/courses/stats")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == c.ERROR_INVALID_SCOPE
    assert "courseStats:read" in response.json()["error"]["message"]


def test_each_tenant_sees_only_its_own_data(seeded, client):
    tenants.tenant_create(
        name="Other Co",
        client_id="other-client",
        client_secret="other-secret",
        company_id="other-company",
        api_key="other-key",
        ispring_client_id="other-ispring",
        ispring_client_secret="other-ispring-secret",
    )
    seeding.seed(users=5, paths=1, sessions=1, courses=2, attempts=10, seed=9, client_id="other-client")
    other = Api(client, client_id="other-client", client_secret="other-secret").authenticate()
    mine = Api(client).authenticate()
    other_users = {u["_id"] for u in other.all_pages("/api/v2/users")}
    my_users = {u["_id"] for u in mine.all_pages("/api/v2/users")}
    assert len(other_users) == 5
    assert len(my_users) == 40
    assert not other_users & my_users


def test_sandbox_views_need_no_login_and_no_csrf_token(seeded):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        TOKEN_URL,
        data=json.dumps(
            {
                "grant_type": "client_credentials",
                "client_id": c.DEFAULT_CLIENT_ID,
                "client_secret": c.DEFAULT_CLIENT_SECRET,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 200
