"""Imports waiting on slow bulk operations do not hold the workers.

A real worker (``manage.py qcluster``, two task processes: the default ``Q_WORKERS``) runs four
imports whose bulk operations stay pending in the sandbox, and a sync launched after them. The
sync completes while the four imports are still waiting; the imports complete once the
operations are let finish. (An import that slept in its task between polls held a worker each:
two of them were enough to keep the sync queued.)
"""

from __future__ import annotations

import pytest

from integrations.models import ChunkState, ImportChunk, ImportRun, ImportState, SyncRun, SyncState
from integrations.services import import_runs
from integrations.sync import services as sync_services
from tests.integrations.import_runs.conftest import csv_upload, stats_rows
from tests.support.processes import start_manage, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

IMPORTS = 4
WORKER_ENV = {
    "Q_WORKERS": "2",
    # Each import's one chunk goes out at once (the production default keeps two in flight).
    "IMPORT_MAX_IN_FLIGHT": str(IMPORTS),
    "IMPORT_POLL_MIN_SECONDS": "0.3",
    "IMPORT_POLL_MAX_SECONDS": "0.5",
}


@pytest.fixture
def worker(transactional_db):
    process = start_manage("qcluster", **WORKER_ENV)
    yield process
    # The assertions are done: no need to wait for a task to wind down.
    stop(process, timeout=3)


def _launch(alice, integration, learners, rows: int) -> ImportRun:
    # Different sizes: the same file launched twice would join the first run.
    run = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, rows))
    )
    return import_runs.import_run_launch(actor=alice, run=run)  # enqueued for the worker


def _chunks(run_ids: list[int]) -> list[dict]:
    return list(
        ImportChunk.objects.filter(run_id__in=run_ids).values("operation_id", "remote_status", "state", "run__steps")
    )


def _waiting_on_their_operations(run_ids: list[int]) -> bool:
    """Every run has sent its chunk and polled its still-pending operation since."""
    chunks = _chunks(run_ids)
    return len(chunks) == len(run_ids) and all(
        c["operation_id"] and c["remote_status"] == "pending" and c["run__steps"] >= 2 for c in chunks
    )


def _steps(run_ids: list[int]) -> dict[int, int]:
    return dict(ImportRun.objects.filter(pk__in=run_ids).values_list("pk", "steps"))


def test_four_imports_waiting_on_bulk_operations_leave_the_two_workers_to_a_sync(
    alice, integration, learners, connection_360, worker
):
    from sandbox import tenants
    from sandbox.models import BulkOperation
    from sandbox.selectors import request_log_list

    tenants.tenant_update(client_id="sandbox-client", bulk_min_state_seconds=3600, bulk_concurrency_limit=IMPORTS)
    run_ids = [_launch(alice, integration, learners, rows=10 + i).pk for i in range(IMPORTS)]
    assert wait_until(lambda: _waiting_on_their_operations(run_ids), timeout=60), "the imports never all got going"

    sync = sync_services.sync_run_launch(connection=connection_360, kinds=["users"])[0]
    assert wait_until(
        lambda: SyncRun.objects.filter(pk=sync.pk, state__in=[SyncState.COMPLETED, SyncState.FAILED]).exists(),
        timeout=60,
    ), "the sync never ran"
    assert SyncRun.objects.get(pk=sync.pk).state == SyncState.COMPLETED

    # The imports are still waiting on their operations, and still polling them.
    assert not ImportRun.objects.filter(pk__in=run_ids, ended_at__isnull=False).exists()
    assert {c["state"] for c in _chunks(run_ids)} == {ChunkState.SENT}
    assert set(BulkOperation.objects.values_list("status", flat=True)) == {"pending"}
    when_synced = _steps(run_ids)
    assert wait_until(lambda: all(n > when_synced[pk] for pk, n in _steps(run_ids).items()), timeout=30), (
        f"the imports stopped polling: {when_synced}"
    )

    tenants.tenant_update(client_id="sandbox-client", bulk_min_state_seconds=0)
    assert wait_until(
        lambda: ImportRun.objects.filter(pk__in=run_ids, ended_at__isnull=False).count() == IMPORTS, timeout=60
    ), "the imports never finished"
    runs = ImportRun.objects.filter(pk__in=run_ids).order_by("pk")
    assert [(r.state, r.succeeded_records, r.failed_records) for r in runs] == [
        (ImportState.COMPLETED, 10 + i, 0) for i in range(IMPORTS)
    ]
    accepted = request_log_list(
        method="POST", path_prefix=f"/api/v2/bulk/integrations/{integration.remote_id}/stats", status=202
    )
    assert accepted.count() == IMPORTS  # each chunk sent once
