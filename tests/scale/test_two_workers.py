"""Two worker clusters (the Procfile's ``worker`` line, started twice) on PostgreSQL + Redis share
one 50,000-row statistics import and a full sync running at the same time.

Every task is also delivered a second time, as a broker may, and the sync is launched twice, as
two admins may: the claims in the database (conditional UPDATEs, one active run per connection
and kind) must make all of that harmless. The sandbox's request log is the witness: each chunk
reached the LMS exactly once, and no listing page was fetched twice.

The actors: Alice (L&D admin) imports learner statistics into the "Import" tenant while the
demo tenant's cache is fully synced.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django_q.models import Schedule
from django_q.tasks import async_task

from integrations.models import ChunkState, ImportRun, ImportState, SyncRun, SyncState
from integrations.services import import_runs
from integrations.services.connections import ConnectionData, connection_create
from integrations.services.integrations import integration_pull
from integrations.sync import queue as sync_queue, services as sync_services
from lms_cache.models import Course, CourseAttempt, LmsGroup, LmsUser, Path, PathSession, PathSessionUserStat
from sandbox import constants as c, models as remote, seeding, tenants
from sandbox.selectors import request_log_list
from tests.integrations.import_runs.conftest import csv_upload, stats_rows
from tests.scale.conftest import procfile_start, stop_all
from tests.support.processes import wait_until


def _postgres_and_redis() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and bool(settings.REDIS_URL)


pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not _postgres_and_redis(),
        reason="several workers are proven on the scale-out stack only: set DATABASE_URL=postgres://… and "
        "REDIS_URL=redis://… (the CI's second run does)",
    ),
]

ROWS = 50_000
CHUNKS = 5  # 10,000 statistics per bulk call (the Bulk API's limit)
IMPORT_CLIENT = "import-client"
ANCHOR = datetime(2025, 6, 1, tzinfo=UTC)
# Five bulk operations in flight at once (production default: 2): more chunks race, and the run is shorter.
WORKER_ENV = {
    "Q_WORKERS": "2",
    "IMPORT_MAX_IN_FLIGHT": "5",
    "IMPORT_POLL_MIN_SECONDS": "0.2",
    "IMPORT_POLL_MAX_SECONDS": "1",
}


@pytest.fixture
def broker_url(monkeypatch) -> str:
    """A Redis database of this test's own for the task queue: ``pytest -n 2`` runs another file
    at once, whose workers (on its own test database) must not take these tasks, nor these
    workers theirs. The test process enqueues there too."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    url = urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{10 + int(worker or 0) % 6}"))
    monkeypatch.setattr(Conf, "REDIS", url)
    get_broker().delete_queue()  # whatever an interrupted earlier run left
    return url


@pytest.fixture
def demo_tenant(connection_360):
    """The demo tenant, larger than the suite's default, so its full sync lasts long enough to
    overlap the import (about 2,000 users, 20,000 course attempts, 6 sessions)."""
    seeding.seed(users=2_000, paths=3, sessions=6, courses=50, attempts=20_000, seed=11, anchor=ANCHOR)
    return remote.Tenant.objects.get(client_id=c.DEFAULT_CLIENT_ID)


@pytest.fixture
def import_integration(transactional_db, live_server):
    """A second sandbox tenant with its "Sandbox Academy" integration adopted locally. Its bulk
    operations apply a whole chunk per poll and five may run at once, so the test spends its
    time in the product."""
    tenants.tenant_create(
        name="Import tenant",
        client_id=IMPORT_CLIENT,
        client_secret="import-secret",
        company_id="import-company",
        api_key="import-api-key",
        ispring_client_id="import-ispring-client",
        ispring_client_secret="import-ispring-secret",
        bulk_batch_size=10_000,
        bulk_concurrency_limit=5,
    )
    seeding.seed(users=40, paths=0, sessions=0, courses=10, attempts=0, seed=3, client_id=IMPORT_CLIENT)
    connection = connection_create(
        actor=None,
        data=ConnectionData(
            name="Import tenant",
            provider="360learning",
            base_url=f"{live_server.url}/sandbox/360",
            client_id=IMPORT_CLIENT,
            client_secret="import-secret",
        ),
    )
    integration_pull(actor=None, connection=connection)
    return connection.integrations.get(external_platform="Sandbox Academy")


@pytest.fixture
def schedules(transactional_db):
    """The schedules every installation has (the migrations make them; the transactional test
    database was flushed): both clusters' schedulers run them while the work goes on."""
    for name, func in (
        ("resume-import-runs", "integrations.tasks.resume_import_runs"),
        ("recover-sync-runs", "integrations.sync.tasks.sync_runs_recover"),
    ):
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1}
        )


@pytest.fixture
def two_workers(broker_url, schedules, tmp_path):
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    processes = [procfile_start("worker", output=log, REDIS_URL=broker_url, **WORKER_ENV) for log in logs]
    yield processes, logs
    # The assertions are done: no need to wait for a worker still inside a task to wind down.
    stop_all(processes, timeout=5)


def _import_learners() -> tuple[list[str], list[str]]:
    tenant = remote.Tenant.objects.get(client_id=IMPORT_CLIENT)
    users = list(remote.User.objects.filter(tenant=tenant, status="active").values_list("mail", flat=True)[:20])
    courses = list(remote.Course.objects.filter(tenant=tenant).values_list("oid", flat=True)[:10])
    return users, courses


def test_two_workers_share_an_import_and_a_full_sync_without_doing_anything_twice(
    alice, demo_tenant, connection_360, import_integration, two_workers
):
    processes, logs = two_workers
    run = import_runs.import_run_prepare(
        actor=alice,
        integration=import_integration,
        kind="stats",
        uploaded=csv_upload(stats_rows(_import_learners(), ROWS)),
    )
    assert (run.valid_records, run.invalid_records) == (ROWS, 0)
    run = import_runs.import_run_launch(actor=alice, run=run)  # enqueued on commit
    async_task("integrations.tasks.import_run_execute", run.pk)  # delivered twice
    assert run.chunks.count() == CHUNKS

    # The sync starts once the import's first chunk is on its way: the two overlap.
    assert wait_until(lambda: run.chunks.exclude(operation_id="").exists(), timeout=60), "no chunk was ever sent"
    kinds = sync_services.sync_kinds_for(connection=connection_360)
    syncs = sync_services.sync_run_launch(connection=connection_360, kinds=kinds, full_refresh=True)
    # A second admin clicks "Sync now" at once: the same runs, nothing new queued…
    assert [r.pk for r in sync_services.sync_run_launch(connection=connection_360, kinds=kinds)] == [
        r.pk for r in syncs
    ]
    # …and the broker delivers every run's task a second time.
    sync_queue.sync_runs_enqueue([r.pk for r in syncs])

    # Watch who holds each run's lease until everything is finished.
    import_owners: set[str] = set()
    sync_owners: dict[int, set[str]] = defaultdict(set)
    sync_ids = [r.pk for r in syncs]

    def finished() -> bool:
        imported = ImportRun.objects.values("lease_owner", "ended_at").get(pk=run.pk)
        import_owners.update({imported["lease_owner"]} - {""})
        states = SyncRun.objects.filter(pk__in=sync_ids).values_list("pk", "state", "lease_owner")
        for pk, _, owner in states:
            if owner:
                sync_owners[pk].add(owner)
        return imported["ended_at"] is not None and all(
            state in (SyncState.COMPLETED, SyncState.FAILED) for _, state, _ in states
        )

    began = time.monotonic()
    done = wait_until(finished, timeout=300, interval=0.1)
    outputs = [log.read_text() for log in logs]
    assert done, f"not finished after {time.monotonic() - began:.0f} s:\n" + "\n---\n".join(o[-3000:] for o in outputs)
    assert all(p.poll() is None for p in processes), "a worker died"

    # The import: every chunk sent exactly once, every statistic applied.
    run.refresh_from_db()
    assert (run.state, run.succeeded_records, run.failed_records) == (ImportState.COMPLETED, ROWS, 0)
    chunks = list(run.chunks.order_by("index"))
    assert [ch.state for ch in chunks] == [ChunkState.COMPLETED] * CHUNKS
    accepted = list(
        request_log_list(
            client_id=IMPORT_CLIENT,
            method="POST",
            path_prefix=f"/api/v2/bulk/integrations/{import_integration.remote_id}/stats",
            status=202,
        )
    )
    assert len(accepted) == CHUNKS
    assert len({call.body_sha256 for call in accepted}) == CHUNKS
    assert {call.bulk_operation_oid for call in accepted} == {ch.operation_id for ch in chunks}
    import_tenant = remote.Tenant.objects.get(client_id=IMPORT_CLIENT)
    assert remote.CourseAttempt.objects.filter(tenant=import_tenant).count() == ROWS
    assert len(import_owners) == 1, f"the import was worked on by several workers at once: {import_owners}"

    # The sync: one run per kind, each executed by one worker only, the cache equal to the LMS.
    runs = {r.kind: r for r in SyncRun.objects.filter(connection=connection_360)}
    assert sorted(runs) == sorted(kinds)
    assert {kind: (r.state, r.error) for kind, r in runs.items()} == dict.fromkeys(kinds, (SyncState.COMPLETED, ""))
    assert all(len(sync_owners[pk]) <= 1 for pk in sync_ids), f"a run changed hands: {dict(sync_owners)}"
    cached = {
        "groups": LmsGroup.objects.current().filter(connection=connection_360).count(),
        "users": LmsUser.objects.current().filter(connection=connection_360).count(),
        "courses": Course.objects.current().filter(connection=connection_360).count(),
        "paths": Path.objects.current().filter(connection=connection_360).count(),
        "sessions": PathSession.objects.current().filter(connection=connection_360).count(),
        "learners": PathSessionUserStat.objects.current().filter(connection=connection_360).count(),
        "attempts": CourseAttempt.objects.current().filter(connection=connection_360).count(),
    }
    assert cached == {
        "groups": remote.Group.objects.filter(tenant=demo_tenant).count(),
        "users": remote.User.objects.filter(tenant=demo_tenant).count(),
        "courses": remote.Course.objects.filter(tenant=demo_tenant).count(),
        "paths": remote.Path.objects.filter(tenant=demo_tenant).count(),
        "sessions": remote.PathSession.objects.filter(tenant=demo_tenant).count(),
        "learners": remote.PathSessionUserStat.objects.filter(session__tenant=demo_tenant).count(),
        "attempts": remote.CourseAttempt.objects.filter(tenant=demo_tenant).count(),
    }
    # No listing page was fetched twice: no run was executed twice, even in part.
    pages = Counter(
        (call.path, call.query)
        for call in request_log_list(client_id=c.DEFAULT_CLIENT_ID, method="GET")
        if call.status == 200
    )
    assert [page for page, n in pages.items() if n > 1] == []

    # They ran at the same time, and both clusters took a share of the tasks.
    assert run.started_at < max(r.ended_at for r in runs.values())
    assert min(r.started_at for r in runs.values()) < run.ended_at
    processed = [output.count("processing") for output in outputs]
    assert all(processed), f"tasks processed per cluster: {processed}"
