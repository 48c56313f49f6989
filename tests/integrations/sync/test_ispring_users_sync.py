"""iSpring Learn users synced from the sandbox over real HTTP: ``sync_lms users`` caches exactly
the tenant's users (a full listing each time, reconciled by count), a second run changes
nothing, a user removed remotely is marked gone, and a failing listing leaves the cache as it was."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import SyncRun, SyncState
from lms_cache.models import LmsUser
from sandbox import constants as c, faults, models as remote, seeding

pytestmark = pytest.mark.django_db(transaction=True)


def _sync_users(connection) -> str:
    out = StringIO()
    call_command("sync_lms", "users", "--connection", connection.name, stdout=out, stderr=StringIO())
    return out.getvalue()


def _cache(connection) -> dict:
    return {row["remote_id"]: row for row in LmsUser.objects.filter(connection=connection).values()}


def test_sync_lms_users_caches_exactly_the_tenants_users_and_a_second_run_changes_nothing(connection_ispring, tenant):
    profiles = {u.user_uuid: u for u in remote.IspringUser.objects.filter(tenant=tenant)}
    assert profiles

    out = _sync_users(connection_ispring)

    assert out.startswith(f"users: {len(profiles):,} inserted, 0 updated, 0 removed (1 pages, full,")
    assert f"{len(profiles):,} users listed" in out
    cached = _cache(connection_ispring)
    assert set(cached) == set(profiles)
    for remote_id, row in cached.items():
        profile = profiles[remote_id]
        assert (row["mail"], row["username"], row["first_name"], row["last_name"]) == (
            profile.email,
            profile.login,
            profile.first_name,
            profile.last_name,
        )
        assert row["status"] == {1: "active", 3: "inactive"}[profile.status]
        assert row["group_remote_id"] == "" and row["gone_at"] is None
    # The seed's mail variations reach the cache untouched (matching is not the cache's job).
    spaced = [i for i in range(len(profiles)) if seeding.ispring_person(i) == seeding.MAIL_SPACED]
    assert len(spaced) >= 2
    assert len([row for row in cached.values() if row["mail"] != row["mail"].strip()]) == len(spaced)
    run = SyncRun.objects.get()
    assert (run.state, run.full_refresh, run.reconciliation) == (SyncState.COMPLETED, True, {})

    again = _sync_users(connection_ispring)

    assert again.startswith("users: 0 inserted, 0 updated, 0 removed (1 pages, full,")
    assert _cache(connection_ispring) == cached


def test_a_user_removed_in_the_sandbox_is_marked_gone_on_the_next_sync(connection_ispring, tenant):
    _sync_users(connection_ispring)
    removed = remote.IspringUser.objects.filter(tenant=tenant).order_by("pk").last()
    removed.delete()

    out = _sync_users(connection_ispring)

    assert out.startswith("users: 0 inserted, 0 updated, 1 removed")
    gone = LmsUser.objects.get(connection=connection_ispring, remote_id=removed.user_uuid)
    assert gone.gone_at is not None
    live = LmsUser.objects.filter(connection=connection_ispring, gone_at__isnull=True).count()
    assert live == remote.IspringUser.objects.filter(tenant=tenant).count()


def test_the_users_are_paged_like_the_documented_listing(connection_ispring, tenant, monkeypatch):
    from integrations.providers.ispring import sync as ispring_sync

    monkeypatch.setattr(ispring_sync, "ISPRING_PAGE", 4)
    total = remote.IspringUser.objects.filter(tenant=tenant).count()

    out = _sync_users(connection_ispring)

    assert out.startswith(f"users: {total:,} inserted, 0 updated, 0 removed ({-(-total // 4)} pages, full,")
    assert LmsUser.objects.filter(connection=connection_ispring).count() == total


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": c.FAULT_SERVER_ERROR, "status": 503, "retry_after": 0, "count": 4}, "HTTP 503"),
        ({"kind": c.FAULT_MALFORMED_BODY}, "malformed JSON"),
    ],
)
def test_a_failing_listing_fails_the_run_and_leaves_the_cache_as_it_was(connection_ispring, tenant, fault, error):
    _sync_users(connection_ispring)
    before = _cache(connection_ispring)
    remote.IspringUser.objects.filter(tenant=tenant).order_by("pk").last().delete()
    remote.IspringUser.objects.filter(tenant=tenant).update(first_name="Changed")
    faults.fault_add(client_id=c.DEFAULT_ISPRING_CLIENT_ID, path_prefix="/users", **fault)

    with pytest.raises(CommandError, match=error):
        _sync_users(connection_ispring)

    failed = SyncRun.objects.order_by("pk").last()
    assert failed.state == SyncState.FAILED and error in failed.error
    assert _cache(connection_ispring) == before
    assert "users: 0 inserted, " in _sync_users(connection_ispring)  # the next run completes
    assert LmsUser.objects.filter(connection=connection_ispring, first_name="Changed", gone_at__isnull=True).exists()


def test_a_listing_that_repeats_a_user_records_the_count_difference(connection_ispring, tenant, monkeypatch):
    from django.db import connection

    from integrations.providers.ispring.client import ISpringClient

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses a merge that names one user twice: the run fails instead")

    listing = ISpringClient.users

    def repeating(self, **kwargs):
        users = list(listing(self, **kwargs))
        return iter([*users, users[0]])

    monkeypatch.setattr(ISpringClient, "users", repeating)
    total = remote.IspringUser.objects.filter(tenant=tenant).count()

    out = _sync_users(connection_ispring)

    run = SyncRun.objects.get()
    assert run.state == SyncState.COMPLETED
    assert run.reconciliation == {
        "users": {"session": "iSpring users", "differences": {"users": {"local": total, "lms": total + 1}}}
    }
    assert f"iSpring users: users {total} here vs {total + 1} in the LMS" in out
