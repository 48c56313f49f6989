from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from integrations.clients.addresses import (
    CREDENTIALS_IN_URL,
    HOST_INVALID,
    HTTP_NOT_ALLOWED,
    IPV4_IN_IPV6,
    LOOPBACK_NOT_ALLOWED,
    PORT_INVALID,
    PORT_NOT_ALLOWED,
    PRIVATE_NOT_ALLOWED,
    SCHEME_NOT_ALLOWED,
    URL_MALFORMED,
)
from integrations.models import Connection
from integrations.services.connections import (
    CHECK_ADDRESS_REFUSED,
    ConnectionData,
    connection_check,
    connection_create,
)
from integrations.validators import validate_lms_base_url
from tests.support.network import PUBLIC_NAME as NAME

LONG_LABEL = "a" * 70


@pytest.mark.parametrize(
    "url,message",
    [
        ("http://app.360learning.com", HTTP_NOT_ALLOWED),
        ("ftp://app.360learning.com", SCHEME_NOT_ALLOWED),
        ("file:///etc/passwd", SCHEME_NOT_ALLOWED),
        ("https://10.0.0.5", PRIVATE_NOT_ALLOWED.format(host="10.0.0.5", address="10.0.0.5")),
        ("http://10.1.2.3:8000/sandbox/360", PRIVATE_NOT_ALLOWED.format(host="10.1.2.3", address="10.1.2.3")),
        ("https://192.168.1.10", PRIVATE_NOT_ALLOWED.format(host="192.168.1.10", address="192.168.1.10")),
        ("https://169.254.169.254", PRIVATE_NOT_ALLOWED.format(host="169.254.169.254", address="169.254.169.254")),
        ("https://[fd00::1]", PRIVATE_NOT_ALLOWED.format(host="fd00::1", address="fd00::1")),
        ("http://127.0.0.1:8000/sandbox/360", LOOPBACK_NOT_ALLOWED.format(host="127.0.0.1", address="127.0.0.1")),
        ("https://localhost", LOOPBACK_NOT_ALLOWED.format(host="localhost", address="127.0.0.1")),
        ("https://user:pw@app.360learning.com", CREDENTIALS_IN_URL),
    ],
)
def test_it_refuses_unsafe_base_urls_when_loopback_is_not_allowed(url, message):
    with pytest.raises(ValidationError) as caught:
        validate_lms_base_url(url, allow_loopback=False)
    assert caught.value.messages == [message]


def test_it_accepts_a_public_https_tenant():
    assert validate_lms_base_url("https://93.184.215.14/", allow_loopback=False) == "https://93.184.215.14"


def test_it_accepts_the_loopback_sandbox_over_http_when_allowed():
    url = "http://127.0.0.1:8000/sandbox/360/"
    assert validate_lms_base_url(url, allow_loopback=True) == "http://127.0.0.1:8000/sandbox/360"


def test_private_addresses_stay_refused_even_when_loopback_is_allowed():
    with pytest.raises(ValidationError):
        validate_lms_base_url("http://10.0.0.5/sandbox/360", allow_loopback=True)


def test_the_connection_form_shows_the_reason_on_the_base_url_field(admin_client, settings):
    settings.LMS_ALLOW_LOOPBACK = False
    response = admin_client.post(
        "/connections/new/",
        {
            "name": "Internal",
            "provider": "360learning",
            "region": "custom",
            "base_url": "http://10.0.0.7/",
            "client_id": "abc",
            "client_secret": "s3cret-value",
            "stale_after_hours": 24,
            "alert_after_failures": 3,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["base_url"] == [
        PRIVATE_NOT_ALLOWED.format(host="10.0.0.7", address="10.0.0.7")
    ]


# Malformed URLs and ports are form errors, never a 500 (issue 16, findings 5 and 8) --------
def _create(admin_client, base_url: str):
    return admin_client.post(
        "/connections/new/",
        {
            "name": "Tenant",
            "provider": "360learning",
            "region": "custom",
            "base_url": base_url,
            "client_id": "abc",
            "client_secret": "s3cret-value",
            "stale_after_hours": 24,
            "alert_after_failures": 3,
        },
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://[::1", URL_MALFORMED),
        ("https://[abc]/", URL_MALFORMED),
        (f"https://{LONG_LABEL}.example.com", HOST_INVALID.format(host=f"{LONG_LABEL}.example.com")),
        ("https://93.184.215.14:22", PORT_NOT_ALLOWED),
        ("https://93.184.215.14:99999", PORT_INVALID),
        ("https://93.184.215.14:abc", PORT_INVALID),
        ("https://[::127.0.0.1]", IPV4_IN_IPV6.format(host="::127.0.0.1", address="::7f00:1")),
        ("https://[64:ff9b::a00:1]", IPV4_IN_IPV6.format(host="64:ff9b::a00:1", address="64:ff9b::a00:1")),
        ("https://[2002:a00:1::]", IPV4_IN_IPV6.format(host="2002:a00:1::", address="2002:a00:1::")),
        ("https://localhost.", LOOPBACK_NOT_ALLOWED.format(host="localhost.", address="127.0.0.1")),
    ],
)
def test_the_form_explains_a_malformed_or_refused_base_url(url, message, admin_client, settings):
    settings.LMS_ALLOW_LOOPBACK = False

    response = _create(admin_client, url)

    assert response.status_code == 200
    assert response.context["form"].errors["base_url"] == [message]
    assert not Connection.objects.exists()


def test_any_port_is_fine_for_the_loopback_sandbox_when_allowed(settings):
    settings.LMS_ALLOW_LOOPBACK = True
    assert validate_lms_base_url("http://localhost:8123/sandbox/360") == "http://localhost:8123/sandbox/360"
    with pytest.raises(ValidationError) as caught:
        validate_lms_base_url("http://localhost:99999/sandbox/360")
    assert caught.value.messages == [PORT_INVALID]


# Stored URLs are checked again at every connection (issue 16, finding 4) --------------------


def _stored(base_url: str) -> Connection:
    """A connection saved without the form: an old row, or one saved under other settings."""
    return connection_create(
        actor=None,
        data=ConnectionData(
            name="Stored", provider="360learning", base_url=base_url, client_id="cid", client_secret="s3cret-value"
        ),
    )


def test_a_stored_host_now_resolving_to_loopback_is_refused_and_nothing_is_sent(db, settings, dns, server):
    settings.LMS_ALLOW_LOOPBACK = False
    connection = _stored(f"http://{NAME}:{server.port}")
    dns.answers[NAME] = "127.0.0.1"

    result = connection_check(connection=connection)

    assert not result.ok
    assert result.message == CHECK_ADDRESS_REFUSED.format(
        detail=LOOPBACK_NOT_ALLOWED.format(host=NAME, address="127.0.0.1")
    )
    assert server.connections == 0 and server.requests == []
    connection.refresh_from_db()
    assert connection.last_check_ok is False and connection.last_error == result.message


def test_a_name_that_rebinds_after_the_form_accepted_it_is_refused_at_check_time(admin_client, settings, dns):
    settings.LMS_ALLOW_LOOPBACK = False
    assert _create(admin_client, f"https://{NAME}").status_code == 302  # public when saved
    connection = Connection.objects.get()
    dns.answers[NAME] = "10.0.0.9"  # and internal when used

    response = admin_client.post(f"/connections/{connection.pk}/check/", headers={"HX-Request": "true"})

    expected = CHECK_ADDRESS_REFUSED.format(detail=PRIVATE_NOT_ALLOWED.format(host=NAME, address="10.0.0.9"))
    assert response.status_code == 200
    assert escape(expected) in response.content.decode()
    connection.refresh_from_db()
    assert connection.last_error == expected
    assert dns.lookups == [NAME, NAME]  # once by the form, once by the connection


def test_testing_a_stored_url_with_a_70_character_label_says_why_instead_of_a_500(admin_client):
    connection = _stored(f"https://{LONG_LABEL}.example.com")

    response = admin_client.post(f"/connections/{connection.pk}/check/", headers={"HX-Request": "true"})

    expected = CHECK_ADDRESS_REFUSED.format(detail=HOST_INVALID.format(host=f"{LONG_LABEL}.example.com"))
    assert response.status_code == 200
    assert escape(expected) in response.content.decode()
    connection.refresh_from_db()
    assert connection.last_error == expected
