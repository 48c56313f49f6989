"""Launching a draft is idempotent: a double click (two launch requests at once) is one run,
each chunk sent once, and no request discards a run another request launched.

The actors: Alice (L&D admin) uploads the same statistics file twice (she went Back and
uploaded it again), then double-clicks Send on the second draft.
"""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from integrations.imports import Kind, kinds
from integrations.models import ImportChunk, ImportRun, ImportState
from integrations.services import import_runs
from integrations.services.import_execution import import_run_execute
from tests.integrations.import_runs.conftest import csv_upload, stats_rows

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 9
CHUNK_SIZE = 4  # three chunks: 4 + 4 + 1


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setitem(kinds.LIMITS, Kind.STATS, CHUNK_SIZE)


def _draft(alice, integration, learners) -> ImportRun:
    upload = csv_upload(stats_rows(learners, ROWS))
    return import_runs.import_run_prepare(actor=alice, integration=integration, kind="stats", uploaded=upload)


def _stats_posts(integration) -> int:
    from sandbox.selectors import request_log_list

    path = f"/api/v2/bulk/integrations/{integration.remote_id}/stats"
    return request_log_list(method="POST", path_prefix=path).filter(status=202).count()


def _two_clicks_at_once(alice, run: ImportRun) -> list:
    """Two launch POSTs released together, each by its own client (as two browser requests)."""
    barrier = threading.Barrier(2)
    responses: list = []

    def click() -> None:
        from django.db import connection

        client = Client()
        client.force_login(alice)
        try:
            barrier.wait()
            responses.append(client.post(f"/imports/{run.pk}/launch/"))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.mark.parametrize("older_draft", [False, True], ids=["alone", "with-an-older-draft-of-the-same-file"])
def test_two_launches_at_once_make_one_run_and_send_each_chunk_once(alice, integration, learners, older_draft):
    older = _draft(alice, integration, learners) if older_draft else None
    run = _draft(alice, integration, learners)

    responses = _two_clicks_at_once(alice, run)

    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {f"/imports/{run.pk}/"}
    run.refresh_from_db()
    assert run.state == ImportState.QUEUED
    assert list(ImportChunk.objects.filter(run=run).values_list("index", flat=True)) == [0, 1, 2]
    if older is not None:
        older.refresh_from_db()
        assert older.state == ImportState.DRAFT  # untouched: nobody launched it
    assert ImportRun.objects.exclude(state=ImportState.DRAFT).count() == 1

    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.succeeded_records) == (ImportState.COMPLETED, ROWS)
    assert _stats_posts(integration) == 3


@pytest.mark.parametrize("older_draft", [False, True], ids=["alone", "with-an-older-draft-of-the-same-file"])
def test_a_launch_from_a_stale_copy_of_the_draft_returns_the_launched_run(alice, integration, learners, older_draft):
    # What the second request of a double click holds: the draft as it read it, before the
    # first request launched it.
    if older_draft:
        _draft(alice, integration, learners)
    run = _draft(alice, integration, learners)
    first_click, second_click = ImportRun.objects.get(pk=run.pk), ImportRun.objects.get(pk=run.pk)

    launched = import_runs.import_run_launch(actor=alice, run=first_click, enqueue=False)
    again = import_runs.import_run_launch(actor=alice, run=second_click, enqueue=False)

    assert launched.pk == again.pk == run.pk
    assert ImportRun.objects.get(pk=run.pk).state == ImportState.QUEUED
    assert ImportChunk.objects.filter(run=run).count() == 3


def test_a_second_upload_of_a_launched_file_joins_the_launched_run_and_is_discarded(alice, integration, learners):
    first = _draft(alice, integration, learners)
    import_runs.import_run_launch(actor=alice, run=first, enqueue=False)
    second = _draft(alice, integration, learners)

    assert import_runs.import_run_launch(actor=alice, run=second, enqueue=False).pk == first.pk
    assert not ImportRun.objects.filter(pk=second.pk).exists()
    assert ImportChunk.objects.filter(run=first).count() == 3


def test_launching_a_draft_still_being_read_is_refused(alice, integration, learners):
    run = import_runs.import_run_create(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 3)), enqueue=False
    )
    with pytest.raises(ValueError, match="still being read"):
        import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    assert not ImportChunk.objects.exists()


def test_a_file_imported_minutes_ago_is_sent_again_only_when_the_admin_says_so(
    admin_client, alice, integration, learners
):
    first = import_runs.import_run_launch(actor=alice, run=_draft(alice, integration, learners), enqueue=False)
    assert import_run_execute(run_id=first.pk)
    again = _draft(alice, integration, learners)

    preview = admin_client.get(f"/imports/{again.pk}/").content.decode()
    assert "This file was imported into this integration as" in preview and f"Open run #{first.pk}" in preview
    assert f"Send the {ROWS} valid records again anyway" in preview

    # Send without the confirmation (a stale form): nothing is sent, the preview says why.
    refused = admin_client.post(f"/imports/{again.pk}/launch/")
    assert refused["Location"] == f"/imports/{again.pk}/"
    again.refresh_from_db()
    assert again.state == ImportState.DRAFT and not again.chunks.exists()

    sent = admin_client.post(f"/imports/{again.pk}/launch/", {"send_again": "1"})
    assert sent["Location"] == f"/imports/{again.pk}/"
    again.refresh_from_db()
    assert again.state == ImportState.QUEUED and again.chunks.count() == 3
