"""Alerts: N failures in a row, or counts that differ from the LMS, reach the admins once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from integrations.models import Alert, Connection, ImportRun, Integration, SyncRun
from integrations.services.alerts import alerts_evaluate


@pytest.fixture
def connection(db, alice) -> Connection:
    alice.email = "alice@example.org"
    alice.save()
    return Connection.objects.create(
        name="Acme",
        provider="360learning",
        base_url="https://app.360learning.com",
        client_id="x",
        alert_after_failures=3,
    )


def _sync(connection, state, *, error="", reconciliation=None, kind="users"):
    return SyncRun.objects.create(
        connection=connection,
        kind=kind,
        state=state,
        error=error,
        reconciliation=reconciliation or {},
        ended_at=timezone.now(),
    )


def test_three_failed_syncs_in_a_row_alert_the_admins_once(connection, admin_client):
    _sync(connection, "failed", error="LMS unreachable")
    _sync(connection, "failed", error="LMS unreachable")
    assert alerts_evaluate() == []
    _sync(connection, "failed", error="360Learning is unavailable (HTTP 503).")
    [alert] = alerts_evaluate()
    assert alert.kind == Alert.Kind.SYNC_FAILURES and "failed 3 times in a row" in alert.message
    assert "HTTP 503" in alert.message
    [message] = mail.outbox
    assert message.to == ["alice@example.org"] and "Sync failing: Acme" in message.subject
    assert message.alternatives and "See it in LMS Admin" in message.alternatives[0][0]

    assert alerts_evaluate() == [] and len(mail.outbox) == 1  # once, not every minute
    html = admin_client.get("/").content.decode()
    assert 'class="alerts"' in html and "failed 3 times in a row" in html


def test_a_successful_sync_resolves_the_alert(connection, admin_client):
    for _ in range(3):
        _sync(connection, "failed", error="boom")
    alerts_evaluate()
    _sync(connection, "completed")
    alerts_evaluate()
    assert Alert.objects.get().resolved_at is not None
    assert 'class="alerts"' not in admin_client.get("/").content.decode()


def test_the_threshold_is_per_connection(connection):
    connection.alert_after_failures = 1
    connection.save()
    _sync(connection, "failed", error="boom")
    assert len(alerts_evaluate()) == 1


def test_counts_that_differ_from_the_lms_raise_an_alert(connection):
    _sync(connection, "completed", kind="sessions", reconciliation={"s1": {"late": [3, 4]}})
    [alert] = alerts_evaluate()
    assert alert.kind == Alert.Kind.RECONCILIATION and "1 session(s) differ" in alert.message


def test_imports_that_keep_failing_raise_an_alert(connection, alice):
    integration = Integration.objects.create(
        connection=connection, remote_id="a" * 24, external_platform="Coursera", group_id="b" * 24, author_id="c" * 24
    )
    for _ in range(3):
        ImportRun.objects.create(
            integration=integration,
            kind="stats",
            source_name="x.csv",
            state="completed",
            failed_records=2,
            ended_at=timezone.now(),
        )
    [alert] = alerts_evaluate()
    assert alert.kind == Alert.Kind.IMPORT_FAILURES and "Coursera" in alert.message


def test_managers_never_see_the_alert_banner(connection, manager_client):
    for _ in range(3):
        _sync(connection, "failed", error="boom")
    alerts_evaluate()
    assert 'class="alerts"' not in manager_client.get("/").content.decode()
