"""Import intelligence: the idempotency ledger, the tenant-wide slot queue, the evidence pack."""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile

import pytest

from integrations.models import ChunkState, ImportRun, ImportState, RecordStatus
from integrations.services import import_runs
from integrations.services.import_execution import WAITING_FOR_SLOT, import_run_execute
from tests.integrations.import_runs.conftest import csv_upload, stats_rows

pytestmark = pytest.mark.django_db(transaction=True)


def _prepare(alice, integration, rows, name="stats.csv"):
    return import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(rows, name=name)
    )


def _accepted_posts(integration):
    from sandbox.selectors import request_log_list

    return request_log_list(
        method="POST", path_prefix=f"/api/v2/bulk/integrations/{integration.remote_id}/stats", status=202
    )


def test_re_uploading_a_completed_file_warns_and_skipping_sends_nothing(
    admin_client, alice, integration, learners, settings
):
    settings.IMPORT_DUPLICATE_WINDOW_SECONDS = 0  # a day later, not a double click
    rows = stats_rows(learners, 15)
    first = import_runs.import_run_launch(actor=alice, run=_prepare(alice, integration, rows), enqueue=False)
    assert import_run_execute(run_id=first.pk)
    assert _accepted_posts(integration).count() == 1

    again = _prepare(alice, integration, rows, name="stats-again.csv")
    page = admin_client.get(f"/imports/{again.pk}/").content.decode()
    assert "15 of these rows were already imported into this integration" in page
    assert f"#{first.pk}" in page and "Re-sending statistics creates new attempts" in page

    response = admin_client.post(f"/imports/{again.pk}/launch/", {"skip_already_imported": "on"})
    again.refresh_from_db()
    assert response["Location"] == f"/imports/{again.pk}/"
    assert (again.state, again.skipped_records, again.records_to_send) == (ImportState.COMPLETED, 15, 0)
    assert again.records.filter(status=RecordStatus.SKIPPED).count() == 15
    assert _accepted_posts(integration).count() == 1  # nothing sent


def test_overlapping_rows_are_skipped_and_only_the_new_ones_sent(alice, integration, learners, settings):
    settings.IMPORT_DUPLICATE_WINDOW_SECONDS = 0
    rows = stats_rows(learners, 20)
    first = import_runs.import_run_launch(actor=alice, run=_prepare(alice, integration, rows[:12]), enqueue=False)
    assert import_run_execute(run_id=first.pk)

    overlap = _prepare(alice, integration, rows[8:])  # 4 already imported, 8 new
    assert import_runs.import_run_already_imported(run=overlap).count == 4
    launched = import_runs.import_run_launch(actor=alice, run=overlap, enqueue=False, skip_already_imported=True)
    assert import_run_execute(run_id=launched.pk)
    launched.refresh_from_db()
    assert (launched.skipped_records, launched.succeeded_records) == (4, 8)
    last = _accepted_posts(integration).order_by("-pk").first()
    assert launched.chunks.get().operation_id == last.bulk_operation_oid


def test_skipped_rows_leave_no_empty_or_short_chunk(alice, integration, learners, settings, small_chunks):
    settings.IMPORT_DUPLICATE_WINDOW_SECONDS = 0
    rows = stats_rows(learners, 25)
    first = import_runs.import_run_launch(actor=alice, run=_prepare(alice, integration, rows[:10]), enqueue=False)
    assert import_run_execute(run_id=first.pk)
    posts = _accepted_posts(integration).count()

    # The first 10 rows were imported: the 15 left make chunks of 10 and 5, none empty.
    launched = import_runs.import_run_launch(
        actor=alice, run=_prepare(alice, integration, rows), enqueue=False, skip_already_imported=True
    )
    chunks = list(launched.chunks.order_by("index"))
    assert [c.record_count for c in chunks] == [10, 5]
    assert [c.records.count() for c in chunks] == [10, 5]
    assert import_run_execute(run_id=launched.pk)
    launched.refresh_from_db()
    assert (launched.skipped_records, launched.succeeded_records) == (10, 15)
    assert _accepted_posts(integration).count() == posts + 2


def test_three_runs_launched_at_once_share_two_slots_and_none_fails_on_429(
    alice, integration, learners, settings, small_chunks
):
    from sandbox import tenants

    settings.IMPORT_MAX_IN_FLIGHT = 3  # more than the LMS allows: its 429s must shrink the budget
    tenants.tenant_update(client_id="sandbox-client", bulk_concurrency_limit=2, bulk_min_state_seconds=0.2)
    rows = stats_rows(learners, 90)
    runs = [
        import_runs.import_run_launch(
            actor=alice, run=_prepare(alice, integration, rows[i * 30 : (i + 1) * 30], name=f"f{i}.csv"), enqueue=False
        )
        for i in range(3)
    ]
    waiting_seen = set()
    stop = threading.Event()

    def watch():
        # What the progress pages show while the runs execute.
        from django.db import connection

        while not stop.is_set():
            waiting_seen.update(
                ImportRun.objects.filter(
                    chunks__state=ChunkState.PENDING, chunks__last_error=WAITING_FOR_SLOT
                ).values_list("pk", flat=True)
            )
            stop.wait(0.1)
        connection.close()

    def execute(run_id):
        from django.db import connection

        import_run_execute(run_id=run_id)
        connection.close()

    watcher = threading.Thread(target=watch)
    workers = [threading.Thread(target=execute, args=(run.pk,)) for run in runs]
    watcher.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    stop.set()
    watcher.join()

    for run in runs:
        run.refresh_from_db()
        assert (run.state, run.succeeded_records, run.failed_records) == (ImportState.COMPLETED, 30, 0)
    assert waiting_seen, "some chunks should have shown 'waiting for a slot'"
    accepted = list(_accepted_posts(integration))
    assert len(accepted) == 9 and len({p.body_sha256 for p in accepted}) == 9


def test_the_evidence_pack_matches_the_run_page(admin_client, alice, integration, learners):
    rows = stats_rows(learners, 6)
    rows[2][1] = "ghost@nowhere.example"
    rows[4][2] = "140"  # invalid, never sent
    run = import_runs.import_run_launch(actor=alice, run=_prepare(alice, integration, rows), enqueue=False)
    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()

    response = admin_client.get(f"/imports/{run.pk}/evidence.zip")
    assert response["Content-Type"] == "application/zip"
    pack = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = pack.namelist()
    assert {"manifest.json", "results.csv", "invalid-rows.csv", "source/stats.csv", "chunks/chunk-001.json"} <= set(
        names
    )

    manifest = json.loads(pack.read("manifest.json"))
    assert manifest["launched_by"] == "alice" and manifest["run"] == run.pk
    assert manifest["counts"] == {"rows": 6, "invalid": 1, "skipped": 0, "succeeded": 4, "failed": 1}
    assert manifest["chunks"][0]["operation_id"] == run.chunks.get().operation_id

    sent = json.loads(pack.read("chunks/chunk-001.json"))
    assert sent["input"] == list(
        run.records.exclude(status="invalid").order_by("position").values_list("payload", flat=True)
    )

    results = {
        int(r["source_line"]): r for r in csv.DictReader(io.StringIO(pack.read("results.csv").decode("utf-8-sig")))
    }
    page = admin_client.get(f"/imports/{run.pk}/")
    for record in page.context["errors"]:
        assert results[record.source_line]["status"] == "error"
        assert results[record.source_line]["message"] == record.message
    assert results[4]["status"] == "error" and results[6]["status"] == "invalid"
    assert {results[n]["status"] for n in (2, 3, 5, 7)} == {"success"}
    assert pack.read("source/stats.csv") == run.source_file.open("rb").read()
