"""Faults in the middle of a sync: the run fails with the reason, the cache keeps exactly the last
completed sync (never half a run, never half a session), the cursor does not move, and the next
run completes. Faults come from the sandbox's knobs, per client id and path, over real HTTP.

Placing a fault on the *second* page of a listing: the sandbox spends its oldest matching rule
first, so a ``slow`` rule with no delay (spent by page one) goes before the real fault.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from integrations.models import SyncRun, SyncState
from integrations.sync import messages, services
from lms_cache.models import (
    CourseAttempt,
    CourseAttemptStage,
    PathSession,
    PathSessionUserStat,
    PathSessionUserStatStage,
)
from sandbox import constants as c, faults, models as remote, selectors as sandbox_log

pytestmark = pytest.mark.django_db(transaction=True)

STATS = "/api/v2/courses/stats"


def _after_first_page(path: str, kind: str, *, count: int = 1, **fault) -> None:
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SLOW, delay_seconds=0.0, path_prefix=path)
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=kind, count=count, path_prefix=path, **fault)


def _cache(model) -> dict:
    return {row["remote_id"]: row for row in model.objects.values()}


def _new_attempts(tenant, count: int) -> None:
    """The LMS gets attempts completed just now (two pages' worth with the seeded ones)."""
    template = remote.CourseAttempt.objects.filter(tenant=tenant).first()
    now = timezone.now()
    remote.CourseAttempt.objects.bulk_create(
        remote.CourseAttempt(
            tenant=tenant,
            oid=tenant.object_id(remote.KIND_ATTEMPT),
            course_id=template.course_id,
            user_id=template.user_id,
            first_activity_at=now - timedelta(hours=2),
            last_activity_at=now,
            completed_at=now,
            time_spent_ms=1000,
            progress=100,
        )
        for _ in range(count)
    )


def test_a_503_in_the_middle_of_a_listing_fails_the_run_and_leaves_the_cache_as_it_was(sync, connection_360, tenant):
    first = sync(connection_360, "course-stats")
    before = _cache(CourseAttempt)
    _new_attempts(tenant, 3)
    remote.CourseAttempt.objects.filter(tenant=tenant).update(score=7)  # every attempt changes remotely
    # Page 2 answers 503 on every one of the client's four tries (Retry-After 0: no waiting).
    _after_first_page(STATS, c.FAULT_SERVER_ERROR, count=4, status=503, retry_after=0)

    failed = sync(connection_360, "course-stats", full_refresh=True)

    assert failed.state == SyncState.FAILED
    assert failed.error.startswith("The sync stopped: 360Learning GET /sandbox/360/api/v2/courses/stats: HTTP 503")
    assert failed.error.endswith("The cache keeps the data of the last completed sync.")
    assert failed.pages == 1
    assert _cache(CourseAttempt) == before  # page one's 500 changed rows never reached the cache
    assert not CourseAttemptStage.objects.exists()
    assert services.sync_cursor_last(connection_id=connection_360.pk, kind="course-stats") == first.next_cursor

    again = sync(connection_360, "course-stats", full_refresh=True)
    assert again.state == SyncState.COMPLETED
    assert (again.rows_inserted, again.rows_updated) == (3, len(before))
    assert CourseAttempt.objects.count() == remote.CourseAttempt.objects.filter(tenant=tenant).count()
    assert set(CourseAttempt.objects.values_list("score", flat=True)) == {7}


def test_a_503_on_one_session_keeps_every_session_as_the_last_sync_left_it(sync, connection_360, tenant):
    sync(connection_360, "sessions")
    before = _cache(PathSessionUserStat)
    sessions_before = {s.remote_id: (s.enrolled_count, s.stats_synced_at) for s in PathSession.objects.all()}
    remote.PathSessionUserStat.objects.update(progress=42)  # every learner progressed remotely
    third = remote.PathSession.objects.filter(tenant=tenant).order_by("start_date", "oid")[2]
    path = f"/api/v2/paths/{third.path.oid}/sessions/{third.oid}/user-stats"
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SERVER_ERROR, count=4, status=503, retry_after=0, path_prefix=path
    )

    failed = sync(connection_360, "sessions", full_refresh=True)

    assert failed.state == SyncState.FAILED and "HTTP 503" in failed.error
    # Sessions one and two were fetched whole, yet none of them reached the cache: a run is
    # merged as a whole, so no report sees a mix of two syncs.
    assert _cache(PathSessionUserStat) == before
    assert {s.remote_id: (s.enrolled_count, s.stats_synced_at) for s in PathSession.objects.all()} == sessions_before
    assert not PathSessionUserStatStage.objects.exists()

    again = sync(connection_360, "sessions", full_refresh=True)
    assert again.state == SyncState.COMPLETED
    assert set(PathSessionUserStat.objects.values_list("progress", flat=True)) == {42}


def test_an_expired_token_mid_listing_is_renewed_and_the_run_completes(sync, connection_360, tenant):
    _after_first_page(STATS, c.FAULT_EXPIRED_TOKEN)

    run = sync(connection_360, "course-stats")

    assert run.state == SyncState.COMPLETED
    assert CourseAttempt.objects.count() == remote.CourseAttempt.objects.filter(tenant=tenant).count()
    statuses = list(sandbox_log.request_log_list(path_prefix=STATS).values_list("status", flat=True))
    assert statuses == [200, 401, 200]
    assert sandbox_log.request_log_list(path_prefix="/api/v2/oauth2/token").count() == 2


def test_a_token_that_cannot_be_renewed_mid_listing_fails_the_run_and_the_next_run_completes(
    sync, connection_360, tenant
):
    token = "/api/v2/oauth2/token"
    # Rules are spent oldest first: the first token call passes, page 1 passes, page 2 finds its
    # token expired, and every try to get a new one answers 503.
    faults.fault_add(client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SLOW, delay_seconds=0.0, path_prefix=token)
    _after_first_page(STATS, c.FAULT_EXPIRED_TOKEN)
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SERVER_ERROR, count=4, status=503, retry_after=0, path_prefix=token
    )

    failed = sync(connection_360, "course-stats")

    assert failed.state == SyncState.FAILED
    assert "/api/v2/oauth2/token: HTTP 503" in failed.error
    assert not CourseAttempt.objects.exists() and not CourseAttemptStage.objects.exists()
    assert services.sync_cursor_last(connection_id=connection_360.pk, kind="course-stats") == {}

    assert sync(connection_360, "course-stats").state == SyncState.COMPLETED
    assert CourseAttempt.objects.count() == remote.CourseAttempt.objects.filter(tenant=tenant).count()


def test_a_malformed_page_fails_the_run_without_writing(sync, connection_360):
    _after_first_page(STATS, c.FAULT_MALFORMED_BODY)
    failed = sync(connection_360, "course-stats")
    assert failed.state == SyncState.FAILED and "malformed JSON" in failed.error
    assert not CourseAttempt.objects.exists()


def test_the_recovery_fails_a_run_whose_worker_is_gone_and_sweeps_what_it_staged(connection_360):
    run, _ = services.sync_run_create(connection=connection_360, kind="course-stats")
    lapsed = timezone.now() - timedelta(seconds=1)
    SyncRun.objects.filter(pk=run.pk).update(state=SyncState.RUNNING, lease_owner="dead", lease_expires_at=lapsed)
    CourseAttemptStage.objects.create(
        run_id=run.pk, remote_id="a" * 24, course_remote_id="b" * 24, user_remote_id="c" * 24
    )
    alive, _ = services.sync_run_create(connection=connection_360, kind="users")
    SyncRun.objects.filter(pk=alive.pk).update(
        state=SyncState.RUNNING,
        lease_owner="alive",
        lease_expires_at=timezone.now() + timedelta(seconds=settings.SYNC_LEASE_SECONDS),
    )

    recovery = services.sync_runs_recover()

    run.refresh_from_db()
    assert (run.state, run.error, run.lease_owner) == (SyncState.FAILED, messages.WORKER_LOST, "")
    assert recovery.failed == [run.pk] and recovery.stage_rows_swept == 1
    assert SyncRun.objects.get(pk=alive.pk).state == SyncState.RUNNING
    # A task delivered again for the failed run finds nothing to do.
    assert services.sync_run_execute(run_id=run.pk).state == SyncState.FAILED


def test_a_queued_run_nobody_claimed_is_enqueued_again_once(connection_360):
    from django.core.cache import cache

    run, _ = services.sync_run_create(connection=connection_360, kind="users")
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - services.QUEUED_STALE - timedelta(minutes=1))
    cache.delete(f"sync-run-requeued:{run.pk}")

    assert services.sync_runs_recover().to_enqueue == [run.pk]
    assert services.sync_runs_recover().to_enqueue == []


def test_a_run_that_lost_its_lease_never_writes(sync, connection_360, monkeypatch):
    """The recovery gave up on a slow worker; when that worker reaches its merge, it stops."""
    from integrations.sync import context

    real_commit = context.SyncContext.commit

    def commit_after_recovery(self, apply):
        SyncRun.objects.filter(pk=self.run_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        services.sync_runs_recover()
        return real_commit(self, apply)

    monkeypatch.setattr(context.SyncContext, "commit", commit_after_recovery)
    run = sync(connection_360, "paths")

    assert (run.state, run.error) == (SyncState.FAILED, messages.WORKER_LOST)
    assert not PathSession.objects.exists()
    from lms_cache.models import Path

    assert not Path.objects.exists()
