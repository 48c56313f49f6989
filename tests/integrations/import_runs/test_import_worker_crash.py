"""A worker killed with SIGKILL while polling: a restarted worker resumes the run from the
stored chunk state, and no chunk is ever sent twice."""

from __future__ import annotations

import os
import signal

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from integrations.models import ChunkState, ImportRun, ImportState
from integrations.services import import_runs
from tests.integrations.import_runs.conftest import csv_upload, stats_rows
from tests.support.processes import start_manage, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"IMPORT_LEASE_SECONDS": "3", "IMPORT_POLL_MIN_SECONDS": "0.2", "IMPORT_POLL_MAX_SECONDS": "0.5"}


def test_a_worker_killed_while_polling_is_resumed_by_the_next_worker(alice, integration, learners, monkeypatch):
    from integrations import imports
    from sandbox import tenants
    from sandbox.selectors import request_log_list

    # Slow operations, so the kill lands while chunks are being polled.
    tenants.tenant_update(client_id="sandbox-client", bulk_min_state_seconds=1.0, bulk_batch_size=5)
    monkeypatch.setitem(imports.LIMITS, imports.Kind.STATS, 20)
    # The schedule that finds runs whose worker is gone (a data migration creates it; the
    # transactional test database was flushed).
    Schedule.objects.create(
        name="resume-import-runs",
        func="integrations.tasks.resume_import_runs",
        schedule_type="I",
        minutes=1,
        repeats=-1,
    )

    run = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 60))
    )
    run = import_runs.import_run_launch(actor=alice, run=run)  # enqueued for a worker

    first = start_manage("qcluster", **WORKER_ENV)
    try:
        polling = wait_until(
            lambda: ImportRun.objects.filter(pk=run.pk, chunks__state__in=["sent", "queued", "running"]).exists(),
            timeout=60,
        )
        assert polling, "the first worker never started polling"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    sent_before_kill = set(run.chunks.exclude(operation_id="").values_list("pk", flat=True))
    assert sent_before_kill and not ImportRun.objects.get(pk=run.pk).is_finished

    # The dead worker's lease lapses (3 s); then the resume task the schedule runs every minute
    # is queued now, as its next firing would (django-q2's scheduler first looks 30 s after start).
    assert wait_until(
        lambda: ImportRun.objects.filter(pk=run.pk, lease_expires_at__lt=timezone.now()).exists(), timeout=15
    )
    async_task("integrations.tasks.resume_import_runs")
    second = start_manage("qcluster", **WORKER_ENV)
    try:
        assert wait_until(lambda: ImportRun.objects.get(pk=run.pk).is_finished, timeout=150, interval=1)
    finally:
        output = stop(second)
    run.refresh_from_db()
    assert run.state == ImportState.COMPLETED, output[-2000:]
    assert (run.succeeded_records, run.failed_records) == (60, 0)
    assert set(run.chunks.values_list("state", flat=True)) == {ChunkState.COMPLETED}

    accepted = list(
        request_log_list(method="POST", path_prefix=f"/api/v2/bulk/integrations/{integration.remote_id}/stats")
    )
    assert len(accepted) == run.chunks.count() == 3
    assert len({p.body_sha256 for p in accepted}) == 3
