"""A real worker (``manage.py qcluster``) killed in the middle of a sync: the cache keeps the
last completed sync, the recovery marks the run failed and sweeps its stage, and the next run
completes."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncRun, SyncState
from integrations.sync import messages, services
from lms_cache.models import PathSessionUserStat, PathSessionUserStatStage
from sandbox import constants as c, faults, models as remote
from tests.support.processes import start_manage, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(transactional_db):
    process = start_manage("qcluster")
    yield process
    stop(process)


def test_a_worker_killed_mid_sync_leaves_the_cache_intact_and_the_next_run_completes(
    sync, connection_360, tenant, worker
):
    sync(connection_360, "sessions")
    before = {row["remote_id"]: row for row in PathSessionUserStat.objects.values()}
    remote.PathSessionUserStat.objects.update(progress=42)
    # Each session's learners now take a while to come: the worker is caught mid-run.
    faults.fault_add(
        client_id=c.DEFAULT_CLIENT_ID, kind=c.FAULT_SLOW, count=6, delay_seconds=1.5, path_prefix="/api/v2/paths/"
    )

    run = services.sync_run_launch(connection=connection_360, kinds=["sessions"], full_refresh=True)[0]
    assert wait_until(lambda: PathSessionUserStatStage.objects.filter(run_id=run.pk).exists(), timeout=120), (
        "the worker never started staging"
    )
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    run.refresh_from_db()
    assert run.state == SyncState.RUNNING and run.lease_expires_at > timezone.now()
    assert {row["remote_id"]: row for row in PathSessionUserStat.objects.values()} == before

    # The lease lapses (no heartbeat from a dead worker); the periodic recovery notices.
    SyncRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    recovery = services.sync_runs_recover()
    run.refresh_from_db()
    assert recovery.failed == [run.pk] and (run.state, run.error) == (SyncState.FAILED, messages.WORKER_LOST)
    assert not PathSessionUserStatStage.objects.exists()

    faults.fault_clear(client_id=c.DEFAULT_CLIENT_ID)
    again = sync(connection_360, "sessions", full_refresh=True)
    assert again.state == SyncState.COMPLETED
    assert set(PathSessionUserStat.objects.values_list("progress", flat=True)) == {42}
