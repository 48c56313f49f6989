"""Connection checks and integration commands against the sandbox LMS over real HTTP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from integrations.clients.addresses import LOOPBACK_NOT_ALLOWED, PRIVATE_NOT_ALLOWED
from integrations.models import AuditEntry, Integration
from integrations.services.connections import CHECK_ADDRESS_REFUSED, CHECK_AUTH, connection_check

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_good_connection_checks_ok_with_tenant_facts(connection_360):
    result = connection_check(connection=connection_360)
    assert result.ok, result.message
    facts = dict(result.facts)
    assert facts["Groups"].startswith(str(_group_count()))
    connection_360.refresh_from_db()
    assert connection_360.health == "healthy" and connection_360.last_checked_at


def _group_count() -> int:
    from sandbox.models import Group

    return Group.objects.count()


def test_a_wrong_secret_fails_with_the_reason(connection_360):
    assert connection_check(connection=connection_360).ok  # a token is now cached for the right secret
    result = connection_check(connection=connection_360, client_secret="wrong-secret")
    assert not result.ok
    assert result.message.startswith(CHECK_AUTH.split("(")[0])
    connection_360.refresh_from_db()
    assert connection_360.health == "failing" and "refused the credentials" in connection_360.last_error


def test_an_ispring_connection_checks_ok(connection_ispring):
    result = connection_check(connection=connection_ispring)
    assert result.ok, result.message


def test_the_commands_add_check_create_and_pull_against_the_sandbox(sandbox, live_server, capsys, monkeypatch):
    from sandbox import constants as c
    from sandbox.models import Group, User

    base = f"{live_server.url}/sandbox/360"
    call_command(
        "add_connection",
        "acme",
        "--provider",
        "360learning",
        "--base-url",
        base,
        "--client-id",
        c.DEFAULT_CLIENT_ID,
        "--client-secret",
        c.DEFAULT_CLIENT_SECRET,
    )
    call_command("check_connection", "acme")
    assert "Connected to 360Learning" in capsys.readouterr().out

    group, author = Group.objects.first(), User.objects.filter(status="active").first()
    call_command(
        "create_integration",
        "--connection",
        "acme",
        "--external-platform",
        "Coursera",
        "--group-id",
        group.oid,
        "--author-id",
        author.oid,
        "--default-progress",
        "10",
    )
    remote_id = capsys.readouterr().out.strip()
    assert len(remote_id) == 24
    assert Integration.objects.get(remote_id=remote_id).default_progress == 10

    Integration.objects.all().delete()  # forget the mirror: pull must adopt it again
    call_command("pull_integrations", "--connection", "acme")
    out = capsys.readouterr().out
    from sandbox.models import Integration as RemoteIntegration

    assert f"{RemoteIntegration.objects.count()} new" in out and remote_id in out
    assert Integration.objects.get(remote_id=remote_id).external_platform == "Coursera"
    # One entry for the creation, one per adopted mirror.
    assert (
        AuditEntry.objects.filter(object_type="integration", action="create").count()
        == 1 + RemoteIntegration.objects.count()
    )


def test_check_connection_exits_non_zero_with_a_wrong_secret(sandbox, live_server):
    base = f"{live_server.url}/sandbox/360"
    call_command(
        "add_connection",
        "bad",
        "--provider",
        "360learning",
        "--base-url",
        base,
        "--client-id",
        "sandbox-client",
        "--client-secret",
        "not-the-secret",
    )
    with pytest.raises(CommandError, match="refused the credentials"):
        call_command("check_connection", "bad")


def test_add_connection_refuses_a_private_address(db, settings):
    settings.LMS_ALLOW_LOOPBACK = False
    message = PRIVATE_NOT_ALLOWED.format(host="10.0.0.8", address="10.0.0.8")
    with pytest.raises(CommandError, match=re.escape(f"--base-url: {message}")):
        call_command(
            "add_connection",
            "internal",
            "--provider",
            "360learning",
            "--base-url",
            "http://10.0.0.8",
            "--client-id",
            "x",
            "--client-secret",
            "y",
        )


def test_a_loopback_url_stored_while_allowed_stops_working_when_loopback_is_switched_off(connection_360, settings):
    from sandbox.models import RequestLog

    settings.LMS_ALLOW_LOOPBACK = False
    host = urlsplit(connection_360.base_url).hostname
    expected = CHECK_ADDRESS_REFUSED.format(detail=LOOPBACK_NOT_ALLOWED.format(host=host, address="127.0.0.1"))

    result = connection_check(connection=connection_360)
    with pytest.raises(CommandError) as caught:
        call_command("check_connection", connection_360.name)

    assert (result.ok, result.message) == (False, expected)
    assert str(caught.value) == expected
    assert not RequestLog.objects.exists()  # the sandbox received nothing


def test_a_check_from_the_web_makes_one_attempt_where_the_command_line_retries(connection_360, admin_client):
    """A person waits on "Test connection": a 503 is reported at once (one request), while the
    command line (and the workers) ride out the same fault with their retries."""
    from sandbox import constants as c, faults
    from sandbox.selectors import request_log_list

    def groups_requests() -> int:
        return len(list(request_log_list(method="GET", path_prefix="/api/v2/groups")))

    connection_check(connection=connection_360)  # a token is cached: only the listing is counted
    before = groups_requests()
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind="server_error", count=2, path_prefix="/api/v2/groups")
    page = admin_client.post(f"/connections/{connection_360.pk}/check/", headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert "503" in page.content.decode() or "unavailable" in page.content.decode().lower()
    assert groups_requests() == before + 1

    # The second fault is still armed: the patient path retries through it and succeeds.
    assert connection_check(connection=connection_360).ok
    assert groups_requests() == before + 3


def test_web_clients_have_short_timeouts_and_one_attempt(connection_360, settings):
    from integrations.providers.learning360.connect import learning360_client
    from integrations.services.clients import INTERACTIVE_TIMEOUT

    with learning360_client(connection_360, interactive=True) as client:
        assert client._transport.timeout == INTERACTIVE_TIMEOUT == (3.0, 10.0)
        assert client._transport.retry.max_attempts == 1
    with learning360_client(connection_360) as client:
        assert client._transport.timeout == settings.LMS_HTTP_TIMEOUT
        assert client._transport.retry.max_attempts > 1
