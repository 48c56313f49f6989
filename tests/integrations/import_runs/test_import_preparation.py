"""Reading a draft's file in the worker: batches under a lease, restart after a crash, discard
while reading, and no half-read draft or orphan file whatever breaks.

The actors: Alice (L&D admin) uploads statistics files; "a worker" is this test calling what
the django-q2 task calls.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import ImportRecord, ImportRun, Preparation, RecordStatus
from integrations.services import import_preparation, import_runs
from tests.integrations.import_runs.conftest import csv_upload, stats_rows

pytestmark = pytest.mark.django_db(transaction=True)


def _uploaded(alice, integration, learners, rows: int = 30, **kwargs) -> ImportRun:
    return import_runs.import_run_create(
        actor=alice,
        integration=integration,
        kind="stats",
        uploaded=csv_upload(stats_rows(learners, rows), **kwargs),
        enqueue=False,
    )


def test_the_file_is_stored_in_batches_with_the_progress_of_each(alice, integration, learners, monkeypatch):
    monkeypatch.setattr(import_preparation, "READ_BATCH", 7)
    run = _uploaded(alice, integration, learners, rows=30)
    progress = []
    store = import_preparation._store

    def spy(run, owner, batch, *args, **kwargs):
        position = store(run, owner, batch, *args, **kwargs)
        progress.append(ImportRun.objects.values_list("rows_read", flat=True).get(pk=run.pk))
        return position

    monkeypatch.setattr(import_preparation, "_store", spy)
    assert import_preparation.import_run_read(run_id=run.pk)

    assert progress == [7, 14, 21, 28, 30]
    run.refresh_from_db()
    assert (run.preparation, run.total_records, run.valid_records, run.percent_read) == (Preparation.READY, 30, 30, 100)
    positions = list(run.records.order_by("source_line").values_list("position", "source_line"))
    assert positions == [(n, n + 2) for n in range(30)]
    assert all(r.prediction.get("effect") for r in run.records.all())
    assert not run.lease_owner


def test_a_draft_whose_worker_died_is_read_again_from_the_top(alice, integration, learners):
    run = _uploaded(alice, integration, learners, rows=12)
    # A worker took it, wrote part of it, and died: its lease lapsed.
    ImportRun.objects.filter(pk=run.pk).update(
        lease_owner="dead-worker", lease_expires_at=timezone.now() - timedelta(seconds=1), rows_read=5
    )
    ImportRecord.objects.create(run=run, position=0, source_line=2, status=RecordStatus.PENDING, payload={})

    assert import_preparation.import_drafts_due() == [run.pk]
    assert import_preparation.import_run_read(run_id=run.pk)
    run.refresh_from_db()
    assert (run.preparation, run.total_records, run.records.count()) == (Preparation.READY, 12, 12)
    assert import_preparation.import_drafts_due() == []


def test_a_draft_held_by_a_live_worker_is_not_read_twice(alice, integration, learners):
    run = _uploaded(alice, integration, learners, rows=3)
    ImportRun.objects.filter(pk=run.pk).update(
        lease_owner="busy-worker", lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    assert import_preparation.import_drafts_due() == []
    assert not import_preparation.import_run_read(run_id=run.pk)
    assert not ImportRecord.objects.exists()


def test_a_draft_discarded_while_it_is_read_stops_the_worker_and_leaves_nothing(
    alice, integration, learners, monkeypatch
):
    monkeypatch.setattr(import_preparation, "READ_BATCH", 5)
    run = _uploaded(alice, integration, learners, rows=20)
    path = run.source_file.path
    store = import_preparation._store
    batches = []

    def discard_after_the_first_batch(run, *args, **kwargs):
        if batches:
            import_runs.import_run_cancel(run=ImportRun.objects.get(pk=run.pk))
        batches.append(1)
        return store(run, *args, **kwargs)

    monkeypatch.setattr(import_preparation, "_store", discard_after_the_first_batch)
    assert not import_preparation.import_run_read(run_id=run.pk)
    assert len(batches) == 2
    assert not ImportRun.objects.exists() and not ImportRecord.objects.exists()
    assert not (run.source_file.storage.exists(path))


def test_whatever_breaks_while_reading_refuses_the_draft_and_keeps_no_file(alice, integration, learners, monkeypatch):
    run = _uploaded(alice, integration, learners, rows=10)
    path = run.source_file.path

    def broken(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(import_preparation.Predictor, "predict", broken)
    assert import_preparation.import_run_read(run_id=run.pk)
    run.refresh_from_db()
    assert run.preparation == Preparation.REFUSED
    assert run.last_error == import_preparation.FILE_UNREADABLE
    assert not run.source_file and not run.records.exists()
    assert not run.source_file.storage.exists(path)


def test_refused_drafts_are_forgotten_after_a_day(alice, integration, learners):
    old = _uploaded(alice, integration, learners, rows=2)
    new = _uploaded(alice, integration, learners, rows=3)
    ImportRun.objects.filter(pk__in=[old.pk, new.pk]).update(preparation=Preparation.REFUSED)
    ImportRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert import_preparation.import_drafts_purge() == 1
    assert list(ImportRun.objects.values_list("pk", flat=True)) == [new.pk]
