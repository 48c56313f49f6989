"""Each sync kind against the sandbox over real HTTP: the cache holds what the LMS has, a re-sync
of an unchanged tenant writes nothing, incremental runs fetch only the change, and rows the LMS
no longer returns are marked gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncState
from integrations.sync import messages, services
from lms_cache.models import (
    Course,
    CourseAttempt,
    LmsGroup,
    LmsUser,
    ModuleResult,
    Path,
    PathSession,
    PathSessionStatusCounts,
    PathSessionUserStat,
)
from sandbox import constants as c, models as remote, selectors as sandbox_log

pytestmark = pytest.mark.django_db(transaction=True)

KINDS_360 = ("users", "courses", "paths", "sessions", "course-stats")


def _sync_all_360(sync, connection):
    runs = {kind: sync(connection, kind) for kind in KINDS_360}
    assert {kind: (run.state, run.error) for kind, run in runs.items()} == dict.fromkeys(
        KINDS_360, (SyncState.COMPLETED, "")
    )
    return runs


def test_every_360_kind_caches_what_the_sandbox_has(sync, connection_360, tenant):
    runs = _sync_all_360(sync, connection_360)

    assert LmsGroup.objects.current().count() == remote.Group.objects.filter(tenant=tenant).count()
    assert LmsUser.objects.current().count() == remote.User.objects.filter(tenant=tenant).count()
    # Archived courses are cached too: their attempts still name them.
    assert Course.objects.current().count() == remote.Course.objects.filter(tenant=tenant).count()
    assert Path.objects.current().count() == remote.Path.objects.filter(tenant=tenant).count()
    assert PathSession.objects.current().count() == remote.PathSession.objects.filter(tenant=tenant).count()
    assert PathSessionUserStat.objects.current().count() == remote.PathSessionUserStat.objects.count()
    assert CourseAttempt.objects.current().count() == remote.CourseAttempt.objects.filter(tenant=tenant).count()
    for session in PathSession.objects.all():
        assert (
            session.enrolled_count == remote.PathSessionUserStat.objects.filter(session__oid=session.remote_id).count()
        )
        assert session.stats_run_id == runs["sessions"].pk

    # The rows written are what the run says it wrote, and every foreign key found its row.
    assert runs["course-stats"].rows_inserted == CourseAttempt.objects.count()
    assert runs["course-stats"].pages == 2  # 600 attempts, 500 a page
    assert not CourseAttempt.objects.filter(course__isnull=True).exists()
    assert not CourseAttempt.objects.filter(user__isnull=True).exists()
    assert not PathSessionUserStat.objects.filter(user__isnull=True).exists()
    assert not PathSession.objects.filter(path__isnull=True).exists()
    assert not LmsUser.objects.filter(group__isnull=True).exists()
    assert runs["sessions"].source_api == "360Learning v2 + v1"


def test_attempts_are_cached_as_the_lms_reports_them(sync, connection_360, tenant):
    sync(connection_360, "course-stats")
    attempt = remote.CourseAttempt.objects.filter(tenant=tenant, completed_at__isnull=False).first()
    cached = CourseAttempt.objects.get(remote_id=attempt.oid)
    assert (cached.course_remote_id, cached.user_remote_id, cached.progress, cached.score) == (
        attempt.course.oid,
        attempt.user.oid,
        attempt.progress,
        attempt.score,
    )
    assert cached.time_spent_ms == attempt.time_spent_ms
    assert cached.completed_at.replace(microsecond=0) == attempt.completed_at.replace(microsecond=0)


def test_learners_carry_api_v1_names_custom_fields_certificates_and_status(sync, connection_360):
    sync(connection_360, "sessions")
    learners = PathSessionUserStat.objects.all()
    assert learners.exists() and not learners.filter(has_v1=False).exists()
    learner = learners.exclude(custom_fields={}).first()
    user = remote.User.objects.get(oid=learner.user_remote_id)
    assert (learner.first_name, learner.last_name, learner.mail) == (user.first_name, user.last_name, user.mail)
    assert set(learner.custom_fields) == {"Department", "Country", "Employee ID", "Contract type"}
    assert learner.v1_status in {"onTime", "late", "completed", "awaitingCorrection"}
    certified = remote.PathSessionUserStat.objects.exclude(certificate_oid="").values_list("oid", flat=True)
    assert set(learners.filter(has_certificate=True).values_list("remote_id", flat=True)) == set(certified)


def test_without_v1_credentials_v2_and_the_users_cache_fill_the_learner_rows(sync, connection_360_without_v1):
    sync(connection_360_without_v1, "users")
    run = sync(connection_360_without_v1, "sessions")
    assert run.source_api == "360Learning v2"
    learners = PathSessionUserStat.objects.filter(connection=connection_360_without_v1)
    assert learners.exists() and not learners.filter(has_v1=True).exists()
    for learner in learners.select_related("user"):
        assert (learner.first_name, learner.last_name, learner.mail, learner.group_remote_id) == (
            learner.user.first_name,
            learner.user.last_name,
            learner.user.mail,
            learner.user.group_remote_id,
        )
        assert learner.has_certificate == bool(learner.certificate_id)
    assert PathSessionStatusCounts.objects.filter(connection=connection_360_without_v1, v1_user_status={}).count() == (
        PathSession.objects.filter(connection=connection_360_without_v1).count()
    )


def test_a_second_sync_of_an_unchanged_tenant_writes_nothing(sync, connection_360):
    _sync_all_360(sync, connection_360)
    before = dict(CourseAttempt.objects.values_list("remote_id", "synced_at"))
    again = {kind: sync(connection_360, kind, full_refresh=True) for kind in KINDS_360}
    assert {kind: (r.rows_inserted, r.rows_updated, r.rows_removed) for kind, r in again.items()} == dict.fromkeys(
        KINDS_360, (0, 0, 0)
    )
    assert dict(CourseAttempt.objects.values_list("remote_id", "synced_at")) == before


def test_an_incremental_course_stats_sync_fetches_only_attempts_completed_since_the_last_one(
    sync, connection_360, tenant
):
    first = sync(connection_360, "course-stats")
    assert first.full_refresh and first.next_cursor["completed_at_gte"]
    attempt = remote.CourseAttempt.objects.filter(tenant=tenant).first()
    new = remote.CourseAttempt.objects.create(
        tenant=tenant,
        oid=tenant.object_id(remote.KIND_ATTEMPT),
        course=attempt.course,
        user=attempt.user,
        lang="en",
        first_activity_at=timezone.now() - timedelta(hours=1),
        last_activity_at=timezone.now(),
        completed_at=timezone.now(),
        time_spent_ms=60_000,
        progress=100,
        score=90,
    )
    sandbox_log.request_log_list().delete()

    second = sync(connection_360, "course-stats")

    assert not second.full_refresh and second.cursor == first.next_cursor
    assert (second.rows_inserted, second.rows_updated, second.rows_removed, second.pages) == (1, 0, 0, 1)
    listing = sandbox_log.request_log_list(path_prefix="/api/v2/courses/stats")
    assert listing.count() == 1 and "completedAt%5Bgte%5D=" in listing.get().query
    assert CourseAttempt.objects.get(remote_id=new.oid).score == 90
    # An incremental listing is not complete: nothing is marked gone.
    assert not CourseAttempt.objects.filter(gone_at__isnull=False).exists()


def test_an_incremental_module_results_sync_fetches_only_what_was_completed_or_assigned_since(
    sync, connection_ispring, tenant
):
    first = sync(connection_ispring, "module-results")
    assert first.rows_inserted == remote.IspringModuleResult.objects.filter(tenant=tenant).count()
    assert ModuleResult.objects.filter(user_status=c.ISPRING_USER_BLOCKED).count() == (
        remote.IspringModuleResult.objects.filter(tenant=tenant, user_status=c.ISPRING_USER_BLOCKED).count()
    )
    changed = remote.IspringModuleResult.objects.filter(tenant=tenant, completion_status="in_progress").first()
    changed.completion_status, changed.completion_date, changed.progress = "complete", timezone.now(), 100.0
    changed.save()

    second = sync(connection_ispring, "module-results")

    assert not second.full_refresh
    assert (second.rows_inserted, second.rows_updated, second.rows_removed) == (0, 1, 0)
    cached = ModuleResult.objects.get(user_id=changed.user_uuid, module_id=changed.module_uuid)
    assert cached.completion_status == "complete"
    assert second.pages == 4  # completion and access windows, for active and blocked learners


def test_rows_the_lms_no_longer_returns_are_marked_gone_after_a_full_listing(sync, connection_360, tenant):
    _sync_all_360(sync, connection_360)
    user = remote.User.objects.filter(tenant=tenant).last()
    remote.CourseAttempt.objects.filter(user=user).delete()
    remote.PathSessionUserStat.objects.filter(user=user).delete()
    user.delete()
    course = remote.Course.objects.filter(tenant=tenant).last()
    remote.CourseAttempt.objects.filter(course=course).delete()
    course.delete()

    for kind in ("users", "courses", "course-stats"):
        assert sync(connection_360, kind, full_refresh=True).rows_removed > 0

    assert LmsUser.objects.get(remote_id=user.oid).gone_at is not None
    assert not LmsUser.objects.current().filter(remote_id=user.oid).exists()
    assert Course.objects.get(remote_id=course.oid).gone_at is not None
    assert not CourseAttempt.objects.current().filter(user_remote_id=user.oid).exists()
    assert LmsUser.objects.current().count() == remote.User.objects.filter(tenant=tenant).count()


def test_a_learner_who_left_a_session_is_marked_gone_and_leaves_its_counts(sync, connection_360):
    sync(connection_360, "sessions")
    left = remote.PathSessionUserStat.objects.order_by("pk").first()
    session = PathSession.objects.get(remote_id=left.session.oid)
    left.delete()

    run = sync(connection_360, "sessions", full_refresh=True)

    assert run.rows_removed == 1
    assert PathSessionUserStat.objects.get(remote_id=left.oid).gone_at is not None
    session.refresh_from_db()
    assert session.enrolled_count == remote.PathSessionUserStat.objects.filter(session__oid=session.remote_id).count()
    assert run.reconciliation == {}


def test_an_incremental_sessions_sync_refreshes_only_sessions_that_can_still_change(sync, connection_360, tenant):
    sync(connection_360, "sessions")
    ongoing = remote.PathSession.objects.filter(tenant=tenant).order_by("pk").first()
    ongoing.end_date = None
    ongoing.save()
    sandbox_log.request_log_list().delete()

    run = sync(connection_360, "sessions")

    assert not run.full_refresh
    listed = sandbox_log.request_log_list(path_prefix="/api/v2/paths/").filter(path__endswith="/user-stats")
    assert [entry.path.split("/")[-2] for entry in listed] == [ongoing.oid]
    assert "1 session(s) refreshed" in run.progress_note


def test_a_kind_the_provider_does_not_have_is_refused(connection_ispring):
    with pytest.raises(services.SyncNotAllowed) as refused:
        services.sync_run_create(connection=connection_ispring, kind="courses")
    assert str(refused.value) == messages.KIND_NOT_FOR_PROVIDER.format(provider="iSpring Learn", kind="courses")


def test_two_launches_of_one_kind_share_one_run(connection_360):
    first, created = services.sync_run_create(connection=connection_360, kind="users")
    second, created_again = services.sync_run_create(connection=connection_360, kind="users")
    assert (created, created_again, second.pk) == (True, False, first.pk)


def test_a_learners_last_activity_is_their_latest_attempt_in_the_session(sync, connection_360, tenant):
    from django.db.models import Max

    sync(connection_360, "course-stats")
    sync(connection_360, "sessions")  # learners new to the cache take it from the cached attempts
    latest = {
        (row["path_session__oid"], row["user__oid"]): row["latest"]
        for row in remote.CourseAttempt.objects.filter(tenant=tenant, path_session__isnull=False)
        .values("path_session__oid", "user__oid")
        .annotate(latest=Max("last_activity_at"))
    }
    learners = PathSessionUserStat.objects.all()
    assert learners.filter(last_activity_at__isnull=False).exists()
    for learner in learners:
        expected = latest.get((learner.session_remote_id, learner.user_remote_id))
        if expected is not None:  # the API writes milliseconds
            expected = expected.replace(microsecond=expected.microsecond // 1000 * 1000)
        assert learner.last_activity_at == expected

    # A new attempt in the session raises it on the next (incremental) course-stats sync.
    learner = learners.first()
    session = remote.PathSession.objects.get(oid=learner.session_remote_id)
    user = remote.User.objects.get(oid=learner.user_remote_id)
    now = timezone.now().replace(microsecond=0)
    remote.CourseAttempt.objects.create(
        tenant=tenant,
        oid=tenant.object_id(remote.KIND_ATTEMPT),
        course=remote.CourseAttempt.objects.filter(tenant=tenant).first().course,
        user=user,
        path=session.path,
        path_session=session,
        first_activity_at=now - timedelta(minutes=5),
        last_activity_at=now,
        completed_at=now,
        time_spent_ms=1000,
        progress=100,
    )
    sync(connection_360, "course-stats")
    learner.refresh_from_db()
    assert learner.last_activity_at == now


def test_users_get_their_custom_fields_from_api_v1_session_stats(sync, connection_360, connection_360_without_v1):
    sync(connection_360, "users")
    sync(connection_360, "sessions")
    enrolled = set(
        PathSessionUserStat.objects.filter(connection=connection_360).values_list("user_remote_id", flat=True)
    )
    users = LmsUser.objects.filter(connection=connection_360)
    for user in users.filter(remote_id__in=enrolled):
        remote_user = remote.User.objects.get(oid=user.remote_id)
        names = dict(remote.CustomField.objects.values_list("oid", "name"))
        assert user.custom_fields == {names[oid]: value for oid, value in remote_user.custom_fields.items()}
    assert not users.exclude(remote_id__in=enrolled).exclude(custom_fields=None).exists()

    sync(connection_360_without_v1, "users")
    sync(connection_360_without_v1, "sessions")
    assert not LmsUser.objects.filter(connection=connection_360_without_v1).exclude(custom_fields=None).exists()
