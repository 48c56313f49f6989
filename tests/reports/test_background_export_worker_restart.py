"""A real worker killed with SIGKILL in the middle of a background export: no file is served
half-written, the export's lease lapses, and the next worker writes it again from the first
row into a whole file, byte for byte what the export link streams."""

from __future__ import annotations

import os
import signal

import pytest
from django.db import transaction
from django.utils import timezone

from lms_cache.models import CourseAttempt
from reports.models import ReportExport
from reports.tasks import report_exports_resume
from tests.reports.conftest import make_connection, make_course, make_sync_run, make_user, remote_id
from tests.support.processes import start_manage, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 3000
#: Progress every 100 rows: the kill lands with 30 progress steps to go; a lease of 2 s lapses fast.
WORKER_ENV = {"EXPORT_LEASE_SECONDS": "2", "EXPORT_PROGRESS_ROWS": "100"}


def _attempts(count: int) -> None:
    connection = make_connection("Acme 360")
    make_sync_run(connection, "course-stats", source_api="360Learning v2")
    user, course = make_user(connection, "Zoë", "Dubois"), make_course(connection, "Écoute active")
    now = timezone.now()
    CourseAttempt.objects.bulk_create(
        CourseAttempt(
            connection=connection,
            remote_id=remote_id(),
            course=course,
            course_remote_id=course.remote_id,
            user=user,
            user_remote_id=user.remote_id,
            progress=n % 101,
            score=n % 100,
            time_spent_ms=1000 * n,
            first_activity_at=now,
            last_activity_at=now,
            synced_at=now,
        )
        for n in range(count)
    )


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_background_export_whose_worker_is_killed_is_written_again_by_the_next_worker(
    bob, manager_client, settings, tmp_path
):
    settings.EXPORT_FILES_DIR = tmp_path
    env = {**WORKER_ENV, "EXPORT_FILES_DIR": str(tmp_path)}
    _attempts(ROWS)
    settings.EXPORT_BACKGROUND_ROWS = ROWS + 1
    streamed = _body(manager_client.get("/reports/attempts/export.csv"))
    settings.EXPORT_BACKGROUND_ROWS = ROWS // 2
    response = manager_client.get("/reports/attempts/export.csv")  # enqueued as it commits
    export = ReportExport.objects.get(owner=bob)
    assert response["Location"] == f"/reports/exports/{export.pk}/"

    first = start_manage("qcluster", **env)
    try:
        # Look under the export's lock (SQLite: the database's write lock; PostgreSQL: its row),
        # so once a first progress step is seen the worker cannot write another one: it waits
        # on its next step until it is killed.
        def written_some() -> bool:
            with transaction.atomic():
                seen = ReportExport.objects.select_for_update().get(pk=export.pk)
                if seen.rows_written == 0:
                    return False
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()
                return True

        assert wait_until(written_some, timeout=60, interval=0.02), "the first worker never wrote a row"
    finally:
        output = stop(first)

    # Killed mid-export: no file under the export's name, only the dead worker's temporary one.
    export.refresh_from_db()
    assert export.state == ReportExport.State.RUNNING, output[-2000:]
    assert 0 < export.rows_written < ROWS and export.attempts == 1
    assert [path.suffix for path in tmp_path.iterdir()] == [".part"]
    assert manager_client.get(f"/reports/exports/{export.pk}/download/").status_code == 302  # to its page

    # The dead worker's lease lapses (2 s); the resume schedule's task (every minute) finds it.
    assert wait_until(
        lambda: ReportExport.objects.filter(pk=export.pk, lease_expires_at__lt=timezone.now()).exists(), timeout=15
    )
    assert report_exports_resume() == 1
    second = start_manage("qcluster", **env)
    try:
        assert wait_until(lambda: ReportExport.objects.get(pk=export.pk).is_finished, timeout=60, interval=0.2)
    finally:
        output = stop(second, timeout=1)  # its work is done: no need for a graceful stop

    export.refresh_from_db()
    assert export.state == ReportExport.State.DONE, output[-2000:]
    assert (export.attempts, export.rows_written, export.rows_total) == (2, ROWS, ROWS)
    assert [path.name for path in tmp_path.iterdir()] == [f"export-{export.pk}.csv"]
    assert _body(manager_client.get(f"/reports/exports/{export.pk}/download/")) == streamed
