"""Benchmark: the sync's ingest of LMS statistics, against the sandbox LMS over real HTTP.

    python -m bench.sync_ingest [--users N] [--attempts N] [--ingest-rows N] [--keep DIR]

Everything runs in a scratch folder with two SQLite databases: the *LMS* (the embedded sandbox,
seeded with ``manage.py seed_sandbox`` and served by gunicorn on a free loopback port) and the
*product* (the cache the syncs write). Each measurement runs in its own process, so peak RSS is
that process's own (``ru_maxrss`` from ``wait4``).

1. **Ingest against a naive baseline, same pages, same process** (``--ingest-rows`` course
   attempts, default 50,000): the pages are fetched and parsed once (timed: *fetch+parse*),
   then written (a) the way the sync does (stage each page with one ``executemany`` upsert,
   then one merge transaction), (b) naively, one ``Model.save()`` per row in autocommit: bare
   inserts into the empty table (the cheapest naive write, which cannot re-sync), and what a
   naive sync does, one ``update_or_create`` per row, into the empty table and again over
   unchanged rows; (a) is re-run over unchanged rows too.
   For the record, (a) is also timed staging through ``bulk_create(update_conflicts=True)``
   instead of its ``executemany`` (see ``integrations.sync.staging.stage_write``).
2. **Full ``sync_lms all``** on the tenant (default 100k users, 1M course attempts, 24 sessions
   of ~8,300 learners with API v1 enrichment, 100k iSpring results): wall time, per-kind rows and
   seconds, peak RSS of the process; then a **fetch+parse-only** pass over the same course-stats
   listing, for the end-to-end cost of ingest on top of fetching.
3. **Incremental re-sync** after a small remote change (5 new completed attempts, one learner's
   status): time, rows, RSS, and the requests the LMS answered per endpoint.
4. **Learners merge with and without the proposed index** (``LEARNER_INDEX``, the partial
   covering index bench/load.py and bench/export.py propose for the learners table): the
   synced learners are staged again and merged as a sessions sync merges them (upsert, mark
   gone, store the learner counts), into an emptied table, unchanged, and with a tenth of them
   changing status; the learner counts stored alone; and the live count of the largest
   session's breakdown (what the reports fall back to); without the index, with it, and
   without it again, in one process.

``run(**scale)`` returns every figure as a dict (for ``python -m bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = {
    "users": 100_000,
    "attempts": 1_000_000,
    "sessions": 24,
    "paths": 8,
    "courses": 200,
    "ingest_rows": 50_000,
    # Fewer on PostgreSQL: its naive baselines take a network round trip and a commit per row.
    "postgres_ingest_rows": 10_000,
}
CONNECTION_360 = "Bench 360"
CONNECTION_ISPRING = "Bench iSpring"
INGEST_CONNECTION = "Bench ingest"
PAGE = 500  # course stats per page (360learning-core-api.json)


# Processes ------------------------------------------------------------------------------------
def _env(database: Path, folder: Path) -> dict[str, str]:
    return common.product_env(folder, common.sqlite_url(database), LMS_PLAIN_STATIC="1")


def _child(env: dict[str, str], *args: str, folder: Path) -> dict[str, Any]:
    """Run a measurement of this module in its own process; returns its JSON answer."""
    return common.child("bench.sync_ingest", env, *args, folder=folder)


def _ingest_on_postgres(postgres_url: str, lms_url: str, *, folder: Path, rows: int) -> dict[str, Any]:
    """Measurement 1 again, the product's cache on a scratch PostgreSQL database (the LMS stays
    the same sandbox); ``{"skipped": why}`` when the server cannot be reached."""
    if common.postgres_version(postgres_url) is None:
        return {"skipped": f"PostgreSQL unreachable at {postgres_url}"}
    with common.scratch_postgres(postgres_url, label="ingest") as database_url:
        env = {**_env(folder / "unused.sqlite3", folder), "DATABASE_URL": database_url}
        common.manage(env, "migrate", "--noinput")
        common.manage(env, "createcachetable")
        for name in (CONNECTION_360, INGEST_CONNECTION):
            common.manage(
                env, "add_connection", name, "--provider", "360learning", "--base-url", f"{lms_url}/sandbox/360",
                "--client-id", "sandbox-client", "--client-secret", "sandbox-secret",
            )  # fmt: skip
        return _child(env, "ingest", str(rows), folder=folder)


def _lms_requests(lms_db: Path, since_id: int) -> tuple[int, dict[str, int]]:
    """The sandbox's request log after ``since_id``: last id, and requests per endpoint."""
    import re
    import sqlite3

    with sqlite3.connect(lms_db) as db:
        rows = db.execute("SELECT id, method, path FROM sandbox_requestlog WHERE id > ?", (since_id,)).fetchall()
    per_endpoint: dict[str, int] = {}
    for _, method, path in rows:
        name = re.sub(r"[0-9a-f]{24}", "{id}", path)
        per_endpoint[f"{method} {name}"] = per_endpoint.get(f"{method} {name}", 0) + 1
    last = max((row[0] for row in rows), default=since_id)
    return last, dict(sorted(per_endpoint.items()))


def _kind_lines(output: str) -> dict[str, str]:
    return {
        line.split(":")[0]: line.split(":", 1)[1].strip() for line in output.splitlines() if line and line[0] != " "
    }


#: The partial covering index proposed for the learners table (bench/load.py's PROPOSED_INDEX,
#: bench/export.py's reports_userstat_current), per database.
LEARNER_INDEX = {
    "sqlite": (
        "CREATE INDEX bench_userstat_current ON reports_pathsessionuserstat "
        "(session_id, status_type, status_reason, has_certificate) WHERE gone_at IS NULL"
    ),
    "postgresql": (
        "CREATE INDEX bench_userstat_current ON reports_pathsessionuserstat "
        "(session_id, status_type, status_reason) INCLUDE (has_certificate) WHERE gone_at IS NULL"
    ),
}


# Child measurements (run with --child, Django set up on the product database) ----------------
def _child_main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_admin.settings")
    django.setup()
    what, *rest = argv
    if what == "ingest":
        answer = _measure_ingest(rows=int(rest[0]))
    elif what == "fetch":
        answer = _measure_fetch()
    elif what == "learner-merge":
        # ``learner-merge [ROUNDS [CONNECTION]]``: also on another benchmark's synced product.
        answer = _measure_learner_merge(
            rounds=int(rest[0]) if rest else 3, connection_name=rest[1] if len(rest) > 1 else CONNECTION_360
        )
    else:
        raise SystemExit(f"unknown child measurement {what!r}")
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


def _measure_fetch() -> dict[str, Any]:
    """Fetch and parse the whole course-stats listing, writing nothing."""
    from integrations.models import Connection
    from integrations.providers.learning360.connect import learning360_client

    connection = Connection.objects.get(name=CONNECTION_360)
    started = time.monotonic()
    count = 0
    with learning360_client(connection) as client:
        for _ in client.course_stats():
            count += 1
    seconds = time.monotonic() - started
    return {"rows": count, "pages": -(-count // PAGE), "seconds": round(seconds, 2)}


def _measure_ingest(*, rows: int) -> dict[str, Any]:
    from itertools import islice

    from django.db import transaction
    from django.utils import timezone

    from integrations.models import Connection
    from integrations.providers.learning360 import records as learning360_records
    from integrations.providers.learning360.connect import learning360_client
    from integrations.sync import records
    from integrations.sync.derived import learner_activity_from_run
    from integrations.sync.staging import large_sqlite_cache, stage_discard, stage_merge, stage_write
    from lms_cache.models import CourseAttempt

    source = Connection.objects.get(name=CONNECTION_360)
    target = Connection.objects.get(name=INGEST_CONNECTION)
    spec = records.ATTEMPTS
    run_id = 10**12 + os.getpid()

    started = time.monotonic()
    with learning360_client(source) as client:
        fetched = list(islice(client.course_stats(), rows))
    fetch_seconds = time.monotonic() - started
    pages = [fetched[i : i + PAGE] for i in range(0, len(fetched), PAGE)]

    def timed(fn) -> tuple[float, float]:
        """Wall and CPU seconds (CPU: this process, SQLite included; the machine may be shared)."""
        wall, cpu = time.monotonic(), time.process_time()
        fn()
        return time.monotonic() - wall, time.process_time() - cpu

    def merge_and_discard() -> None:
        # As SyncContext.commit and sync_run_execute do.
        with large_sqlite_cache():
            with transaction.atomic():
                stage_merge(spec, run_id=run_id, connection_id=target.pk, now=timezone.now())
                learner_activity_from_run(connection_id=target.pk, run_id=run_id)
            stage_discard(spec, run_id=run_id)

    def ours() -> None:
        for page in pages:
            stage_write(spec, run_id=run_id, rows=[learning360_records.attempt_row(stat) for stat in page])
        merge_and_discard()

    def ours_with_bulk_create() -> None:
        """The same stage and merge, staging through ``bulk_create(update_conflicts=True)``."""
        for page in pages:
            objects = []
            for stat in page:
                remote_id, data = learning360_records.attempt_row(stat)
                objects.append(spec.stage(run_id=run_id, remote_id=remote_id, **data))
            spec.stage.objects.bulk_create(
                objects, update_conflicts=True, unique_fields=["run_id", "remote_id"], update_fields=spec.data_fields
            )
        merge_and_discard()

    def naive_save() -> None:
        now = timezone.now()
        for page in pages:
            for stat in page:
                remote_id, data = learning360_records.attempt_row(stat)
                CourseAttempt(connection=target, remote_id=remote_id, synced_at=now, **data).save()

    def naive_update_or_create() -> None:
        now = timezone.now()
        for page in pages:
            for stat in page:
                remote_id, data = learning360_records.attempt_row(stat)
                CourseAttempt.objects.update_or_create(
                    connection=target, remote_id=remote_id, defaults={**data, "synced_at": now}
                )

    def empty() -> None:
        CourseAttempt.objects.filter(connection=target).delete()

    empty()
    ours_first = timed(ours)
    ours_again = timed(ours)  # every row unchanged: the merge skips them
    assert CourseAttempt.objects.filter(connection=target).count() == len(fetched)
    empty()
    bulk_create_first = timed(ours_with_bulk_create)
    empty()
    naive_first = timed(naive_save)  # bare inserts: only possible into an empty cache
    empty()
    naive_sync_first = timed(naive_update_or_create)  # what a naive sync does, empty cache
    naive_sync_again = timed(naive_update_or_create)  # and again, every row unchanged
    assert CourseAttempt.objects.filter(connection=target).count() == len(fetched)
    empty()
    n = len(fetched)
    figures: dict[str, Any] = {"rows": n, "pages": len(pages), "fetch_parse_seconds": round(fetch_seconds, 2)}
    for name, (wall, cpu) in {
        "ours_first_load": ours_first,
        "ours_reload": ours_again,
        "ours_staging_with_bulk_create": bulk_create_first,
        "naive_save": naive_first,
        "naive_update_or_create_first_load": naive_sync_first,
        "naive_update_or_create_reload": naive_sync_again,
    }.items():
        figures[f"{name}_seconds"] = round(wall, 2)
        figures[f"{name}_cpu_seconds"] = round(cpu, 2)

    def ratio(naive: tuple[float, float], ours: tuple[float, float]) -> dict[str, float]:
        return {"wall": round(naive[0] / ours[0], 1), "cpu": round(naive[1] / ours[1], 1)}

    figures.update(
        ours_rows_per_s=round(n / ours_first[0]),
        naive_save_rows_per_s=round(n / naive_first[0]),
        ratio_vs_save_first_load=ratio(naive_first, ours_first),
        ratio_vs_update_or_create_first_load=ratio(naive_sync_first, ours_first),
        ratio_vs_update_or_create_reload=ratio(naive_sync_again, ours_again),
        ingest_over_fetch_percent=round(100 * ours_first[0] / fetch_seconds, 1),
    )
    return figures


def _measure_learner_merge(*, rounds: int, connection_name: str = CONNECTION_360) -> dict[str, Any]:
    """Measurement 4 (see the module docstring) on the learners the full sync cached."""
    import statistics as stats

    from django.db import connection as db, transaction
    from django.db.models import Case, Value, When
    from django.utils import timezone

    from integrations.models import Connection, SyncKind, SyncRun, SyncState
    from integrations.sync import records
    from integrations.sync.derived import learner_counts_store
    from integrations.sync.staging import large_sqlite_cache, stage_discard, stage_mark_gone, stage_merge
    from lms_cache.models import PathSession, PathSessionUserStat
    from reports.filters import ReportFilters
    from reports.selectors.path_sessions import _learners, _status_counts

    connection = Connection.objects.get(name=connection_name)
    spec = records.USER_STATS
    # A run of its own (the stored counts point at it), failed so that nothing reads it.
    run = SyncRun.objects.create(
        connection=connection, kind=SyncKind.SESSIONS, state=SyncState.FAILED, error="bench.sync_ingest learner-merge"
    )
    run_id = run.pk
    qn = db.ops.quote_name
    live = PathSessionUserStat.objects.filter(connection=connection)
    columns = ", ".join(qn(c) for c in spec.data_columns)
    with transaction.atomic(), db.cursor() as cursor:
        # What a sync would stage: the rows the LMS gave, as they were cached.
        cursor.execute(
            f"INSERT INTO {qn(spec.stage._meta.db_table)} ({qn('run_id')}, {qn('remote_id')}, {columns}) "
            f"SELECT %s, {qn('remote_id')}, {columns} FROM {qn(spec.live._meta.db_table)} "
            f"WHERE {qn('connection_id')} = %s AND {qn('gone_at')} IS NULL",
            [run_id, connection.pk],
        )
    staged = spec.stage.objects.filter(run_id=run_id)
    session_pks = list(PathSession.objects.filter(connection=connection).values_list("pk", flat=True))

    def merge() -> None:
        # As integrations.providers.learning360.sessions._apply merges the learners (its other steps left out).
        with large_sqlite_cache(), transaction.atomic():
            stage_merge(spec, run_id=run_id, connection_id=connection.pk, now=timezone.now())
            stage_mark_gone(spec, run_id=run_id, scope=live.filter(session_id__in=session_pks), now=timezone.now())
            learner_counts_store(connection_id=connection.pk, run_id=run_id, session_pks=session_pks)

    def first_load() -> None:
        live.delete()
        merge()

    def tenth_changed() -> None:
        # Every round flips the same tenth, so each merge rewrites that many rows.
        tenth = list(staged.order_by("pk").values_list("pk", flat=True)[: max(1, staged.count() // 10)])
        staged.filter(pk__in=tenth).update(
            status_type=Case(When(status_type="late", then=Value("onTime")), default=Value("late"))
        )
        merge()

    def timed(fn) -> float:
        began = time.monotonic()
        fn()
        return time.monotonic() - began

    largest = PathSession.objects.filter(connection=connection).order_by("-enrolled_count", "pk").first()
    filters = ReportFilters()

    def live_count() -> None:
        _status_counts(_learners(filters).filter(session=largest), by_session=False)

    def counts_store() -> None:
        with transaction.atomic():
            learner_counts_store(connection_id=connection.pk, run_id=run_id, session_pks=session_pks)

    figures: dict[str, Any] = {"learners": staged.count(), "sessions": len(session_pks), "rounds": rounds}
    # Without, with, then without again: a difference that is only the order shows as such.
    for label in ("without_index", "with_index", "without_index_again"):
        if label == "with_index":
            figures["index_create_seconds"] = round(timed(lambda: db.cursor().execute(LEARNER_INDEX[db.vendor])), 2)
        elif label == "without_index_again":
            db.cursor().execute("DROP INDEX bench_userstat_current")
        db.cursor().execute("ANALYZE" if db.vendor == "sqlite" else "VACUUM ANALYZE reports_pathsessionuserstat")
        runs = {"first_load": [], "unchanged": [], "tenth_changed": [], "counts_store": [], "live_count": []}
        for _ in range(rounds):
            runs["first_load"].append(timed(first_load))
            runs["unchanged"].append(timed(merge))
            runs["tenth_changed"].append(timed(tenth_changed))
        for _ in range(5):
            runs["counts_store"].append(timed(counts_store))
            runs["live_count"].append(timed(live_count))
        figures[label] = {name: round(stats.median(values), 3) for name, values in runs.items()}
    stage_discard(spec, run_id=run_id)
    without = {name: (figures["without_index"][name] + figures["without_index_again"][name]) / 2 for name in runs}
    figures["ratio_with_over_without"] = {
        name: round(figures["with_index"][name] / without[name], 2) for name in runs if without[name]
    }
    return figures


# The benchmark ------------------------------------------------------------------------------------
REMOTE_CHANGE = """
from datetime import timedelta
from django.utils import timezone
from sandbox.models import KIND_ATTEMPT, CourseAttempt, PathSession, PathSessionUserStat, Tenant
from sandbox import constants as c
tenant = Tenant.objects.get(client_id=c.DEFAULT_CLIENT_ID)
template = CourseAttempt.objects.filter(tenant=tenant).first()
now = timezone.now()
CourseAttempt.objects.bulk_create(
    CourseAttempt(tenant=tenant, oid=tenant.object_id(KIND_ATTEMPT), course_id=template.course_id,
                  user_id=template.user_id, first_activity_at=now - timedelta(hours=1), last_activity_at=now,
                  completed_at=now, time_spent_ms=120000, progress=100, score=88)
    for _ in range(5)
)
session = PathSession.objects.filter(tenant=tenant, end_date__isnull=True).first() or PathSession.objects.filter(
    tenant=tenant).order_by("-end_date").first()
learner = PathSessionUserStat.objects.filter(session=session, status_type="notYetStarted").first()
if learner is None:
    learner = PathSessionUserStat.objects.filter(session=session).first()
learner.status_type, learner.status_reason, learner.progress = "onTime", "", 10
learner.save()
"""


def run(
    *,
    users: int = DEFAULTS["users"],
    attempts: int = DEFAULTS["attempts"],
    sessions: int = DEFAULTS["sessions"],
    paths: int = DEFAULTS["paths"],
    courses: int = DEFAULTS["courses"],
    ingest_rows: int = DEFAULTS["ingest_rows"],
    postgres_ingest_rows: int = DEFAULTS["postgres_ingest_rows"],
    postgres_url: str | None = common.DEFAULT_POSTGRES_URL,
    keep: str | None = None,
) -> dict[str, Any]:
    """Seed, serve, sync, measure (see the module docstring); returns every figure."""
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-sync-"))
    folder.mkdir(parents=True, exist_ok=True)
    lms_db, product_db = folder / "lms.sqlite3", folder / "product.sqlite3"
    for db in (lms_db, product_db):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    lms_env, product_env = _env(lms_db, folder), _env(product_db, folder)
    result: dict[str, Any] = {
        "scale": {"users": users, "attempts": attempts, "sessions": sessions, "paths": paths, "courses": courses}
    }
    try:
        for env in (lms_env, product_env):
            common.manage(env, "migrate", "--noinput")
            common.manage(env, "createcachetable")
        began = time.monotonic()
        result["seed_output"] = (
            common.manage(
                lms_env,
                "seed_sandbox",
                f"--users={users}",
                f"--attempts={attempts}",
                f"--sessions={sessions}",
                f"--paths={paths}",
                f"--courses={courses}",
            )
            .strip()
            .splitlines()[-1]
        )
        result["seed_seconds"] = round(time.monotonic() - began, 1)
        with common.lms_server(lms_env) as url:
            common.manage(
                product_env, "add_connection", CONNECTION_360, "--provider", "360learning",
                "--base-url", f"{url}/sandbox/360", "--client-id", "sandbox-client", "--client-secret", "sandbox-secret",
                "--company-id", "sandbox-company", "--api-key", "sandbox-api-key",
            )  # fmt: skip
            common.manage(
                product_env, "add_connection", CONNECTION_ISPRING, "--provider", "ispring",
                "--base-url", f"{url}/sandbox/ispring", "--client-id", "sandbox-ispring-client",
                "--client-secret", "sandbox-ispring-secret",
            )  # fmt: skip
            common.manage(
                product_env, "add_connection", INGEST_CONNECTION, "--provider", "360learning",
                "--base-url", f"{url}/sandbox/360", "--client-id", "sandbox-client", "--client-secret", "sandbox-secret",
            )  # fmt: skip

            # 1. Ingest against naive, same pages; on SQLite, then on PostgreSQL.
            result["ingest"] = _child(product_env, "ingest", str(min(ingest_rows, attempts)), folder=folder)
            if postgres_url:
                result["ingest_postgres"] = _ingest_on_postgres(
                    postgres_url, url, folder=folder, rows=min(postgres_ingest_rows, attempts)
                )

            # 2. Full sync of everything.
            last_request, _ = _lms_requests(lms_db, 0)
            full = common.manage_measured(product_env, "sync_lms", "all", "--connection", CONNECTION_360, folder=folder)
            last_request, requests = _lms_requests(lms_db, last_request)
            full_ispring = common.manage_measured(
                product_env, "sync_lms", "all", "--connection", CONNECTION_ISPRING, folder=folder
            )
            last_request, _ = _lms_requests(lms_db, last_request)
            result["full_sync"] = {
                "seconds": full["seconds"],
                "peak_rss_mb": full["peak_rss_mb"],
                "kinds": _kind_lines(full["stdout"]),
                "requests": sum(requests.values()),
                "ispring_seconds": full_ispring["seconds"],
                "ispring_peak_rss_mb": full_ispring["peak_rss_mb"],
                "ispring": _kind_lines(full_ispring["stdout"]),
            }
            # The same course-stats listing, fetched and parsed only.
            fetch = _child(product_env, "fetch", folder=folder)
            last_request, _ = _lms_requests(lms_db, last_request)
            course_stats_line = result["full_sync"]["kinds"]["course-stats"]
            sync_seconds = float(course_stats_line.rsplit(", ", 2)[-2].removesuffix(" s"))
            result["course_stats_end_to_end"] = {
                "rows": fetch["rows"],
                "fetch_parse_only_seconds": fetch["seconds"],
                "sync_seconds": sync_seconds,
                "ingest_adds_percent": round(100 * (sync_seconds - fetch["seconds"]) / fetch["seconds"], 1),
                "fetch_peak_rss_mb": fetch["peak_rss_mb"],
            }

            # 3. A small remote change, then an incremental re-sync.
            common.manage(lms_env, "shell", "-c", REMOTE_CHANGE)
            again = common.manage_measured(
                product_env, "sync_lms", "all", "--connection", CONNECTION_360, folder=folder
            )
            last_request, requests = _lms_requests(lms_db, last_request)
            result["incremental_resync"] = {
                "seconds": again["seconds"],
                "peak_rss_mb": again["peak_rss_mb"],
                "kinds": _kind_lines(again["stdout"]),
                "requests": requests,
            }

            # 4. The learners merge with and without the proposed index.
            result["learner_merge"] = _child(product_env, "learner-merge", folder=folder)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.sync_ingest", description=__doc__.splitlines()[0])
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value, help=f"default {value:,}")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep the databases")
    args = parser.parse_args(argv)
    result = run(**{name: getattr(args, name) for name in DEFAULTS}, keep=args.keep)
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
