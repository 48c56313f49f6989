"""A sync is a contact with the LMS: its outcome is the connection's health (issue 17, broken
path 10: the demo's connections read "Unchecked" a minute after a successful sync)."""

from __future__ import annotations

from integrations.sync import messages


def test_a_completed_sync_marks_the_connection_healthy_and_checked_now(sync, connection_360):
    assert connection_360.health == "unchecked"
    run = sync(connection_360, "users")
    assert run.state == "completed"
    connection_360.refresh_from_db()
    assert connection_360.health == "healthy"
    assert connection_360.last_checked_at >= run.started_at
    assert connection_360.last_error == ""


def test_a_sync_the_lms_refuses_marks_the_connection_failing_with_the_reason(sync, connection_360):
    sync(connection_360, "users")
    connection_360.client_secret = "not-the-secret"
    connection_360.save()
    run = sync(connection_360, "courses")
    assert run.state == "failed"
    connection_360.refresh_from_db()
    assert connection_360.health == "failing"
    assert connection_360.last_error.startswith(messages.HEALTH_SYNC_FAILED.split("{")[0] + "courses sync failed")


def test_a_sync_failing_on_our_own_bug_says_nothing_of_the_connection(sync, connection_360, monkeypatch):
    from dataclasses import replace

    from integrations import providers

    def broken(ctx):
        raise KeyError("a bug of ours")

    spec = providers.get("360learning")
    broken_spec = replace(spec, sync_kinds=tuple((k, broken if k == "users" else f) for k, f in spec.sync_kinds))
    get = providers.get
    monkeypatch.setattr(providers, "get", lambda value: broken_spec if value == spec.value else get(value))
    run = sync(connection_360, "users")
    assert run.state == "failed"
    connection_360.refresh_from_db()
    assert connection_360.health == "unchecked"
