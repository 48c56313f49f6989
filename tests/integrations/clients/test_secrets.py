"""Secrets (client secrets, the v1 API key, access tokens) never reach exception messages,
reprs or log records, whatever goes wrong."""

from __future__ import annotations

import logging

import pytest
import requests
import responses
from django.views.debug import ExceptionReporter
from urllib3.exceptions import NewConnectionError

from integrations.clients.errors import LmsError
from integrations.clients.transport import mask_text, mask_url
from tests.integrations.clients.conftest import (
    API_KEY,
    BASE,
    CLIENT_SECRET,
    ISPRING_TOKEN_URL,
    TOKEN_URL,
    add_token,
    oid,
)

SECRETS = (CLIENT_SECRET, API_KEY, "token-1", "ispring-token-1")


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {text!r}"


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_v1_errors_and_logs_never_show_the_api_key(mocked, v1_client, logs):
    url = f"{BASE}/api/v1/paths/sessions/{oid(1)}/stats"
    # requests puts the full URL, query string included, into connection errors.
    mocked.add(
        responses.GET,
        url,
        body=requests.exceptions.ConnectionError(
            NewConnectionError(None, f"Failed to connect to {url}?company=c&apiKey={API_KEY}")
        ),
    )

    with pytest.raises(LmsError) as caught:
        v1_client.path_session_stats(oid(1))

    error = caught.value
    assert error.__cause__ is None and error.__context__ is None
    assert_no_secret(str(error), repr(error), repr(v1_client), logs.text)
    assert "could not connect" in str(error)


def test_v1_success_logs_the_url_with_the_api_key_masked(mocked, v1_client, logs):
    url = f"{BASE}/api/v1/paths/sessions/{oid(1)}/stats"
    mocked.add(responses.GET, url, json={"userStats": []})

    v1_client.path_session_stats(oid(1))

    assert "apiKey=***" in logs.text
    assert_no_secret(logs.text)


def test_a_remote_message_echoing_a_secret_is_redacted(mocked, client, v1_client, logs):
    mocked.add(
        responses.POST,
        TOKEN_URL,
        status=400,
        json={"error": "invalid_request", "message": f"bad client_secret={CLIENT_SECRET}"},
    )
    mocked.add(
        responses.GET,
        f"{BASE}/api/v1/paths/sessions/{oid(1)}/stats",
        status=500,
        json={"error": "boom", "message": f"GET /stats?apiKey={API_KEY} failed"},
    )

    with pytest.raises(LmsError) as token_error:
        list(client.users())
    with pytest.raises(LmsError) as v1_error:
        v1_client.path_session_stats(oid(1))

    for error in (token_error.value, v1_error.value):
        assert_no_secret(str(error), repr(error), error.message)
    assert_no_secret(logs.text)


def test_bearer_tokens_and_client_secrets_stay_out_of_errors_and_logs(mocked, client, ispring_client, logs):
    add_token(mocked)
    mocked.add(responses.GET, f"{BASE}/api/v2/users", status=503)
    mocked.add(
        responses.POST,
        ISPRING_TOKEN_URL,
        json={"access_token": "ispring-token-1", "expires_in": 60, "token_type": "bearer"},
    )
    mocked.add(responses.GET, f"{BASE}/learners/modules/results", body=requests.exceptions.ReadTimeout("timed out"))

    with pytest.raises(LmsError) as v2_error:
        list(client.users())
    with pytest.raises(LmsError) as ispring_error:
        list(ispring_client.module_results())

    for error in (v2_error.value, ispring_error.value):
        assert_no_secret(str(error), repr(error))
    assert_no_secret(repr(client), repr(ispring_client), repr(client._transport), repr(client._tokens), logs.text)
    assert "retrying" in logs.text  # the retries were logged, without secrets


def test_urllib3_request_lines_are_masked():
    record = logging.LogRecord(
        "urllib3.connectionpool",
        logging.DEBUG,
        __file__,
        1,
        '%s://%s:%s "%s %s %s" %s %s',
        ("https", "lms", 443, "GET", f"/api/v1/paths/sessions/x/stats?company=c&apiKey={API_KEY}", "HTTP/1.1", 200, 10),
        None,
    )
    for handler_filter in logging.getLogger("urllib3.connectionpool").filters:
        handler_filter.filter(record)

    assert API_KEY not in record.getMessage()
    assert "apiKey=***" in record.getMessage()


def test_mask_helpers_hide_sensitive_query_values_only():
    assert (
        mask_url(f"https://h/p?company=c&apiKey={API_KEY}&pageToken=abc")
        == "https://h/p?company=c&apiKey=***&pageToken=abc"
    )
    assert mask_text(f"client_secret={CLIENT_SECRET}&access_token=t0k") == "client_secret=***&access_token=***"


def test_an_unreadable_token_answer_does_not_carry_its_body(mocked, client):
    mocked.add(responses.POST, TOKEN_URL, body='{"access_token": "token-1", "expi', content_type="application/json")

    with pytest.raises(LmsError) as caught:
        list(client.users())

    # The JSON decode error (whose .doc is the body, token included) is not chained.
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert_no_secret(str(caught.value), repr(caught.value))


# Django error pages (issue 16, finding 5) ---------------------------------------------------
def _error_page(caught: pytest.ExceptionInfo) -> str:
    """Django's technical 500 page for the caught exception, with the project's filter."""
    return ExceptionReporter(None, caught.type, caught.value, caught.tb).get_traceback_html()


def test_django_error_pages_show_nothing_of_a_token_request_that_blew_up(mocked, client, ispring_client):
    # An unexpected exception deep under the token request: every frame holds the secret.
    mocked.add(responses.POST, TOKEN_URL, body=RuntimeError("unexpected"))
    mocked.add(responses.POST, ISPRING_TOKEN_URL, body=RuntimeError("unexpected"))

    with pytest.raises(RuntimeError) as v2:
        list(client.users())
    with pytest.raises(RuntimeError) as ispring:
        list(ispring_client.module_results())

    for caught in (v2, ispring):
        page = _error_page(caught)
        assert "RuntimeError" in page and "_fetch_token" in page  # the frames are listed...
        assert_no_secret(page)  # ...without their variables


def test_django_error_pages_show_nothing_of_a_v1_request_that_blew_up(mocked, v1_client):
    mocked.add(responses.GET, f"{BASE}/api/v1/paths/sessions/{oid(1)}/stats", body=RuntimeError("unexpected"))

    with pytest.raises(RuntimeError) as caught:
        v1_client.path_session_stats(oid(1))

    page = _error_page(caught)
    assert "path_session_stats" in page
    assert_no_secret(page)
