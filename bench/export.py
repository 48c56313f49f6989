"""Benchmark: report exports and pages at scale, on a cache filled by a real sync of the sandbox LMS.

    python -m bench.export [--users N] [--attempts N] [--session-size N] [--page-runs N] [--keep DIR]

In a scratch folder (or ``--keep DIR``, reused when it already holds the same scale): the
sandbox LMS is seeded (``seed_sandbox``: 100k users, 1M course attempts, path sessions of 100k
learners, 100k iSpring results) and served by gunicorn on a free loopback port, and
``sync_lms all`` fills the product's cache from it over HTTP, as in production. Then, each
measurement in its own process (peak RSS is that process's own ``ru_maxrss``, from ``wait4``):

1. **Export of every course attempt** (1M rows, 17 columns, the attempts table's order):
   (a) through the web, ``GET /reports/attempts/export.csv`` with Django's test client, the
   streamed body written to a file as it comes (time to first byte, total time, peak RSS);
   (b) ``manage.py export_report course-stats --table attempts`` to CSV;
   (c) a **plain SELECT dump** of the same rows: the export queryset's own SQL run on a bare
   DB-API cursor, rows written by ``csv.writer`` with no conversion, no escaping, no BOM —
   the floor an export cannot beat. The ratio (a)/(c) is the price of the product's cells.
   Then the learners of the largest path session (100k, custom fields included) with
   ``export_report path-session``, to CSV and to XLSX (the streaming writer of reports/xlsx.py).
2. **Report pages** at that scale, as a signed-in manager: p50/p95 latency over
   ``--page-runs`` requests and the number of SQL queries of the path-session report of a
   100k-learner session (full page, a status clicked, the learner table fragment, a search,
   a deep page), the overview, course statistics, attempts and iSpring module results; and
   whether the session's breakdown equals the LMS's own ``user-statuses`` counts.
3. Pages and the export again **with the indexes proposed for reports/models.py** created on
   the scratch database (``PROPOSED_INDEXES``), then dropped.

``run(**scale)`` returns every figure as a dict (for ``python -m bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
    "session_size": 100_000,
    "sessions": 3,
    "paths": 2,
    "courses": 200,
    "page_runs": 20,
}
CONNECTION_360 = "Bench 360"
CONNECTION_ISPRING = "Bench iSpring"
MANAGER = "bench-manager"
RSS_LIMIT_MB = 150

#: The indexes this benchmark argues for (see the final note of issue 9), as SQL for the
#: scratch database. In Django: ``models.Index(fields=[...], condition=Q(gone_at__isnull=True))``.
PROPOSED_INDEXES = {
    "reports_userstat_current": (
        "reports_pathsessionuserstat",
        "session_id, status_type, status_reason, has_certificate, gone_at",
    ),
    "reports_attempt_current_course": (
        "reports_courseattempt",
        "connection_id, course_remote_id, user_remote_id, completed_at, score, time_spent_ms, gone_at",
    ),
    "reports_attempt_cur_completed": ("reports_courseattempt", "completed_at"),
}


# Processes ------------------------------------------------------------------------------------
def _env(database: Path, folder: Path) -> dict[str, str]:
    return common.product_env(
        folder, common.sqlite_url(database), LMS_PLAIN_STATIC="1", ALLOWED_HOSTS="127.0.0.1,localhost,testserver"
    )


def _child(env: dict[str, str], *args: str, folder: Path) -> dict[str, Any]:
    """Run a measurement of this module in its own process; returns its JSON answer."""
    return common.child("bench.export", env, *args, folder=folder)


# Child measurements (``--child``; Django set up on the product database) ----------------------
def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_admin.settings")
    django.setup()


def _manager_client():
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from lms_admin.roles import MANAGER_GROUP
    from reports.models import ManagerScope

    user, _ = User.objects.get_or_create(username=MANAGER)
    user.groups.add(Group.objects.get_or_create(name=MANAGER_GROUP)[0])
    # A manager who sees every learner: the pages at full size (a scope only narrows them).
    ManagerScope.objects.get_or_create(user=user, defaults={"every_learner": True})
    client = Client()
    client.force_login(user)
    return client


def _child_http_export(path: str) -> dict[str, Any]:
    """GET the attempts export with the test client; write the stream to ``path`` as it comes."""
    client = _manager_client()
    started = time.monotonic()
    response = client.get("/reports/attempts/export.csv")
    first_byte = None
    size = lines = 0
    with open(path, "wb") as fh:
        for chunk in response.streaming_content:
            if first_byte is None:
                first_byte = time.monotonic() - started
            fh.write(chunk)
            size += len(chunk)
            lines += chunk.count(b"\r\n")
    seconds = time.monotonic() - started
    return {
        "status": response.status_code,
        "streaming": response.streaming,
        "seconds": round(seconds, 2),
        "first_byte_seconds": round(first_byte or seconds, 3),
        "mb": round(size / 1_048_576, 1),
        "lines": lines,
    }


def _child_plain_select(path: str) -> dict[str, Any]:
    """The export queryset's SQL on a bare cursor; rows written by ``csv.writer``, nothing else."""
    import csv

    from django.db import connection

    from reports import exports, selectors

    queryset = selectors.attempt_list(filters=selectors.ReportFilters()).values_list(*exports.ATTEMPT_FIELDS)
    sql, params = queryset.query.sql_with_params()
    started = time.monotonic()
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fh, connection.cursor() as cursor:
        writer = csv.writer(fh)
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(2000):
            writer.writerows(batch)
            rows += len(batch)
    return {
        "seconds": round(time.monotonic() - started, 2),
        "rows": rows,
        "mb": round(os.path.getsize(path) / 1_048_576, 1),
    }


def _child_pages(runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports import selectors
    from reports.models import PathSession

    client = _manager_client()
    session = PathSession.objects.current().order_by("-enrolled_count", "pk").first()
    breakdown = selectors.path_session_breakdown(
        session=selectors.path_session_get(pk=session.pk, filters=selectors.ReportFilters()),
        filters=selectors.ReportFilters(),
    )
    detail = f"/reports/path-sessions/{session.pk}/"
    pages = {
        "path-session": (detail, {}),
        "path-session, late clicked (learners fragment)": (
            detail + "?status=late",
            {"HX-Request": "true", "HX-Target": "learners"},
        ),
        "path-session, learner table fragment, sorted by progress": (
            detail + "?sort=-progress",
            {"HX-Request": "true", "HX-Target": "learner-table"},
        ),
        "path-session, search": (detail + "?search=m%C3%BCller", {}),
        "path-session, page 1000": (detail + "?page=1000", {}),
        "sessions overview": ("/reports/path-sessions/", {}),
        "course statistics": ("/reports/courses/", {}),
        "attempts": ("/reports/attempts/", {}),
        "iSpring module results": ("/reports/module-results/", {}),
    }
    figures = {}
    for name, (url, headers) in pages.items():
        client.get(url, headers=headers)  # warm the page cache once
        times, queries = [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url, headers=headers)
                times.append(1000 * (time.perf_counter() - began))
            assert response.status_code == 200, (url, response.status_code)
            queries = len(captured.captured_queries)
        times.sort()
        figures[name] = {
            "url": url,
            "queries": queries,
            "p50_ms": round(statistics.median(times)),
            "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)]),
        }
    lms = session.lms_counts
    return {
        "session_learners": breakdown.enrolled,
        "breakdown_equals_lms_counts": breakdown.counts.by_type() == lms.by_status(),
        "lms_enrolled": lms.enrolled,
        "pages": figures,
    }


def _child_indexes(action: str) -> dict[str, Any]:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        for name, (table, columns) in PROPOSED_INDEXES.items():
            if action == "create":
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}) WHERE gone_at IS NULL")
            else:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
    return {"seconds": round(time.monotonic() - started, 1)}


def _child_main(argv: list[str]) -> int:
    _django()
    what, *rest = argv
    if what == "http-export":
        answer = _child_http_export(rest[0])
    elif what == "plain-select":
        answer = _child_plain_select(rest[0])
    elif what == "pages":
        answer = _child_pages(int(rest[0]))
    elif what == "indexes":
        answer = _child_indexes(rest[0])
    else:
        raise SystemExit(f"unknown child measurement {what!r}")
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


# The benchmark ------------------------------------------------------------------------------------
def _prepare(folder: Path, scale: dict[str, int]) -> dict[str, Any]:
    """Seed the sandbox, serve it, sync everything into the product database (or reuse both)."""
    marker = folder / "ready.json"
    if marker.exists():
        ready = json.loads(marker.read_text())
        if ready.get("scale") == scale:
            return {**ready, "reused": True}
    lms_db, product_db = folder / "lms.sqlite3", folder / "product.sqlite3"
    for db in (lms_db, product_db):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    lms_env, product_env = _env(lms_db, folder), _env(product_db, folder)
    for env in (lms_env, product_env):
        common.manage(env, "migrate", "--noinput")
        common.manage(env, "createcachetable")
    began = time.monotonic()
    common.manage(
        lms_env,
        "seed_sandbox",
        f"--users={scale['users']}",
        f"--attempts={scale['attempts']}",
        f"--sessions={scale['sessions']}",
        f"--paths={scale['paths']}",
        f"--courses={scale['courses']}",
        f"--session-size={scale['session_size']}",
    )
    seed_seconds = time.monotonic() - began
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
        sync = common.manage_measured(product_env, "sync_lms", "all", "--connection", CONNECTION_360, folder=folder)
        ispring = common.manage_measured(
            product_env, "sync_lms", "all", "--connection", CONNECTION_ISPRING, folder=folder
        )
    ready = {
        "scale": scale,
        "seed_seconds": round(seed_seconds, 1),
        "lms_db_mb": round(
            sum(Path(f"{lms_db}{x}").stat().st_size for x in ("", "-wal") if Path(f"{lms_db}{x}").exists()) / 2**20, 1
        ),
        "sync_seconds": sync["seconds"],
        "sync_ispring_seconds": ispring["seconds"],
        "sync_output": [line for line in sync["stdout"].splitlines() if line and not line.startswith(" ")],
    }
    marker.write_text(json.dumps(ready, indent=2))
    return {**ready, "reused": False}


def _exports(env: dict[str, str], folder: Path) -> dict[str, Any]:
    http = _child(env, "http-export", str(folder / "attempts-http.csv"), folder=folder)
    command = common.manage_measured(
        env,
        "export_report",
        "course-stats",
        "--table",
        "attempts",
        "--output",
        str(folder / "attempts-command.csv"),
        folder=folder,
    )
    plain = _child(env, "plain-select", str(folder / "attempts-plain.csv"), folder=folder)
    for name in ("attempts-http.csv", "attempts-command.csv", "attempts-plain.csv"):
        (folder / name).unlink(missing_ok=True)
    return {
        "http": http,
        "command": {
            "seconds": command["seconds"],
            "peak_rss_mb": command["peak_rss_mb"],
            "output": command["stdout"].strip(),
        },
        "plain_select": plain,
        "http_over_plain": round(http["seconds"] / plain["seconds"], 2),
        "rss_under_limit": max(http["peak_rss_mb"], command["peak_rss_mb"]) < RSS_LIMIT_MB,
    }


def _session_exports(env: dict[str, str], folder: Path) -> dict[str, Any]:
    """The learners of the largest path session, with their custom fields, to CSV and to XLSX."""
    import sqlite3

    with sqlite3.connect(folder / "product.sqlite3") as db:
        (session,) = db.execute(
            "SELECT remote_id FROM reports_pathsession WHERE gone_at IS NULL ORDER BY enrolled_count DESC, id LIMIT 1"
        ).fetchone()
    figures = {}
    for suffix in ("csv", "xlsx"):
        output = folder / f"learners.{suffix}"
        done = common.manage_measured(
            env,
            "export_report",
            "path-session",
            "--session",
            session,
            "--output",
            str(output),
            folder=folder,
        )
        figures[suffix] = {
            "seconds": done["seconds"],
            "peak_rss_mb": done["peak_rss_mb"],
            "mb": round(output.stat().st_size / 1_048_576, 1),
            "output": done["stdout"].strip(),
        }
        output.unlink()
    return figures


def run(
    *,
    users: int = DEFAULTS["users"],
    attempts: int = DEFAULTS["attempts"],
    session_size: int = DEFAULTS["session_size"],
    sessions: int = DEFAULTS["sessions"],
    paths: int = DEFAULTS["paths"],
    courses: int = DEFAULTS["courses"],
    page_runs: int = DEFAULTS["page_runs"],
    keep: str | None = None,
) -> dict[str, Any]:
    """Prepare (or reuse) the data, then measure exports and pages without and with the
    proposed indexes; returns every figure (see the module docstring)."""
    scale = {
        "users": users,
        "attempts": attempts,
        "session_size": min(session_size, users),
        "sessions": sessions,
        "paths": paths,
        "courses": courses,
    }
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-export-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        result: dict[str, Any] = {"prepare": _prepare(folder, scale)}
        env = _env(folder / "product.sqlite3", folder)
        _child(env, "indexes", "drop", folder=folder)
        result["export"] = _exports(env, folder)
        result["path_session_export"] = _session_exports(env, folder)
        result["pages"] = _child(env, "pages", str(page_runs), folder=folder)
        result["proposed_indexes"] = {"create": _child(env, "indexes", "create", folder=folder)}
        result["proposed_indexes"]["export"] = _exports(env, folder)
        result["proposed_indexes"]["pages"] = _child(env, "pages", str(page_runs), folder=folder)
        _child(env, "indexes", "drop", folder=folder)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return result


def _summary(result: dict[str, Any]) -> str:
    lines = []
    prepare = result["prepare"]
    lines.append(f"data: {json.dumps(prepare['scale'])} ({'reused' if prepare['reused'] else 'seeded and synced'})")
    for suffix, figures in result["path_session_export"].items():
        lines.append(
            f"path-session learners to {suffix}: {figures['output']} peak RSS {figures['peak_rss_mb']} MB, {figures['mb']} MB"
        )
    for label, part in (("schema as is", result), ("with the proposed indexes", result["proposed_indexes"])):
        export, pages = part["export"], part["pages"]
        lines.append(f"\n== {label}")
        http, plain, command = export["http"], export["plain_select"], export["command"]
        lines.append(
            f"export {http['lines'] - 1:,} attempts over HTTP: {http['seconds']} s (first byte {http['first_byte_seconds']} s), "
            f"{http['mb']} MB, peak RSS {http['peak_rss_mb']} MB"
        )
        lines.append(f"export_report to CSV: {command['seconds']} s, peak RSS {command['peak_rss_mb']} MB")
        lines.append(
            f"plain SELECT dump of the same rows: {plain['seconds']} s, peak RSS {plain['peak_rss_mb']} MB "
            f"→ export/plain = {export['http_over_plain']}x; RSS under {RSS_LIMIT_MB} MB: {export['rss_under_limit']}"
        )
        lines.append(
            f"path session of {pages['session_learners']:,} learners; breakdown equals the LMS's counts: "
            f"{pages['breakdown_equals_lms_counts']}"
        )
        for name, figures in pages["pages"].items():
            lines.append(
                f"  {name:58s} {figures['queries']:3d} queries  p50 {figures['p50_ms']:6d} ms  p95 {figures['p95_ms']:6d} ms"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.splitlines()[0])
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value, help=f"default {value:,}")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR, keep the databases, reuse them next time")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args(argv)
    result = run(**{name: getattr(args, name) for name in DEFAULTS}, keep=args.keep)
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.json else _summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
