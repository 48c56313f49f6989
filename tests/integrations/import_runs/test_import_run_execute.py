from __future__ import annotations

import pytest

from integrations.models import ChunkState, ImportRun, ImportState, RecordStatus
from integrations.providers.learning360.connect import learning360_client
from integrations.services import import_runs
from integrations.services.import_execution import import_run_execute
from sandbox.constants import MSG_USER_NOT_FOUND
from tests.integrations.import_runs.conftest import csv_upload, stats_rows

pytestmark = pytest.mark.django_db(transaction=True)


def _stats_posts(integration):
    from sandbox.selectors import request_log_list

    return list(
        request_log_list(method="POST", path_prefix=f"/api/v2/bulk/integrations/{integration.remote_id}/stats").filter(
            status=202
        )
    )


def _prepare_and_launch(alice, integration, upload) -> ImportRun:
    run = import_runs.import_run_prepare(actor=alice, integration=integration, kind="stats", uploaded=upload)
    return import_runs.import_run_launch(actor=alice, run=run, enqueue=False)


def test_a_stats_file_goes_in_chunks_of_the_limit_and_the_attempts_appear_in_course_stats(
    alice, integration, learners, small_chunks
):
    with learning360_client(integration.connection) as client:
        before = sum(1 for _ in client.course_stats())

    run = _prepare_and_launch(alice, integration, csv_upload(stats_rows(learners, 25)))
    assert [c.record_count for c in run.chunks.order_by("index")] == [10, 10, 5]

    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == ImportState.COMPLETED
    assert (run.succeeded_records, run.failed_records) == (25, 0)
    assert set(run.chunks.values_list("state", flat=True)) == {ChunkState.COMPLETED}
    assert run.records.filter(status=RecordStatus.SUCCESS).exclude(resource_id="").count() == 25

    posts = _stats_posts(integration)
    assert len(posts) == 3 and len({p.body_sha256 for p in posts}) == 3
    with learning360_client(integration.connection) as client:
        assert sum(1 for _ in client.course_stats()) == before + 25


def test_unknown_users_get_the_remote_error_per_record(alice, integration, learners):
    rows = stats_rows(learners, 6)
    rows[2][1] = "nobody@nowhere.example"
    run = _prepare_and_launch(alice, integration, csv_upload(rows))
    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.succeeded_records, run.failed_records) == (5, 1)
    failed = run.records.get(status=RecordStatus.ERROR)
    assert failed.source_line == 4
    assert failed.message == MSG_USER_NOT_FOUND.format(type="mail", value="nobody@nowhere.example")
