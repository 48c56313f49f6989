"""``manage.py sync_lms``: runs in the calling process, prints rows written per kind, and fails
with a clear message."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import SyncRun, SyncState
from integrations.sync import messages
from lms_cache.models import CourseAttempt, ModuleResult
from sandbox import constants as c, faults, models as remote

pytestmark = pytest.mark.django_db(transaction=True)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("sync_lms", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_all_syncs_every_kind_of_a_360_connection_in_order_and_prints_the_rows(connection_360, tenant):
    out = _run("all", "--connection", connection_360.name)

    lines = [line for line in out.splitlines() if not line.startswith("  ")]
    assert [line.split(":")[0] for line in lines] == ["users", "courses", "paths", "sessions", "course-stats"]
    attempts = remote.CourseAttempt.objects.filter(tenant=tenant).count()
    assert f"course-stats: {attempts:,} inserted, 0 updated, 0 removed (2 pages, full," in out
    assert "6 session(s) refreshed, 0 with counts that differ" in out
    assert CourseAttempt.objects.count() == attempts

    again = _run("course-stats", "--connection", connection_360.name)
    assert "course-stats: 0 inserted, 0 updated, 0 removed (1 pages, incremental," in again


def test_all_on_an_ispring_connection_syncs_users_then_module_results(connection_ispring, tenant):
    out = _run("all", "--connection", connection_ispring.name, "--full")
    lines = [line for line in out.splitlines() if not line.startswith("  ")]
    assert [line.split(":")[0] for line in lines] == ["users", "module-results"]
    users = remote.IspringUser.objects.filter(tenant=tenant).count()
    assert lines[0].startswith(f"users: {users:,} inserted, 0 updated, 0 removed")
    assert lines[1].startswith(f"module-results: {ModuleResult.objects.count():,} inserted")
    assert ModuleResult.objects.count() == remote.IspringModuleResult.objects.filter(tenant=tenant).count()


def test_an_unknown_connection_is_a_clear_error(db):
    with pytest.raises(CommandError) as error:
        _run("users", "--connection", "Nope")
    assert str(error.value) == messages.CONNECTION_NOT_FOUND.format(name="Nope")


def test_a_kind_the_provider_lacks_is_a_clear_error(connection_ispring):
    with pytest.raises(CommandError, match="iSpring Learn connections have no courses to sync"):
        _run("courses", "--connection", connection_ispring.name)


def test_a_failing_sync_exits_non_zero_with_the_reason(connection_360):
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID,
        kind=c.FAULT_SERVER_ERROR,
        count=4,
        status=503,
        retry_after=0,
        path_prefix="/api/v2/paths",
    )
    with pytest.raises(CommandError) as error:
        _run("paths", "--connection", connection_360.name)
    assert str(error.value).startswith("paths: The sync stopped: 360Learning GET /sandbox/360/api/v2/paths: HTTP 503")
    assert SyncRun.objects.get().state == SyncState.FAILED


def test_a_kind_already_running_elsewhere_is_not_run_twice(connection_360):
    SyncRun.objects.create(connection=connection_360, kind="users", state=SyncState.RUNNING)
    with pytest.raises(CommandError, match=r"A users sync of Sandbox 360 is already running \(#\d+\)"):
        _run("users", "--connection", connection_360.name)
