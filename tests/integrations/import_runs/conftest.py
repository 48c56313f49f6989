"""Import runs against the sandbox LMS over real HTTP.

The actors: Alice (L&D admin) imports into the sandbox tenant's "Sandbox Academy"
integration, adopted locally by pulling the tenant's integrations.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.services.integrations import integration_pull


@pytest.fixture(autouse=True)
def fast_polling(settings):
    settings.IMPORT_POLL_MIN_SECONDS = 0.05
    settings.IMPORT_POLL_MAX_SECONDS = 0.2
    settings.IMPORT_RECONCILE_GRACE_SECONDS = 3


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 10 records, so a few dozen rows make several bulk calls (the real limit,
    10,000, is checked against the spec in tests/integrations/imports/test_kinds.py)."""
    from integrations import imports

    monkeypatch.setitem(imports.LIMITS, imports.Kind.STATS, 10)


@pytest.fixture
def integration(connection_360):
    integration_pull(actor=None, connection=connection_360)
    return connection_360.integrations.get(external_platform="Sandbox Academy")


@pytest.fixture
def learners(sandbox):
    from sandbox.models import Course, User

    users = list(User.objects.filter(status="active").values_list("mail", flat=True)[:20])
    courses = list(Course.objects.values_list("oid", flat=True)[:10])
    return users, courses


STATS_HEADER = [
    "courseId",
    "userMail",
    "progress",
    "timeSpent",
    "firstActivityAt",
    "lastActivityAt",
    "score",
    "forceNew",
]


def stats_rows(learners, count: int, *, force_new: bool = True) -> list[list[str]]:
    users, courses = learners
    start = datetime(2025, 3, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        # A distinct first activity per row: the file has no duplicate (course, user, start).
        first = start + timedelta(minutes=i)
        rows.append(
            [
                courses[i % len(courses)],
                users[(i // len(courses)) % len(users)],
                str(100 if i % 3 == 0 else 40),
                str(60000 + i),
                first.strftime("%Y-%m-%dT%H:%M:%SZ"),
                (first + timedelta(seconds=50)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                str(i % 101),
                "true" if force_new else "false",
            ]
        )
    return rows


def csv_upload(rows, *, header=STATS_HEADER, name="stats.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8-sig"), content_type="text/csv")


def worker_reads_uploaded_files() -> list[int]:
    """What the django-q2 worker does after an upload: read each draft waiting for it."""
    from integrations.models import ImportRun, ImportState, Preparation
    from integrations.services.import_preparation import import_run_read

    waiting = list(
        ImportRun.objects.filter(state=ImportState.DRAFT, preparation=Preparation.READING).values_list("pk", flat=True)
    )
    for run_id in waiting:
        import_run_read(run_id=run_id)
    return waiting


def upload_and_read(client, integration, upload, *, kind: str = "stats", **fields):
    """Post the upload form, then let the worker read the file; returns the upload's response."""
    response = client.post("/imports/new/", {"integration": integration.pk, "kind": kind, "file": upload, **fields})
    worker_reads_uploaded_files()
    return response
