"""Remote faults never lose a record and never send a chunk twice (the sandbox's request log
is the witness: one accepted POST per chunk)."""

from __future__ import annotations

import pytest

from integrations.models import ChunkState, ImportState
from integrations.services import import_runs
from integrations.services.import_execution import WAITING_FOR_SLOT, import_run_execute
from sandbox import faults, tenants
from tests.integrations.import_runs.conftest import csv_upload, stats_rows

pytestmark = pytest.mark.django_db(transaction=True)


def _launch(alice, integration, rows):
    run = import_runs.import_run_prepare(actor=alice, integration=integration, kind="stats", uploaded=csv_upload(rows))
    return import_runs.import_run_launch(actor=alice, run=run, enqueue=False)


def _bulk_posts(integration, status=None):
    from sandbox.selectors import request_log_list

    posts = request_log_list(method="POST", path_prefix=f"/api/v2/bulk/integrations/{integration.remote_id}/stats")
    return list(posts if status is None else posts.filter(status=status))


def _assert_each_chunk_sent_once(run, integration):
    accepted = _bulk_posts(integration, status=202)
    assert len(accepted) == run.chunks.count()
    assert len({p.body_sha256 for p in accepted}) == len(accepted)
    assert sorted(run.chunks.values_list("operation_id", flat=True)) == sorted(p.bulk_operation_oid for p in accepted)


def test_a_concurrency_429_makes_chunks_wait_for_a_slot_not_fail(alice, integration, learners, small_chunks):
    tenants.tenant_update(client_id="sandbox-client", bulk_concurrency_limit=1, bulk_min_state_seconds=0.2)
    run = _launch(alice, integration, stats_rows(learners, 30))
    seen_waiting = []

    def sleep(seconds):
        seen_waiting.extend(run.chunks.filter(last_error=WAITING_FOR_SLOT).values_list("index", flat=True))
        import time

        time.sleep(seconds)

    assert import_run_execute(run_id=run.pk, sleep=sleep)
    run.refresh_from_db()
    assert (run.state, run.succeeded_records, run.failed_records) == (ImportState.COMPLETED, 30, 0)
    assert seen_waiting, "a chunk should have waited for a slot"
    assert _bulk_posts(integration, status=429)
    _assert_each_chunk_sent_once(run, integration)


def test_a_503_for_a_while_pauses_the_run_which_then_completes(alice, integration, learners, small_chunks):
    faults.fault_add(
        client_id="sandbox-client", kind="server_error", status=503, count=4, method="POST", path_prefix="/api/v2/bulk/"
    )
    run = _launch(alice, integration, stats_rows(learners, 20))
    states = []

    def sleep(seconds):
        run.refresh_from_db()
        states.append(run.state)

    assert import_run_execute(run_id=run.pk, sleep=lambda s: (sleep(s), __import__("time").sleep(min(s, 0.3))))
    run.refresh_from_db()
    assert ImportState.PAUSED in states
    assert (run.state, run.succeeded_records) == (ImportState.COMPLETED, 20)
    assert len(_bulk_posts(integration, status=503)) == 4
    _assert_each_chunk_sent_once(run, integration)


def test_a_lost_answer_is_reconciled_not_resent(alice, integration, learners, settings):
    """The POST reaches the LMS, but the answer comes after the client gave up."""
    settings.LMS_HTTP_TIMEOUT = (2, 1)
    faults.fault_add(
        client_id="sandbox-client", kind="slow", delay_seconds=2, count=1, method="POST", path_prefix="/api/v2/bulk/"
    )
    run = _launch(alice, integration, stats_rows(learners, 12))
    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.succeeded_records) == (ImportState.COMPLETED, 12)
    assert len(_bulk_posts(integration)) == 1  # the lost one, adopted: never sent again
    _assert_each_chunk_sent_once(run, integration)


def test_an_answer_lost_before_the_lms_created_anything_is_sent_again_after_the_grace(
    alice, integration, learners, settings
):
    # A 502 from a gateway on a POST: the request may or may not have reached the LMS.
    faults.fault_add(
        client_id="sandbox-client", kind="server_error", status=502, count=1, method="POST", path_prefix="/api/v2/bulk/"
    )
    settings.IMPORT_RECONCILE_GRACE_SECONDS = 1
    run = _launch(alice, integration, stats_rows(learners, 12))
    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.succeeded_records) == (ImportState.COMPLETED, 12)
    assert [p.status for p in _bulk_posts(integration)] == [502, 202]
    _assert_each_chunk_sent_once(run, integration)


def test_a_token_that_expires_mid_run_is_renewed_transparently(alice, integration, learners, small_chunks):
    tenants.tenant_update(client_id="sandbox-client", bulk_min_state_seconds=0.1)
    faults.fault_add(client_id="sandbox-client", kind="expired_token", count=1, path_prefix="/api/v2/bulk/operations/")
    run = _launch(alice, integration, stats_rows(learners, 25))
    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.succeeded_records, run.failed_records) == (ImportState.COMPLETED, 25, 0)
    _assert_each_chunk_sent_once(run, integration)


def test_cancelling_stops_the_unsent_chunks(alice, integration, learners, small_chunks):
    tenants.tenant_update(client_id="sandbox-client", bulk_concurrency_limit=1, bulk_min_state_seconds=0.2)
    run = _launch(alice, integration, stats_rows(learners, 40))
    cancelled = []

    def sleep(seconds):
        if not cancelled and run.chunks.exclude(operation_id="").exists():
            cancelled.append(import_runs.import_run_cancel(run=run))
        __import__("time").sleep(min(seconds, 0.2))

    assert import_run_execute(run_id=run.pk, sleep=sleep)
    run.refresh_from_db()
    assert run.state == ImportState.CANCELLED and run.ended_at
    sent = run.chunks.exclude(operation_id="")
    assert "already sent and cannot be recalled" in cancelled[0]
    assert run.chunks.filter(state=ChunkState.CANCELLED).count() == 4 - sent.count()
    assert len(_bulk_posts(integration, status=202)) == sent.count()
    assert run.succeeded_records == 10 * sent.count()
