"""Integration configurations: POST/GET /api/v2/integrations, PATCH/DELETE /api/v2/integrations/{id}."""

from __future__ import annotations

import pytest

from sandbox import constants as c
from sandbox.models import Course, Group, Integration, User


@pytest.fixture
def ids(seeded) -> dict[str, str]:
    return {
        "groupId": Group.objects.filter(parent__isnull=False).order_by("pk").first().oid,
        "authorId": User.objects.filter(status="active").order_by("pk").first().oid,
    }


def test_it_creates_lists_edits_and_deletes_an_integration(api, ids):
    body = {
        "externalPlatform": "Coursera",
        **ids,
        "defaultCompletion": True,
        "defaultProgress": 10,
        "externalPlatformLogoUrl": "https://x.example/l.svg",
    }
    created = api.request("POST", "/api/v2/integrations", body=body)
    assert created.status_code == 201
    integration = created.json()
    assert {k: integration[k] for k in body} == body
    assert integration["_id"] in {i["_id"] for i in api.all_pages("/api/v2/integrations")}

    edited = api.request(
        "PATCH", f"/api/v2/integrations/{integration['_id']}", body={"defaultProgress": 0, "noGroupPropagation": True}
    )
    assert edited.status_code == 200
    assert (
        edited.json()["defaultProgress"],
        edited.json()["noGroupPropagation"],
        edited.json()["externalPlatform"],
    ) == (0, True, "Coursera")

    assert api.request("DELETE", f"/api/v2/integrations/{integration['_id']}").status_code == 204
    assert integration["_id"] not in {i["_id"] for i in api.all_pages("/api/v2/integrations")}
    response = api.request("PATCH", f"/api/v2/integrations/{integration['_id']}", body={"defaultProgress": 5})
    assert (response.status_code, response.json()["error"]["code"]) == (404, c.ERROR_INTEGRATION_NOT_FOUND)


def test_deleting_an_integration_archives_its_courses(api):
    integration = Integration.objects.get(external_platform="Sandbox Academy")
    assert Course.objects.filter(integration=integration, status="published").exists()
    assert api.request("DELETE", f"/api/v2/integrations/{integration.oid}").status_code == 204
    assert set(Course.objects.filter(integration=integration).values_list("status", flat=True)) == {"archived"}


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"externalPlatform": "Sandbox Academy", "groupId": None}, 400, c.ERROR_DUPLICATE_EXTERNAL_PLATFORM),
        ({"externalPlatform": "360Learning"}, 400, c.ERROR_RESERVED_PLATFORM_NAME),
        ({"groupId": "0" * 24}, 404, c.ERROR_GROUP_NOT_FOUND),
        ({"authorId": "0" * 24}, 404, c.ERROR_USER_NOT_FOUND),
    ],
)
def test_it_refuses_integrations_as_documented(api, ids, change, status, code):
    body = {"externalPlatform": "Udemy", **ids, **change}
    if body["groupId"] is None:  # the seeded integration's group
        body["groupId"] = Integration.objects.get().group.oid
    response = api.request("POST", "/api/v2/integrations", body=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    "body",
    [
        {"externalPlatform": "X"},
        {"externalPlatform": "", "groupId": "0" * 24, "authorId": "0" * 24},
        {"defaultProgress": 101},
    ],
)
def test_it_checks_integration_bodies_against_the_request_schema(api, ids, body):
    response = api.request("POST", "/api/v2/integrations", body=body, check=False)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == c.ERROR_INVALID_INPUT
    assert "schema" in response.json()["error"]["message"]
