"""After a sessions sync: a snapshot of each refreshed session's counts (for trends), and the
reconciliation of the locally computed counts per detailed status with the LMS's own
``user-statuses`` counts, flagged on the run when they differ."""

from __future__ import annotations

import pytest

from integrations.models import SyncState
from lms_cache.models import DETAILED_STATUSES, PathSession, PathSessionSnapshot, PathSessionStatusCounts
from sandbox import models as remote
from sandbox.views import learning360 as sandbox_v2
from tests.support.html import assertInHTML

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_cache_agrees_with_the_lms_counts_of_every_session(sync, connection_360):
    run = sync(connection_360, "sessions")

    assert run.state == SyncState.COMPLETED and run.reconciliation == {}
    assert "6 session(s) refreshed, 0 with counts that differ" in run.progress_note
    for session in PathSession.objects.all():
        counts, certificates = sandbox_v2.status_counts(remote.PathSession.objects.get(oid=session.remote_id))
        assert session.lms_counts.by_status() == counts
        assert session.lms_counts.certificates == certificates
        snapshot = session.snapshots.get()
        assert snapshot.differences == {} and snapshot.sync_run_id == run.pk
        assert snapshot.counts_by_type() == {status: n for status, n in counts.items() if n}
        assert snapshot.enrolled == session.enrolled_count == sum(counts.values())


def test_counts_keep_the_reason_of_each_status(sync, connection_360):
    sync(connection_360, "sessions")
    by_reason = {}
    for snapshot in PathSessionSnapshot.objects.all():
        for status, reasons in snapshot.counts.items():
            for reason, count in reasons.items():
                by_reason[(status, reason)] = by_reason.get((status, reason), 0) + count
    expected = {}
    for status, reason in remote.PathSessionUserStat.objects.values_list("status_type", "status_reason"):
        expected[(status, reason)] = expected.get((status, reason), 0) + 1
    assert by_reason == expected
    assert ("unsuccessful", "sessionEnded") in by_reason


def test_a_session_whose_lms_counts_differ_is_flagged_on_the_run_and_its_snapshot(
    sync, connection_360, tenant, monkeypatch, admin_client
):
    odd = remote.PathSession.objects.filter(tenant=tenant).order_by("pk").first()
    real_counts = sandbox_v2.status_counts

    def one_more_late_learner(session):
        counts, certificates = real_counts(session)
        if session.pk == odd.pk:
            counts = {**counts, "late": counts["late"] + 1}
        return counts, certificates

    # The live server runs in this process: the LMS now reports one late learner too many.
    monkeypatch.setattr(sandbox_v2, "status_counts", one_more_late_learner)

    run = sync(connection_360, "sessions")

    late = remote.PathSessionUserStat.objects.filter(session=odd, status_type="late").count()
    assert run.state == SyncState.COMPLETED and run.has_differences
    assert run.reconciliation == {
        odd.oid: {"session": odd.name, "differences": {"late": {"local": late, "lms": late + 1}}}
    }
    snapshot = PathSessionSnapshot.objects.get(session__remote_id=odd.oid)
    assert snapshot.differences == {"late": {"local": late, "lms": late + 1}}
    assert PathSessionSnapshot.objects.exclude(differences={}).count() == 1

    page = admin_client.get(f"/syncs/{run.pk}/").content.decode()
    assert "Sessions whose local counts differ" in page and odd.name in page and "+1" not in page
    assertInHTML(f'<td class="num">{late}</td><td class="num">{late + 1}</td><td class="num">-1</td>', page)


def test_each_sync_adds_a_snapshot_for_the_trend(sync, connection_360, tenant):
    sync(connection_360, "sessions")
    changed = remote.PathSessionUserStat.objects.filter(status_type="notYetStarted").first()
    changed.status_type = "onTime"
    changed.save()
    sync(connection_360, "sessions", full_refresh=True)

    session = PathSession.objects.get(remote_id=changed.session.oid)
    first, second = session.snapshots.order_by("taken_at")
    assert second.counts_by_type()["onTime"] == first.counts_by_type().get("onTime", 0) + 1
    assert second.counts_by_type().get("notYetStarted", 0) == first.counts_by_type()["notYetStarted"] - 1
    assert PathSessionStatusCounts.objects.count() == PathSession.objects.count()
    assert set(PathSessionStatusCounts.FIELD_BY_STATUS) == set(DETAILED_STATUSES)
