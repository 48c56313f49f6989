"""iSpring Learn GET /users: the seeded people (same as the module results' learners), XML by
default and JSON on request, emails[]/logins[] filters, pages, auth, faults and the request log."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
import pytest

from sandbox import constants as c, faults, seeding, selectors
from sandbox.models import IspringModuleResult, IspringUser, User
from tests.sandbox.test_ispring import TOKEN

USERS = f"{c.URL_PREFIX_ISPRING}/users"


@pytest.fixture
def token(seeded, client) -> str:
    form = {
        "client_id": c.DEFAULT_ISPRING_CLIENT_ID,
        "client_secret": c.DEFAULT_ISPRING_CLIENT_SECRET,
        "grant_type": "client_credentials",
    }
    return client.post(TOKEN, form).json()["access_token"]


def _get(client, token, query=None, *, fmt="json"):
    headers = {"Authorization": f"Bearer {token}"}
    if fmt == "json":
        headers["Accept"] = "application/json"
    return client.get(USERS, query or {}, headers=headers)


def _all_json(client, token, query=None) -> list[dict]:
    profiles, page = [], dict(query or {})
    while True:
        response = _get(client, token, page)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) <= {"userProfiles", "nextPageToken"}
        profiles += body["userProfiles"]
        if "nextPageToken" not in body:
            return profiles
        page["pageToken"] = body["nextPageToken"]


def _xml_profiles(content: bytes) -> tuple[list[dict], str | None]:
    root = SafeET.fromstring(content)
    assert root.tag == "response"
    profiles = []
    for node in root.findall("userProfile"):
        item: dict = {}
        for child in node:
            if child.tag == "fields":
                item["fields"] = {field.tag: field.text or "" for field in child}
            elif child.tag == "groups":
                item["groups"] = [group.text for group in child]
            elif child.tag == "status":
                item["status"] = int(child.text)
            else:
                item[child.tag] = child.text
        profiles.append(item)
    token_node = root.find("nextPageToken")
    return profiles, None if token_node is None else token_node.text


def test_every_learner_with_results_is_a_user_and_the_seed_relates_them_to_360(seeded, client, token):
    profiles = _all_json(client, token)
    expected = seeding.ispring_learner_count(users=seeded.users, ispring_results=seeded.ispring_results)
    assert len(profiles) == seeded.ispring_users == expected == IspringUser.objects.count()
    ids = {p["userId"] for p in profiles}
    assert set(IspringModuleResult.objects.values_list("user_uuid", flat=True)) == ids
    mails_360 = dict(User.objects.values_list("mail", "first_name"))
    kinds: dict[str, int] = {}
    for index, profile in enumerate(profiles):  # in seed order
        kind = seeding.ispring_person(index)
        kinds[kind] = kinds.get(kind, 0) + 1
        mail = profile["fields"]["email"]
        assert profile["status"] in c.ISPRING_USER_STATUSES
        if kind == seeding.ISPRING_ONLY:
            assert mail.strip().lower() not in {m.lower() for m in mails_360}
        else:
            key = mail.strip().lower()
            assert key in mails_360
            assert mails_360[key] == profile["fields"]["first_name"]
            assert (mail == key) == (kind == seeding.SAME_MAIL)
    assert kinds[seeding.ISPRING_ONLY] >= 2 and kinds[seeding.MAIL_UPPER] >= 2 and kinds[seeding.MAIL_SPACED] >= 2
    assert seeded.users > len(profiles)  # 360Learning users beyond them are in 360Learning only


def test_xml_is_the_default_and_carries_the_same_profiles_as_json(client, token):
    xml = _get(client, token, {"pageSize": 5}, fmt="xml")
    assert xml.status_code == 200
    assert xml["Content-Type"].startswith("application/xml")
    profiles, next_token = _xml_profiles(xml.content)
    as_json = _get(client, token, {"pageSize": 5}).json()
    assert profiles == as_json["userProfiles"]
    assert next_token == as_json["nextPageToken"]


def test_it_pages_with_page_size_and_next_page_token(seeded, client, token):
    ids, query, pages = [], {"pageSize": 4}, 0
    while True:
        body = _get(client, token, query).json()
        pages += 1
        assert len(body["userProfiles"]) <= 4
        ids += [p["userId"] for p in body["userProfiles"]]
        if "nextPageToken" not in body:
            break
        query["pageToken"] = body["nextPageToken"]
    assert len(ids) == len(set(ids)) == seeded.ispring_users
    assert pages == -(-seeded.ispring_users // 4)


def test_emails_match_case_insensitively_and_trimmed_and_logins_exactly(seeded, client, token):
    upper = IspringUser.objects.order_by("pk")[1]
    spaced = IspringUser.objects.order_by("pk")[2]
    assert upper.email != upper.email.lower() and spaced.email != spaced.email.strip()
    query = {"emails[]": [upper.email.lower(), spaced.email.strip().upper()]}
    found = _all_json(client, token, query)
    assert sorted(p["userId"] for p in found) == sorted([upper.user_uuid, spaced.user_uuid])
    by_login = _all_json(client, token, {"logins[]": [upper.login]})
    assert [p["userId"] for p in by_login] == [upper.user_uuid]
    assert _all_json(client, token, {"logins[]": [upper.login.upper()]}) == []


@pytest.mark.parametrize("query", [{"pageSize": "0"}, {"pageSize": "1001"}, {"departments[]": "nope"}])
def test_it_refuses_bad_queries_with_400_in_the_asked_format(client, token, query):
    json_answer = _get(client, token, query)
    assert json_answer.status_code == 400
    assert set(json_answer.json()) == {"code", "message"}
    xml_answer = _get(client, token, query, fmt="xml")
    assert xml_answer.status_code == 400
    assert SafeET.fromstring(xml_answer.content).find("message").text


def test_it_answers_401_without_a_valid_token(seeded, client):
    response = client.get(USERS, headers={"Authorization": "Bearer nope", "Accept": "application/json"})
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message"}


def test_faults_and_the_request_log_apply(seeded, client, token):
    faults.fault_add(client_id=c.DEFAULT_ISPRING_CLIENT_ID, kind=c.FAULT_SERVER_ERROR, status=503, path_prefix="/users")
    faults.fault_add(client_id=c.DEFAULT_ISPRING_CLIENT_ID, kind=c.FAULT_MALFORMED_BODY, path_prefix="/users")
    assert _get(client, token).status_code == 503
    broken = _get(client, token, fmt="xml")
    assert broken.status_code == 200 and broken.content == c.MALFORMED_XML_BODY
    assert _get(client, token).status_code == 200
    log = selectors.request_log_list(client_id=c.DEFAULT_ISPRING_CLIENT_ID, path_prefix="/users")
    assert [(entry.method, entry.status) for entry in log] == [("GET", 503), ("GET", 200), ("GET", 200)]
