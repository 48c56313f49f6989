"""The shared transport: what counts as sent, Retry-After parsing, the error flags, and
that client modules stay free of Django."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
)

from integrations.clients.errors import (
    AddressRefused,
    AuthError,
    BadRequest,
    BadResponse,
    LmsError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RemoteUnavailable,
)
from integrations.clients.transport import RetryPolicy, _may_have_been_sent, parse_retry_after
from tests.integrations.clients.conftest import ROOT


@pytest.mark.parametrize(
    ("exc", "sent"),
    [
        (requests.exceptions.ConnectTimeout(), False),
        (requests.exceptions.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused"))), False),
        (requests.exceptions.ConnectionError(MaxRetryError(None, "/", NameResolutionError("h", None, "dns"))), False),
        (requests.exceptions.ConnectionError(MaxRetryError(None, "/", ConnectTimeoutError())), False),
        (requests.exceptions.ReadTimeout(), True),
        (requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError())), True),
        (requests.exceptions.SSLError(), True),
        (requests.exceptions.ChunkedEncodingError(), True),
    ],
)
def test_only_failures_before_connecting_count_as_never_sent(exc, sent):
    assert _may_have_been_sent(exc) is sent


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(format_datetime(datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC), usegmt=True), now=now) == 30
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_doubles_up_to_the_cap():
    policy = RetryPolicy(backoff_base=1, backoff_cap=5)
    assert [policy.backoff(n, jitter=1.0) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    assert policy.backoff(1, jitter=0.0) == 0.5


@pytest.mark.parametrize(
    ("cls", "permanent"),
    [
        (AddressRefused, True),
        (AuthError, True),
        (PermissionDenied, True),
        (NotFound, True),
        (BadRequest, True),
        (BadResponse, True),
        (RateLimited, False),
        (RemoteUnavailable, False),
    ],
)
def test_every_error_is_an_lms_error_with_default_flags(cls, permanent):
    error = cls("msg", status=418, code="x")
    assert isinstance(error, LmsError)
    assert error.permanent is permanent
    assert error.may_have_been_applied is False
    assert str(error) == "msg"
    assert "status=418" in repr(error) and "code='x'" in repr(error)


def test_client_modules_import_nothing_from_django():
    code = (
        "import sys, integrations.providers.learning360.client, integrations.providers.learning360.client_v1, "
        "integrations.providers.ispring.client; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
