"""Benchmark: report exports and pages at scale, on a cache filled by a real sync of the sandbox LMS.

    python -m bench.export [--users N] [--attempts N] [--session-size N] [--page-runs N] [--keep DIR]

In a scratch folder (or ``--keep DIR``, reused when it already holds the same scale): the
sandbox LMS is seeded (``seed_sandbox``: 100k users, 1M course attempts, path sessions of 100k
learners, 100k iSpring results) and served by gunicorn on a free loopback port, and
``sync_lms all`` fills the product's SQLite cache from it over HTTP, as in production. Then:

1. **Export of every course attempt, click → file downloaded**, on the production processes:
   ``release``, then ``web`` (gunicorn, ``WEB_WORKERS`` workers, the Procfile's production
   ``--timeout 60``) and one ``worker`` (``qcluster``), all through ``deploy/run``. A
   ``requests`` session logs in as a manager (every learner in scope) through the login form
   and, for CSV then XLSX (a fresh worker before each, so its peak is that file's): GETs the
   export link ``/reports/attempts/export.<format>``; an export above
   ``EXPORT_BACKGROUND_ROWS`` answers a redirect to its page, which is opened and then polled
   as htmx does (the fragment's own ``hx-trigger`` interval; ``HX-Request``, ``HX-Target`` and
   ``HX-Trigger: export-progress``) until the Download link appears; then the file is
   downloaded to disk. Figures: the total wait, its parts (link, page, polls, download), the
   worker's own write time (``started_at`` → ``finished_at``), rows, size, every HTTP status
   seen (no 5xx, no timeout, no dropped connection), error lines of the servers' logs, and the
   peak RSS of the web workers and of the qcluster processes (sampled every 0.1 s and from
   each process's reset high-water mark). Checks: the CSV holds one row per current attempt
   (parsed with ``csv``), the XLSX opens (openpyxl read-only: header and first row, the same
   first attempt as the CSV) and its sheet holds as many rows.
2. The **baseline in the same run**, in its own process before the servers start and again
   after they stop (the mean of the two; the machine is shared): a **plain SELECT dump** of
   the same joined rows, the export queryset's own SQL on a bare DB-API cursor, rows written
   by ``csv.writer`` with no conversion, no escaping, no BOM (the floor an export cannot
   beat). Ratios: CSV / plain (target ≤ 1.5×) and XLSX / CSV (target ≤ 2×).
3. The learners of the largest path session (custom fields included) with
   ``export_report path-session``, to CSV and to XLSX, each in its own process.
4. **Report pages** at that scale, as a signed-in manager, in process (Django's test client):
   p50/p95 latency over ``--page-runs`` requests and the number of SQL queries of the
   path-session report of a 100k-learner session (full page, a status clicked, the learner
   table fragment, a search, a deep page), the overview, course statistics, attempts and
   iSpring module results; and whether the session's breakdown equals the LMS's own
   ``user-statuses`` counts. Then again **with the indexes proposed for lms_cache/models.py**
   created on the scratch database (``PROPOSED_INDEXES``), which are then dropped.

``run(**scale)`` returns every figure as a dict (for ``python -m bench``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
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
MANAGER_PASSWORD = "bench-manager-password-4242"
#: The production processes of the click → file measurement: gunicorn workers (the machine has
#: 2 cores; one user clicks), with the Procfile's production timeout (``common.WEB_TIMEOUT``).
WEB_WORKERS = 2
#: What a user waits at most before the bench gives up on an export (django-q2's task timeout).
EXPORT_DEADLINE_S = 1800.0
FORMATS = ("csv", "xlsx")
#: The issue's targets (issue 18): CSV ≤ 1.5× the plain SELECT dump; XLSX ≤ 2× CSV.
CSV_OVER_PLAIN_TARGET = 1.5
XLSX_OVER_CSV_TARGET = 2.0

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


def _manager():
    """The bench's manager, who sees every learner (the pages and exports at full size: a scope
    only narrows them), with a password for the login form and an address for the export mail."""
    from django.contrib.auth.models import Group, User

    from lms_admin.roles import MANAGER_GROUP
    from reports.models import ManagerScope

    user, _ = User.objects.get_or_create(username=MANAGER)
    user.groups.add(Group.objects.get_or_create(name=MANAGER_GROUP)[0])
    ManagerScope.objects.get_or_create(user=user, defaults={"every_learner": True})
    return user


def _manager_client():
    from django.test import Client

    client = Client()
    client.force_login(_manager())
    return client


def _child_manager() -> dict[str, Any]:
    """Ready the manager for the login form, forget their earlier exports (a finished export is
    handed out again for a while: each run writes its own files), and count what the attempts
    export must hold: every current attempt."""
    from django.conf import settings

    from reports import background_exports
    from reports.filters import ReportFilters
    from reports.models import ReportExport
    from reports.selectors.courses import attempt_list

    user = _manager()
    user.set_password(MANAGER_PASSWORD)
    user.email = "bench-manager@bench.example"
    user.save()
    earlier = ReportExport.objects.filter(owner=user)
    for export in earlier.exclude(file_path=""):
        background_exports.export_file(export).unlink(missing_ok=True)
    forgotten = earlier.delete()[0]
    return {
        "attempts": attempt_list(filters=ReportFilters()).count(),
        "background_rows": settings.EXPORT_BACKGROUND_ROWS,
        "progress_rows": settings.EXPORT_PROGRESS_ROWS,
        "q_workers": settings.Q_CLUSTER["workers"],
        "broker": "redis" if "redis" in settings.Q_CLUSTER else "orm",
        "forgotten_exports": forgotten,
    }


def _child_written() -> dict[str, Any]:
    """The manager's background exports as the worker recorded them: when each was enqueued,
    started and finished, rows and bytes written, state and starts."""
    from reports.models import ReportExport

    def seconds(a, b) -> float | None:
        return round((b - a).total_seconds(), 2) if a and b else None

    return {
        "exports": [
            {
                "pk": e.pk,
                "format": e.file_format,
                "state": e.state,
                "attempts": e.attempts,
                "rows": e.rows_written,
                "bytes": e.file_size,
                "queued_seconds": seconds(e.enqueued_at, e.started_at),
                "write_seconds": seconds(e.started_at, e.finished_at),
                "error": e.error,
            }
            for e in ReportExport.objects.filter(owner__username=MANAGER).order_by("pk")
        ]
    }


def _child_plain_select(path: str) -> dict[str, Any]:
    """The export queryset's SQL on a bare cursor; rows written by ``csv.writer``, nothing else."""
    import csv

    from django.db import connection

    from reports import exports
    from reports.filters import ReportFilters
    from reports.selectors.courses import attempt_list

    queryset = attempt_list(filters=ReportFilters()).values_list(*exports.ATTEMPT_FIELDS)
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

    from lms_cache.models import PathSession
    from reports.filters import ReportFilters
    from reports.selectors.path_sessions import path_session_breakdown, path_session_get

    client = _manager_client()
    session = PathSession.objects.current().order_by("-enrolled_count", "pk").first()
    breakdown = path_session_breakdown(
        session=path_session_get(pk=session.pk, filters=ReportFilters()),
        filters=ReportFilters(),
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
    if what == "manager":
        answer = _child_manager()
    elif what == "written":
        answer = _child_written()
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


# Click → file downloaded ----------------------------------------------------------------------------
_POLL = re.compile(r'hx-trigger="every (\d+(?:\.\d+)?)(ms|s)"')
_DOWNLOAD = re.compile(r'href="(/reports/exports/\d+/download/)"')
_STATE = re.compile(r'class="state state-(\w+)"')
_WRITTEN = re.compile(r"<strong>([\d,]+)</strong> of ([\d,]+) row")
_FAILED = re.compile(r'class="message error" role="alert">(.*?)</p>', re.S)
#: The headers htmx sends with the progress fragment's poll (``hx-target="this"`` on
#: ``<section id="export-progress">``).
HX_POLL = {"HX-Request": "true", "HX-Target": "export-progress", "HX-Trigger": "export-progress"}


def _poll_interval(page: str) -> float:
    found = _POLL.search(page)
    if not found:
        return 1.0
    return float(found[1]) / (1000 if found[2] == "ms" else 1)


def click_to_file(
    browser: common.Browser, servers: common.Servers, link: str, output: Path, *, deadline_s: float = EXPORT_DEADLINE_S
) -> dict[str, Any]:
    """What a manager waits from clicking the export ``link`` to the file on their disk: the
    link, its background export's page, the page's polls until the Download link, the
    download (see the module docstring). Every request and its answer is counted; a 5xx, a
    timeout or a dropped connection ends the wait and is the outcome."""
    timeout = common.WEB_TIMEOUT + 30  # past gunicorn's: a killed request shows as a dropped connection
    statuses: list[int] = []
    failures: list[str] = []
    progress: list[tuple[float, int]] = []
    polls: list[float] = []
    result: dict[str, Any] = {"link": link}
    offsets = common.log_offsets(servers.folder)
    result["idle"] = servers.sampler.begin()
    began = time.monotonic()

    def get(path: str, **kwargs: Any):
        try:
            answer = browser.session.get(browser.url(path), allow_redirects=False, timeout=timeout, **kwargs)
        except Exception as error:  # noqa: BLE001 - a timeout or dropped connection is the figure
            failures.append(f"GET {path}: {type(error).__name__}: {str(error)[:200]}")
            return None
        statuses.append(answer.status_code)
        if answer.status_code >= 500:
            failures.append(f"GET {path}: HTTP {answer.status_code}")
        return answer

    answer = get(link)
    result["link_seconds"] = round(time.monotonic() - began, 3)
    download: str | None = None
    if answer is not None and answer.status_code == 302:
        result["background"] = True
        page_path = answer.headers["Location"]
        page = get(page_path)
        result["page_seconds"] = round(time.monotonic() - began, 3)
        fragment = page.text if page is not None and page.status_code == 200 else ""
        interval = _poll_interval(fragment)
        while page is not None and not failures:
            found = _DOWNLOAD.search(fragment)
            if found:
                download = found[1]
                written = re.search(r"Ready: ([\d,]+) row", fragment)
                result["rows_on_page"] = int(written[1].replace(",", "")) if written else None
                break
            failed = _FAILED.search(fragment)
            state = _STATE.search(fragment)
            if failed or (state and state[1] in ("failed", "expired")):
                failures.append(
                    f"export {state[1] if state else 'failed'}: {common.html_text(failed[1]) if failed else ''}"
                )
                break
            if time.monotonic() - began > deadline_s:
                failures.append(f"no Download link after {deadline_s:.0f} s")
                break
            count = _WRITTEN.search(fragment)
            if count:
                progress.append((round(time.monotonic() - began, 1), int(count[1].replace(",", ""))))
            time.sleep(interval)  # htmx's "every 1s": the swapped-in fragment polls again 1 s later
            sent = time.monotonic()
            poll = get(page_path, headers={**HX_POLL, "HX-Current-URL": browser.url(page_path)})
            if poll is None:
                continue  # htmx polls again after a failed request; the failure is recorded
            polls.append(time.monotonic() - sent)
            if poll.status_code in (200, 286):  # 286: htmx's "stop polling", with the last fragment
                fragment = poll.text
        result["ready_seconds"] = round(time.monotonic() - began, 2)
    elif answer is not None and answer.status_code == 200:
        result["background"] = False  # under the threshold: the file is the answer
        download = link
    elif answer is not None:
        failures.append(f"GET {link}: HTTP {answer.status_code}")
    size = 0
    if download and not failures:
        started = time.monotonic()
        try:
            with browser.session.get(browser.url(download), stream=True, timeout=timeout) as response:
                statuses.append(response.status_code)
                if response.status_code != 200:
                    failures.append(f"GET {download}: HTTP {response.status_code}")
                else:
                    with output.open("wb") as fh:
                        for chunk in response.iter_content(1 << 20):
                            fh.write(chunk)
                            size += len(chunk)
        except Exception as error:  # noqa: BLE001 - a dropped download is the figure
            failures.append(f"GET {download}: {type(error).__name__}: {str(error)[:200]}")
        result["download_seconds"] = round(time.monotonic() - started, 2)
    result["seconds"] = round(time.monotonic() - began, 2)
    result["peaks"] = servers.sampler.end()
    result["bytes"] = size
    result["mb"] = round(size / 1_048_576, 1)
    result["statuses"] = sorted(set(statuses))
    result["requests"] = len(statuses)
    result["polls"] = len(polls)
    result["poll_ms_max"] = round(1000 * max(polls), 1) if polls else None
    result["progress"] = progress[:: max(1, len(progress) // 10)][:12]
    result["failures"] = failures
    result["completed"] = bool(download) and not failures and size > 0
    result["log_lines"] = common.log_news(servers.folder, offsets)
    result["web_alive"] = servers.web.poll() is None
    result["worker_alive"] = servers.worker.poll() is None
    return result


def csv_rows(path: Path) -> dict[str, Any]:
    """Data rows of a CSV export (its header apart), parsed as a spreadsheet would; the header
    and the first row's first cell (the attempt id)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        first = next(reader, None)
        rows = (first is not None) + sum(1 for _ in reader)
    return {"rows": rows, "header": header, "first_id": first[0] if first else None}


def xlsx_rows(path: Path) -> dict[str, Any]:
    """Whether the workbook opens (openpyxl, read-only: its header and first row), and how many
    data rows its first sheet holds (its ``<row`` elements, counted in the unpacked stream)."""
    from openpyxl import load_workbook

    answer: dict[str, Any] = {"opens": False}
    try:
        book = load_workbook(path, read_only=True)
        sheet = book.worksheets[0]
        head = list(sheet.iter_rows(min_row=1, max_row=2, values_only=True))
        book.close()
        answer.update(opens=True, sheet=sheet.title, header=[str(c) for c in head[0]] if head else [])
        answer["first_id"] = str(head[1][0]) if len(head) > 1 else None
    except Exception as error:  # noqa: BLE001 - a workbook that does not open is the figure
        answer["error"] = f"{type(error).__name__}: {error}"[:300]
        return answer
    with zipfile.ZipFile(path) as archive:
        part = next((n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")), None)
        rows, tail = 0, b""
        with archive.open(part) as fh:
            while chunk := fh.read(1 << 20):
                data = tail + chunk
                rows += data.count(b"<row ")
                # A tag cut in two at the chunk's end is counted with the next chunk.
                tail = data[-4:] if not data.endswith(b"<row ") else b""
    answer["part"] = part
    answer["rows"] = rows - 1  # the header
    return answer


def _http_exports(folder: Path) -> dict[str, Any]:
    """Both files of every course attempt on the production processes, between two plain
    SELECT dumps with the servers stopped; the ratios and checks."""
    env = common.product_env(folder, common.sqlite_url(folder / "product.sqlite3"), DB_CONN_MAX_AGE="60")
    # A kept folder may predate a migration (the background exports' table): release, as a deploy does.
    result: dict[str, Any] = {
        "release_seconds": round(common.procfile_run("release", env, log=folder / "release.log"), 1),
        "web_workers": WEB_WORKERS,
        "web_timeout": common.WEB_TIMEOUT,
        "procfile": {name: common.procfile_commands()[name] for name in ("web", "worker")},
    }
    result["settings"] = _child(env, "manager", folder=folder)
    attempts = result["settings"]["attempts"]
    # The baseline before and after the servers run: their mean is the machine the exports had
    # (it is shared: the two apart say how much it drifted meanwhile).
    plain_env, plain_path = _env(folder / "product.sqlite3", folder), str(folder / "attempts-plain.csv")
    plains = [_child(plain_env, "plain-select", plain_path, folder=folder)]
    files = {fmt: folder / f"attempts-download.{fmt}" for fmt in FORMATS}
    result["load_average"] = {"start": common.load_average()}
    result["busy_at_start"] = common.other_busy_processes()
    servers = common.Servers(env, folder, web_workers=WEB_WORKERS, web_timeout=common.WEB_TIMEOUT)
    try:
        browser = common.Browser(servers.url, agent="bench/export")
        browser.log_in(MANAGER, MANAGER_PASSWORD)
        for fmt in FORMATS:
            servers.restart_worker()  # its peak is this file's alone
            sys.stderr.write(f"  click → file: {fmt} …\n")
            result[fmt] = click_to_file(browser, servers, f"/reports/attempts/export.{fmt}", files[fmt])
            sys.stderr.write(f"    {result[fmt]['seconds']} s, {result[fmt]['mb']} MB, {result[fmt]['failures']}\n")
    finally:
        servers.close()
    result["load_average"]["end"] = common.load_average()
    result["written"] = _child(env, "written", folder=folder)["exports"]
    for fmt in FORMATS:
        written = next((e for e in reversed(result["written"]) if e["format"] == fmt), None)
        result[fmt]["worker"] = written
    if files["csv"].exists() and result["csv"]["completed"]:
        result["csv"]["check"] = csv_rows(files["csv"])
    if files["xlsx"].exists() and result["xlsx"]["completed"]:
        result["xlsx"]["check"] = xlsx_rows(files["xlsx"])
    plains.append(_child(plain_env, "plain-select", plain_path, folder=folder))
    plain = {
        "seconds": round(statistics.mean(p["seconds"] for p in plains), 2),
        "runs_seconds": [p["seconds"] for p in plains],
        "rows": plains[-1]["rows"],
        "mb": plains[-1]["mb"],
        "peak_rss_mb": max(p["peak_rss_mb"] for p in plains),
    }
    result["plain_select"] = plain
    for path in [*files.values(), folder / "attempts-plain.csv"]:
        path.unlink(missing_ok=True)
    csv_check, xlsx_check = result["csv"].get("check", {}), result["xlsx"].get("check", {})
    result["checks"] = {
        "attempts": attempts,
        "csv_rows_equal_attempts": csv_check.get("rows") == attempts,
        "xlsx_opens": bool(xlsx_check.get("opens")),
        "xlsx_rows_equal_attempts": xlsx_check.get("rows") == attempts,
        "plain_rows_equal_attempts": plain["rows"] == attempts,
        "same_header": bool(csv_check.get("header")) and csv_check.get("header") == xlsx_check.get("header"),
        "same_first_attempt": csv_check.get("first_id") is not None
        and csv_check.get("first_id") == xlsx_check.get("first_id"),
        "no_5xx_no_timeout": all(result[fmt]["completed"] and not result[fmt]["failures"] for fmt in FORMATS),
    }
    result["csv_over_plain"] = _ratio(result["csv"]["seconds"], plain["seconds"])
    result["xlsx_over_csv"] = _ratio(result["xlsx"]["seconds"], result["csv"]["seconds"])
    return result


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


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
    pages: bool = True,
    keep: str | None = None,
) -> dict[str, Any]:
    """Prepare (or reuse) the data, time the attempts export click → file in CSV and XLSX
    against the plain SELECT dump, export a session's learners, and measure the pages without
    and with the proposed indexes (not when ``pages`` is false); returns every figure (see the
    module docstring)."""
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
        result["http_export"] = _http_exports(folder)
        result["path_session_export"] = _session_exports(env, folder)
        if pages:
            result["pages"] = _child(env, "pages", str(page_runs), folder=folder)
            result["proposed_indexes"] = {"create": _child(env, "indexes", "create", folder=folder)}
            result["proposed_indexes"]["pages"] = _child(env, "pages", str(page_runs), folder=folder)
            _child(env, "indexes", "drop", folder=folder)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return result


def _export_lines(export: dict[str, Any]) -> list[str]:
    settings, plain, checks = export["settings"], export["plain_select"], export["checks"]
    lines = [
        f"click → file, {checks['attempts']:,} attempts; gunicorn {export['web_workers']} workers, "
        f"--timeout {export['web_timeout']}; one qcluster ({settings['q_workers']} task processes, broker "
        f"{settings['broker']}); background above {settings['background_rows']:,} rows"
    ]
    for fmt in FORMATS:
        f = export[fmt]
        worker = f.get("worker") or {}
        peaks = f["peaks"]
        lines.append(
            f"  {fmt.upper():4s} {f['seconds']} s ({'background' if f.get('background') else 'direct'}: link "
            f"{f['link_seconds']} s, ready {f.get('ready_seconds')} s after {f['polls']} polls, download "
            f"{f.get('download_seconds')} s; worker wrote it in {worker.get('write_seconds')} s), {f['mb']} MB, "
            f"HTTP {f['statuses']}; peak RSS web {peaks['web']['process_mb']} MB, worker {peaks['worker']['process_mb']} MB"
        )
        check = f.get("check", {})
        lines.append(f"       rows {check.get('rows')}; {'completed' if f['completed'] else 'NOT completed'}")
        for failure in f["failures"]:
            lines.append(f"       failure: {failure}")
        for line in f["log_lines"]:
            lines.append(f"       log: {line}")
    lines.append(
        f"  plain SELECT dump of the same rows: {plain['seconds']} s (before / after the servers: "
        f"{' / '.join(map(str, plain['runs_seconds']))} s), {plain['rows']:,} rows, {plain['mb']} MB, "
        f"peak RSS {plain['peak_rss_mb']} MB"
    )
    lines.append(
        f"  CSV / plain = {export['csv_over_plain']}× (target ≤ {CSV_OVER_PLAIN_TARGET}×); "
        f"XLSX / CSV = {export['xlsx_over_csv']}× (target ≤ {XLSX_OVER_CSV_TARGET}×)"
    )
    lines.append("  checks: " + ", ".join(f"{k} {v}" for k, v in checks.items()))
    return lines


def _summary(result: dict[str, Any]) -> str:
    lines = []
    prepare = result["prepare"]
    lines.append(f"data: {json.dumps(prepare['scale'])} ({'reused' if prepare['reused'] else 'seeded and synced'})")
    lines += _export_lines(result["http_export"])
    for suffix, figures in result["path_session_export"].items():
        lines.append(
            f"path-session learners to {suffix}: {figures['output']} peak RSS {figures['peak_rss_mb']} MB, {figures['mb']} MB"
        )
    for label, part in (("schema as is", result), ("with the proposed indexes", result.get("proposed_indexes", {}))):
        pages = part.get("pages")
        if not pages:
            continue
        lines.append(f"\n== pages, {label}")
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
    parser.add_argument("--no-pages", action="store_true", help="the exports only, not the report pages")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args(argv)
    result = run(**{name: getattr(args, name) for name in DEFAULTS}, pages=not args.no_pages, keep=args.keep)
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.json else _summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
