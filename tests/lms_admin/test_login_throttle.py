"""Login throttling on both login forms: our own and Django admin's.

The actors: Alice (L&D admin) and Root (a superuser, who alone may use /admin/login/) each own
an account; Mallory guesses at their passwords from 203.0.113.66. Alice works from
198.51.100.7. Carol has an account of her own, which Mallory also knows the password of.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory

from lms_admin.login_throttle import LOCKED_OUT_MESSAGE, LOCKED_OUT_STATUS, client_ip
from tests.conftest import PASSWORD
from tests.support.csp import assert_strict_policy

MALLORY = "203.0.113.66"
ALICE_OFFICE = "198.51.100.7"
WRONG = "wrong-password-1"

LOGIN_PAGES = {
    "site": ("/accounts/login/", "alice"),
    "admin": ("/admin/login/", "root"),
}


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture(params=list(LOGIN_PAGES), ids=list(LOGIN_PAGES))
def login(request, alice, root):
    """(login page, username) for each form; posting ``password`` from ``ip`` with a fresh client."""
    url, username = LOGIN_PAGES[request.param]

    def post(password: str, *, ip: str = MALLORY, user: str = username, client: Client | None = None):
        client = client or Client()
        return client.post(url, {"username": user, "password": password}, REMOTE_ADDR=ip)

    post.url, post.username = url, username
    return post


def _logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def _carol_logs_in_from(ip: str):
    return Client().post("/accounts/login/", {"username": "carol", "password": PASSWORD}, REMOTE_ADDR=ip)


def _fail_up_to_the_limit(login, *, ip: str = MALLORY) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(WRONG, ip=ip)
        assert response.status_code == 200 and not _logged_in(response)
    # The last failure allowed is answered with the lockout page already.
    assert login(WRONG, ip=ip).status_code == LOCKED_OUT_STATUS


def test_the_failure_limit_and_cool_off_have_sensible_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_the_right_password_is_refused_after_too_many_failures(login):
    _fail_up_to_the_limit(login)

    response = login(PASSWORD)

    assert response.status_code == LOCKED_OUT_STATUS
    assert not _logged_in(response)
    html = response.content.decode()
    assert LOCKED_OUT_MESSAGE.format(minutes=15) in html
    # The site's own layout and stylesheet, not a bare text answer.
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html
    assert "<h1>Log-in paused</h1>" in html
    assert 'href="/accounts/login/"' in html
    assert_strict_policy(response)


def test_the_lockout_ends_after_the_cool_off(login):
    _fail_up_to_the_limit(login)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))

    assert _logged_in(login(PASSWORD))


def test_a_refused_try_during_the_cool_off_starts_it_again(login):
    _fail_up_to_the_limit(login)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=10))
    assert login(PASSWORD).status_code == LOCKED_OUT_STATUS

    # 16 minutes after the lockout but 6 after the last try: still locked.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=6))
    assert login(PASSWORD).status_code == LOCKED_OUT_STATUS


def test_a_success_before_the_limit_logs_in_and_clears_the_count(login):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(WRONG)
    assert _logged_in(login(PASSWORD))

    # The typos before that success no longer count: as many again are allowed.
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(WRONG).status_code == 200
    assert _logged_in(login(PASSWORD))


def test_a_success_with_another_account_does_not_clear_the_count(login, carol):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(WRONG)
    # Mallory logs in with the one account she owns, from the same address...
    assert _logged_in(
        Client().post("/accounts/login/", {"username": "carol", "password": PASSWORD}, REMOTE_ADDR=MALLORY)
    )

    # ...and her next guess at the other account still reaches the limit.
    assert login(WRONG).status_code == LOCKED_OUT_STATUS
    assert login(PASSWORD).status_code == LOCKED_OUT_STATUS


def test_the_lockout_is_for_that_username_from_that_address_only(login, carol):
    _fail_up_to_the_limit(login)

    # The account's owner, from her own network, is not locked out by Mallory's guesses...
    assert _logged_in(login(PASSWORD, ip=ALICE_OFFICE))
    # ...nor is another account from Mallory's address (a shared office NAT).
    assert _logged_in(
        Client().post("/accounts/login/", {"username": "carol", "password": PASSWORD}, REMOTE_ADDR=MALLORY)
    )
    # Mallory herself still is.
    assert login(PASSWORD).status_code == LOCKED_OUT_STATUS


def test_failures_are_logged_with_the_address_but_not_the_username_or_password(login, caplog):
    caplog.set_level(logging.WARNING, logger="axes")

    _fail_up_to_the_limit(login)

    failures = [r.getMessage() for r in caplog.records if r.name.startswith("axes")]
    assert len(failures) >= settings.AXES_FAILURE_LIMIT
    assert all(MALLORY in line and login.url in line for line in failures)
    assert any("Locking out" in line for line in failures)
    # A password typed into the username box must not end up in a log.
    assert not any(login.username in line or WRONG in line for line in failures)


def test_behind_the_proxy_each_forwarded_client_is_counted_on_its_own(settings, alice):
    settings.BEHIND_TLS_PROXY = True

    def post(password: str, forwarded_for: str):
        return Client().post(
            "/accounts/login/",
            {"username": "alice", "password": password},
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    for n in range(settings.AXES_FAILURE_LIMIT):
        # Mallory makes up a new left-hand address for every guess; the proxy appends hers.
        post(WRONG, f"192.0.2.{n}, {MALLORY}")
    assert post(PASSWORD, f"192.0.2.99, {MALLORY}").status_code == LOCKED_OUT_STATUS
    # Alice, through the same proxy, is a different client.
    assert _logged_in(post(PASSWORD, ALICE_OFFICE))


class TestClientIp:
    def request(self, **meta):
        return RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **meta)

    def test_it_is_the_connection_address_without_a_proxy(self, settings):
        settings.BEHIND_TLS_PROXY = False
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR=MALLORY)) == "10.0.0.2"

    def test_it_is_the_address_the_proxy_appended_behind_one(self, settings):
        settings.BEHIND_TLS_PROXY = True
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR=MALLORY)) == MALLORY
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR=f"1.2.3.4, {MALLORY}")) == MALLORY
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR="2001:db8::1")) == "2001:db8::1"

    def test_it_falls_back_to_the_connection_when_the_header_is_missing_or_unreadable(self, settings):
        settings.BEHIND_TLS_PROXY = True
        assert client_ip(self.request()) == "10.0.0.2"
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR="unknown")) == "10.0.0.2"
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR=f"{MALLORY}, ")) == "10.0.0.2"
