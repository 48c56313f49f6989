"""A worker takes one step of an import per task and never sleeps: the task returns as soon as
the step is done, with the next step held back in the broker until it is due.

The tasks are called here as the worker would call them, with the broker the settings
configure (the ORM broker; Redis in the CI's second run). A bulk operation of the sandbox stays
pending until the test lets it finish (``bulk_min_state_seconds``).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.signing import SignedPackage

from integrations import tasks
from integrations.models import ChunkState, ImportRun, ImportState
from integrations.services import import_runs
from integrations.services.import_execution import import_runs_due
from tests.integrations.import_runs.conftest import csv_upload, stats_rows

pytestmark = pytest.mark.django_db(transaction=True)

POLL_SECONDS = 5.0
STEP_TASK = "integrations.tasks.import_run_execute"


@pytest.fixture(autouse=True)
def lease_seconds(settings):
    """How long a run's lease outlives the step it is kept for."""
    settings.IMPORT_LEASE_SECONDS = 60


@pytest.fixture
def pending_operations():
    """Bulk operations stay ``pending`` until ``finish()`` is called."""
    from sandbox import tenants

    tenants.tenant_update(client_id="sandbox-client", bulk_min_state_seconds=3600)

    class Operations:
        @staticmethod
        def finish():
            tenants.tenant_update(client_id="sandbox-client", bulk_min_state_seconds=0)

    return Operations()


@pytest.fixture
def slow_polling(settings):
    """A poll interval long enough that "due now" and "due later" cannot be confused."""
    settings.IMPORT_POLL_MIN_SECONDS = POLL_SECONDS
    settings.IMPORT_POLL_MAX_SECONDS = POLL_SECONDS


@pytest.fixture
def main_thread_sleeps(monkeypatch) -> list[float]:
    """Every ``time.sleep`` of the test's own thread (the one running the tasks); the live
    server's threads sleep as they like."""
    sleeps: list[float] = []
    real_sleep = time.sleep
    main = threading.current_thread()

    def recording_sleep(seconds: float) -> None:
        if threading.current_thread() is main:
            sleeps.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    return sleeps


def _launch(alice, integration, learners, rows: int = 12) -> ImportRun:
    run = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, rows))
    )
    return import_runs.import_run_launch(actor=alice, run=run, enqueue=False)


def _polls(operation_id: str) -> int:
    from sandbox.selectors import request_log_list

    return request_log_list(method="GET", path_prefix=f"/api/v2/bulk/operations/{operation_id}").count()


def _run_held_back(task_queue) -> tuple:
    """The one task held back in the broker: (due, task)."""
    held = task_queue.delayed()
    assert len(held) == 1, held
    return held[0]


def test_a_step_returns_without_sleeping_and_holds_the_next_back_until_it_is_due(
    alice, integration, learners, pending_operations, slow_polling, task_queue, main_thread_sleeps
):
    run = _launch(alice, integration, learners)

    before = timezone.now()
    assert tasks.import_run_execute(run.pk) is False  # not finished: the operation is pending
    after = timezone.now()

    assert main_thread_sleeps == []
    run.refresh_from_db()
    chunk = run.chunks.get()
    assert chunk.operation_id and chunk.state == ChunkState.SENT
    # The next step (the first poll) is due one poll interval after the send, and the run's
    # lease is kept for it: no first step taken elsewhere can start the run meanwhile.
    assert before + timedelta(seconds=POLL_SECONDS) <= run.next_step_at <= after + timedelta(seconds=POLL_SECONDS)
    assert run.lease_expires_at == run.next_step_at + timedelta(seconds=60)  # IMPORT_LEASE_SECONDS
    assert run.state == ImportState.RUNNING and run.steps == 1

    due, task = _run_held_back(task_queue)
    assert task["func"] == STEP_TASK
    assert task["args"] == (run.pk, run.lease_owner, 1)
    assert abs(due - run.next_step_at) < timedelta(milliseconds=1)
    assert task["save"] is False
    assert task_queue.queue_size() == 0  # nothing ready for a worker before then


def test_the_next_step_polls_once_however_often_its_task_is_delivered(
    alice, integration, learners, pending_operations, slow_polling, task_queue, main_thread_sleeps
):
    run = _launch(alice, integration, learners)
    tasks.import_run_execute(run.pk)
    _, task = _run_held_back(task_queue)
    task_queue.purge_queue()
    operation_id = run.chunks.get().operation_id

    assert tasks.import_run_execute(*task["args"]) is False
    assert tasks.import_run_execute(*task["args"]) is False  # delivered again
    assert _polls(operation_id) == 1
    run.refresh_from_db()
    assert run.steps == 2
    due, again = _run_held_back(task_queue)
    assert again["args"] == (run.pk, run.lease_owner, 2)
    assert abs(due - run.next_step_at) < timedelta(milliseconds=1)

    # A first step (a launch delivered twice, a resume) does not take a run waiting for its next step.
    assert tasks.import_run_execute(run.pk) is False
    assert _polls(operation_id) == 1 and len(task_queue.delayed()) == 1
    assert main_thread_sleeps == []


def test_the_held_back_steps_take_the_run_to_its_end(
    alice, integration, learners, pending_operations, settings, task_queue, main_thread_sleeps
):
    # Long enough that a step is still held back when a busy machine looks (0.1 s was not:
    # the task was already due, so no longer "delayed", when the test asked).
    settings.IMPORT_POLL_MIN_SECONDS = settings.IMPORT_POLL_MAX_SECONDS = 1
    run = _launch(alice, integration, learners, rows=25)
    tasks.import_run_execute(run.pk)
    pending_operations.finish()

    # The worker's part, done here: take each held-back task once it is due.
    steps = 1
    while not ImportRun.objects.get(pk=run.pk).is_finished:
        due, task = _run_held_back(task_queue)
        task_queue.purge_queue()
        while timezone.now() < due:
            time.sleep(0.05)  # the test waits, not the task
        tasks.import_run_execute(*task["args"])
        steps += 1
        assert steps < 100, "the run never finished"

    run.refresh_from_db()
    assert (run.state, run.succeeded_records, run.failed_records) == (ImportState.COMPLETED, 25, 0)
    assert (run.lease_owner, run.lease_expires_at, run.next_step_at) == ("", None, None)
    assert task_queue.delayed() == []
    assert all(seconds == 0.05 for seconds in main_thread_sleeps)  # only the test's own waiting


def test_a_run_whose_next_step_was_lost_is_started_again_by_the_minute_schedule(
    alice, integration, learners, pending_operations, slow_polling, task_queue
):
    run = _launch(alice, integration, learners)
    tasks.import_run_execute(run.pk)
    task_queue.purge_queue()  # the held-back step is lost (a broker restarted without persistence)
    run.refresh_from_db()
    operation_id = run.chunks.get().operation_id

    assert run.pk not in import_runs_due()  # while the step could still come
    # Time passes: the lease kept for the lost step lapses.
    ImportRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert run.pk in import_runs_due()

    assert tasks.resume_import_runs() == 1
    assert task_queue.queue_size() == 1  # a first step, ready at once
    [(ack_id, package)] = task_queue.dequeue()
    task_queue.acknowledge(ack_id)
    first_step = SignedPackage.loads(package)
    assert (first_step["func"], first_step["args"]) == (STEP_TASK, (run.pk,))
    assert tasks.import_run_execute(*first_step["args"]) is False
    assert _polls(operation_id) == 1  # the chunk is polled, never sent again
    resumed = ImportRun.objects.get(pk=run.pk)
    assert resumed.lease_owner != run.lease_owner and resumed.steps == 2
    assert _run_held_back(task_queue)[1]["args"] == (run.pk, resumed.lease_owner, 2)
