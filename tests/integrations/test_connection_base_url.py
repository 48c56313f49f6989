from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from integrations.validators import (
    CREDENTIALS_IN_URL,
    HTTP_NOT_ALLOWED,
    LOOPBACK_NOT_ALLOWED,
    PRIVATE_NOT_ALLOWED,
    SCHEME_NOT_ALLOWED,
    validate_lms_base_url,
)


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
        ("http://127.0.0.1:8000/sandbox/360", LOOPBACK_NOT_ALLOWED.format(host="127.0.0.1")),
        ("https://localhost", LOOPBACK_NOT_ALLOWED.format(host="localhost")),
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
