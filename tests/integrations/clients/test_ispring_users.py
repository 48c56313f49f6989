"""ISpringClient.users edge cases, stubbed at the HTTP seam: the body shapes the client accepts
(JSON object or bare list, fields as an object or name/value pairs, XML with either field
form), filters, pageToken pagination, and what it refuses."""

from __future__ import annotations

import pytest
import responses

from integrations.clients.errors import BadRequest, BadResponse, PermissionDenied
from integrations.providers.ispring.client import IspringUser
from tests.integrations.clients.conftest import BASE, calls_to
from tests.integrations.clients.test_ispring import add_ispring_token

USERS_URL = f"{BASE}/users"
USERS_PATH = "/users"
UUID = "0b4e6f6c-2f6e-4c2a-9f3e-00000000000{}"


def profile(n: int, **overrides) -> dict:
    body = {
        "userId": UUID.format(n),
        "status": 1,
        "role": "learner",
        "departmentId": "dep-1",
        "groups": ["g-1", "g-2"],
        "fields": {
            "login": f"user{n}",
            "email": f"User{n}@Example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "badge": "B7",
        },
    }
    body.update(overrides)
    return body


EXPECTED_1 = IspringUser(
    user_id=UUID.format(1),
    status=1,
    role="learner",
    department_id="dep-1",
    groups=("g-1", "g-2"),
    login="user1",
    email="User1@Example.com",
    first_name="Ada",
    last_name="Lovelace",
    custom_fields={"badge": "B7"},
)


def test_it_asks_for_json_and_parses_user_profiles_into_typed_records(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, json={"userProfiles": [profile(1)]})

    [user] = ispring_client.users()

    assert user == EXPECTED_1
    [call] = calls_to(mocked, USERS_PATH)
    assert call.headers["Accept"] == "application/json"
    assert call.headers["Authorization"] == "Bearer ispring-token-1"
    assert call.query == []
    with pytest.raises(TypeError):
        user.custom_fields["badge"] = "changed"  # type: ignore[index]


@pytest.mark.parametrize("key", ["userProfiles", "users", "userProfile"])
def test_profiles_may_come_under_any_documented_key(mocked, ispring_client, key):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, json={key: [profile(1)]})

    assert list(ispring_client.users()) == [EXPECTED_1]


def test_a_bare_list_of_profiles_is_accepted(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, json=[profile(1)])

    assert list(ispring_client.users()) == [EXPECTED_1]


def test_fields_as_name_value_pairs_have_case_insensitive_names(mocked, ispring_client):
    add_ispring_token(mocked)
    pairs = [
        {"name": "LOGIN", "value": "user1"},
        {"name": "EMAIL", "value": "User1@Example.com"},
        {"name": "First_Name", "value": "Ada"},
        {"name": "last_name", "value": "Lovelace"},
        {"name": "badge", "value": "B7"},
    ]
    mocked.add(responses.GET, USERS_URL, json={"userProfiles": [profile(1, fields=pairs)]})

    assert list(ispring_client.users()) == [EXPECTED_1]


def test_missing_optional_parts_are_none_or_empty(mocked, ispring_client):
    add_ispring_token(mocked)
    sparse = {"userId": UUID.format(2), "status": "3"}
    mocked.add(responses.GET, USERS_URL, json={"userProfiles": [sparse]})

    [user] = ispring_client.users()

    assert user == IspringUser(
        user_id=UUID.format(2),
        status=3,
        role=None,
        department_id=None,
        groups=(),
        login=None,
        email=None,
        first_name=None,
        last_name=None,
        custom_fields={},
    )


def test_it_sends_the_filters_and_follows_next_page_token(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, json={"userProfiles": [profile(1)], "nextPageToken": "t2"})
    mocked.add(responses.GET, USERS_URL, json={"userProfiles": [profile(2)], "nextPageToken": "t3"})
    mocked.add(responses.GET, USERS_URL, json={"userProfiles": [profile(3)]})

    users = list(ispring_client.users(emails=["a@x.test", "b@x.test"], logins=["u1"], page_size=1))

    assert [u.login for u in users] == ["user1", "user2", "user3"]
    base = [("emails[]", "a@x.test"), ("emails[]", "b@x.test"), ("logins[]", "u1"), ("pageSize", "1")]
    assert [c.query for c in calls_to(mocked, USERS_PATH)] == [
        base,
        [*base, ("pageToken", "t2")],
        [*base, ("pageToken", "t3")],
    ]


def test_a_page_token_loop_is_a_bad_response(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, json={"userProfiles": [profile(1)], "nextPageToken": "again"})

    with pytest.raises(BadResponse, match="repeats"):
        list(ispring_client.users())

    assert len(calls_to(mocked, USERS_PATH)) == 2


@pytest.mark.parametrize(
    "kwargs", [{"page_size": 0}, {"page_size": True}, {"emails": "a@x.test"}, {"response_format": "csv"}]
)
def test_invalid_arguments_are_refused_before_sending(mocked, ispring_client, kwargs):
    with pytest.raises((ValueError, TypeError)):
        ispring_client.users(**kwargs)

    assert len(mocked.calls) == 0


XML_CHILD_FIELDS = """<?xml version="1.0" encoding="UTF-8"?>
<response>
  <userProfile>
    <userId>0b4e6f6c-2f6e-4c2a-9f3e-000000000001</userId>
    <status>1</status>
    <role>learner</role>
    <departmentId>dep-1</departmentId>
    <groups><id>g-1</id><id>g-2</id></groups>
    <fields>
      <login>user1</login><email>User1@Example.com</email>
      <first_name>Ada</first_name><last_name>Lovelace</last_name><badge>B7</badge>
    </fields>
  </userProfile>
  <nextPageToken>p2</nextPageToken>
</response>"""

XML_NAME_VALUE_FIELDS = """<?xml version="1.0" encoding="UTF-8"?>
<response>
  <userProfile>
    <userId>0b4e6f6c-2f6e-4c2a-9f3e-000000000001</userId>
    <status>1</status>
    <role>learner</role>
    <departmentId>dep-1</departmentId>
    <groups><string>g-1</string><string>g-2</string></groups>
    <fields>
      <field><name>LOGIN</name><value>user1</value></field>
      <field><name>EMAIL</name><value>User1@Example.com</value></field>
      <field><name>FIRST_NAME</name><value>Ada</value></field>
      <field><name>LAST_NAME</name><value>Lovelace</value></field>
      <field><name>badge</name><value>B7</value></field>
    </fields>
  </userProfile>
</response>"""


def test_xml_with_either_field_form_gives_the_json_record(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, body=XML_CHILD_FIELDS, content_type="application/xml")
    mocked.add(responses.GET, USERS_URL, body=XML_NAME_VALUE_FIELDS, content_type="application/xml")

    users = list(ispring_client.users(response_format="xml"))

    assert users == [EXPECTED_1, EXPECTED_1]
    calls = calls_to(mocked, USERS_PATH)
    assert [c.headers["Accept"] for c in calls] == ["application/xml", "application/xml"]
    assert calls[1].query == [("pageToken", "p2")]


def test_an_xml_client_lists_users_in_xml(mocked, ispring_xml_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, body=XML_NAME_VALUE_FIELDS, content_type="application/xml")

    assert list(ispring_xml_client.users()) == [EXPECTED_1]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"items": []}, "no user profiles"),
        ({"userProfiles": {"userId": "x"}}, "must be a list"),
        ({"userProfiles": ["x"]}, "expected a JSON object"),
        ({"userProfiles": [profile(1, userId=None)]}, "userId"),
        ({"userProfiles": [profile(1, status="active")]}, "status"),
        ({"userProfiles": [profile(1, status=2)]}, "status"),
        ({"userProfiles": [profile(1, fields="email=a@x.test")]}, "fields"),
        ({"userProfiles": [profile(1, fields=[{"value": "a@x.test"}])]}, "name"),
        ({"userProfiles": [profile(1, groups="g-1")]}, "groups"),
        ({"userProfiles": [profile(1, fields={"email": {"a": 1}})]}, "email"),
        ("just text", "must be a list"),
    ],
)
def test_an_unexpected_json_body_is_a_bad_response(mocked, ispring_client, body, match):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, json=body)

    with pytest.raises(BadResponse, match=match):
        list(ispring_client.users())


def test_malformed_json_is_a_bad_response(mocked, ispring_client):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, body='{"userProfiles": [', content_type="application/json")

    with pytest.raises(BadResponse, match="malformed JSON"):
        list(ispring_client.users())


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("<response><userProfile><userId>u", "malformed XML"),
        ("<users/>", "root"),
        ("<response><userProfile><status>1</status></userProfile></response>", "userId"),
        ("<response><userProfile><userId>u</userId></userProfile></response>", "status"),
        ("<response><userProfile><userId>u</userId><status>x</status></userProfile></response>", "status"),
        (
            "<response><userProfile><userId>u</userId><status>1</status>"
            "<fields><field><value>v</value></field></fields></userProfile></response>",
            "name",
        ),
    ],
)
def test_an_unexpected_xml_body_is_a_bad_response(mocked, ispring_xml_client, body, match):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, body=body, content_type="application/xml")

    with pytest.raises(BadResponse, match=match):
        list(ispring_xml_client.users())


@pytest.mark.parametrize(("status", "error"), [(400, BadRequest), (403, PermissionDenied)])
def test_documented_errors_are_mapped(mocked, ispring_client, status, error):
    add_ispring_token(mocked)
    mocked.add(responses.GET, USERS_URL, status=status, json={"code": 8122, "message": "no"})

    with pytest.raises(error):
        list(ispring_client.users())
