"""Benchmark: report pages under concurrent load, on SQLite and on PostgreSQL + Redis.

    python -m bench.load [--users N] [--session-learners N] [--sessions N] [--clients N]
                         [--seconds S] [--web-workers N] [--only sqlite|postgres]
                         [--reuse DIR] [--keep DIR]

The production shape, started from the Procfile (``deploy/run``), in a scratch folder:

1. The *LMS*: the embedded sandbox in its own SQLite database (``release``, ``seed_sandbox``:
   default 100k users and sessions of 100k learners each), served by the ``web`` process.
   With ``--reuse DIR`` (``python -m bench`` hands over bench/export.py's data set), the LMS
   and the SQLite product found there are used as they are: no seeding, no SQLite sync.
2. For each database, the *product*: a new database (a SQLite file; a ``bench_…`` database on
   the PostgreSQL server, with Redis as broker and cache), prepared by ``release``, connected to
   the LMS (``add_connection``) and filled by a real sync of what the pages read (users, paths,
   sessions with their learners) executed by the ``worker`` process.
3. The product's ``web`` process (``--web-workers`` gunicorn workers, default 2 x cores + 1)
   answers a loopback load client: ``--clients`` threads (default 20), each request on a fresh
   connection as a browser behind a proxy would, for ``--seconds`` (bounded in requests too),
   logged in as a manager. Pages: the sessions overview and the path-session page of the
   largest session, each against two baselines from the same run and server: the login page
   under the same load (what any request costs here: the floor), and the same page with one
   client (latency without queueing). The pages' SQL query counts come from an in-process
   request. On PostgreSQL the tables are first settled (``VACUUM ANALYZE``, as autovacuum does
   within minutes of a sync), and both pages are measured once more, with one client, after
   creating ``PROPOSED_INDEX``.

``run(**scale)`` returns every figure (for ``python -m bench``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import threading
import time
from contextlib import ExitStack
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench import common

DEFAULTS = {"users": 100_000, "session_learners": 100_000, "sessions": 2, "attempts": 20_000, "courses": 100}
CLIENTS = 20
SECONDS = 15.0
MAX_REQUESTS = 3_000  # per measurement, so a very fast page cannot make the run long
SEQUENTIAL_REQUESTS = 20
MANAGER = ("bench-manager", "bench-manager-password-4242")
CONNECTION = "Bench LMS"
#: What the two pages read: learners and their groups, paths, sessions (no course attempts).
SYNC_KINDS = ("users", "paths", "sessions")
#: After a sync, PostgreSQL's autovacuum analyzes the tables and sets their visibility map within
#: minutes; the pages are measured in that steady state, not in the minutes right after a bulk write.
SETTLE = "VACUUM ANALYZE"
#: The index this benchmark argues for (bench/RESULTS.md, notes): the path-session
#: breakdown and the overview's status counts read only these columns of the current learners,
#: so PostgreSQL answers them with an index-only scan. Measured on PostgreSQL as a last step.
PROPOSED_INDEX = (
    "CREATE INDEX IF NOT EXISTS bench_userstat_breakdown ON reports_pathsessionuserstat "
    "(session_id, status_type, status_reason) INCLUDE (has_certificate, id) WHERE gone_at IS NULL"
)
#: The files of a prepared data set another benchmark may hand over (``reuse``): an LMS seeded
#: at scale, a SQLite product synced from it (bench/export.py leaves these in its ``keep`` folder).
REUSED_LMS, REUSED_PRODUCT = "lms.sqlite3", "product.sqlite3"
PAGES = ("floor", "overview", "path_session")
PAGE_LABELS = {
    "floor": "login page (floor)",
    "overview": "sessions overview",
    "path_session": "path-session page",
}


# The load client ------------------------------------------------------------------------------
class Client:
    """A minimal HTTP/1.1 client for 127.0.0.1 only: one connection per request, cookies kept."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise ValueError("the load client talks to 127.0.0.1 only")
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, body: str | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            content = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(value)
                self.cookies.update({k: m.value for k, m in cookie.items()})
            return response.status, response.headers, content
        finally:
            connection.close()

    def log_in(self, username: str, password: str) -> None:
        status, _, content = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or token is None:
            raise RuntimeError(f"the login page answered {status} without a form")
        status, headers, _ = self.request(
            "POST",
            "/accounts/login/",
            body=urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token[1].decode()}),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{self.port}/"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"logging in as {username} failed ({status})")


def measure(
    client: Client, path: str, *, clients: int, seconds: float, max_requests: int, expect: bytes | None = None
) -> dict[str, Any]:
    """``clients`` threads request ``path`` until ``seconds`` pass or ``max_requests`` are sent.

    Returns requests/s, latency percentiles (ms) and the count of failed answers (not 200, or
    missing ``expect``)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    sent = [0]
    began = time.monotonic()
    deadline = began + seconds

    def worker() -> None:
        own = Client(f"http://127.0.0.1:{client.port}")
        own.cookies = dict(client.cookies)
        while True:
            with lock:
                if sent[0] >= max_requests or time.monotonic() >= deadline:
                    return
                sent[0] += 1
            start = time.monotonic()
            try:
                status, _, content = own.request("GET", path)
                ok = status == 200 and (expect is None or expect in content)
                problem = "" if ok else f"{status}"
            except OSError as error:
                problem = type(error).__name__
            elapsed = time.monotonic() - start
            with lock:
                if problem:
                    failures.append(problem)
                else:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    return {
        "clients": clients,
        "requests": len(latencies),
        "failures": len(failures),
        "failure_kinds": sorted(set(failures))[:5],
        "seconds": round(wall, 2),
        "rps": round(len(latencies) / wall, 2) if wall else 0.0,
        **percentiles(latencies),
    }


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(latencies)

    def at(q: float) -> float:
        # Nearest rank: the smallest latency with at least q of the requests at or under it.
        return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))] * 1000

    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(at(0.95), 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


# Child measurements (Django set up on a product database) ----------------------------------
def _child_main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_admin.settings")
    django.setup()
    what, *rest = argv
    answers = {"sync": _child_sync, "prepare": _child_prepare, "queries": _child_queries, "sql": _child_sql}
    if what not in answers:
        raise SystemExit(f"unknown child measurement {what!r}")
    sys.stdout.write(json.dumps(answers[what](*rest)) + "\n")
    return 0


def _child_sync(kinds: str = ",".join(SYNC_KINDS), timeout: str = "3600") -> dict[str, Any]:
    """Queue a full sync of ``kinds`` (as "Sync now" does) and wait for the worker to finish it."""
    from integrations.models import Connection, SyncState
    from integrations.sync import services

    connection = Connection.objects.get(name=CONNECTION)
    began = time.monotonic()
    runs = services.sync_run_launch(connection=connection, kinds=kinds.split(","), full_refresh=True)
    deadline = began + float(timeout)
    while True:
        for run in runs:
            run.refresh_from_db()
        if all(run.state in (SyncState.COMPLETED, SyncState.FAILED) for run in runs):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"the sync did not finish in {timeout} s: {[(r.kind, r.state) for r in runs]}")
        time.sleep(0.5)
    failed = {run.kind: run.error for run in runs if run.state != SyncState.COMPLETED}
    if failed:
        raise SystemExit(f"sync failed: {failed}")
    return {
        "seconds": round(time.monotonic() - began, 1),
        "kinds": {
            run.kind: {
                "seconds": round((run.ended_at - run.started_at).total_seconds(), 1),
                "rows": run.rows_inserted + run.rows_updated,
                "pages": run.pages,
            }
            for run in runs
        },
    }


def _child_prepare() -> dict[str, Any]:
    """A manager to log in as, and the largest session (the page the target is about)."""
    from django.contrib.auth.models import Group, User
    from django.urls import NoReverseMatch, reverse

    from lms_admin.roles import MANAGER_GROUP
    from lms_cache.models import PathSession, PathSessionUserStat
    from reports.models import ManagerScope

    user, _ = User.objects.get_or_create(username=MANAGER[0], defaults={"email": "manager@bench.example"})
    user.set_password(MANAGER[1])
    user.save()
    user.groups.add(Group.objects.get_or_create(name=MANAGER_GROUP)[0])
    # A manager who sees every learner: the pages at full size (a scope only narrows them).
    ManagerScope.objects.get_or_create(user=user, defaults={"every_learner": True})
    session = PathSession.objects.order_by("-enrolled_count", "pk").first()
    if session is None:
        raise SystemExit("the sync cached no path session")
    paths = {}
    for name, url_name, args in (
        ("overview", "pathsession-list", []),
        ("path_session", "pathsession-detail", [session.pk]),
    ):
        try:
            paths[name] = reverse(url_name, args=args)
        except NoReverseMatch:  # the reports pages are not built (yet): measure what exists
            paths[name] = None
    return {
        "paths": paths,
        "session_pk": session.pk,
        "session_name": session.name,
        "enrolled": session.enrolled_count,
        "learner_rows": PathSessionUserStat.objects.filter(session=session).count(),
        "sessions": PathSession.objects.count(),
    }


def _child_queries(*paths: str) -> dict[str, Any]:
    """SQL queries and in-process time of one request to each path (after one warm-up)."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=MANAGER[0]))
    answers = {}
    for path in paths:
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            began = time.monotonic()
            response = client.get(path)
            elapsed = time.monotonic() - began
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code} in process")
        answers[path] = {
            "status": response.status_code,
            "queries": len(queries.captured_queries),
            "in_process_ms": round(elapsed * 1000, 1),
            "bytes": len(response.content),
        }
    return answers


def _child_sql(statement: str) -> dict[str, Any]:
    """Run one maintenance statement (``VACUUM ANALYZE``, ``CREATE INDEX``) in autocommit."""
    from django.db import connection

    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(statement)
    return {"statement": statement, "seconds": round(time.monotonic() - began, 1)}


def _child(env: dict[str, str], folder: Path, *args: str, timeout: float = 3600) -> dict[str, Any]:
    result = common.measured(
        [sys.executable, "-m", "bench.load", "--child", *args], env, folder=folder, timeout=timeout
    )
    answer = json.loads(result["stdout"].strip().splitlines()[-1])
    answer["_peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    return answer


# The benchmark --------------------------------------------------------------------------------
def _measure_pages(
    env: dict[str, str],
    folder: Path,
    *,
    session: dict,
    workers: int,
    clients: int,
    seconds: float,
    proposed_index: bool = False,
) -> dict[str, Any]:
    paths = {"floor": "/accounts/login/", **{k: v for k, v in session["paths"].items() if v}}
    queries = _child(env, folder, "queries", *list(paths.values())[1:])
    pages: dict[str, Any] = {}
    with common.web_server(env, workers=workers, log=folder / "web.log") as url:
        client = Client(url)
        client.log_in(*MANAGER)
        for name, path in paths.items():
            expect = b"</html>"
            for _ in range(2):  # warm-up: imports, template loading, connection set-up in every worker
                client.request("GET", path)
            measure(client, path, clients=workers, seconds=5, max_requests=workers * 2, expect=expect)
            one = measure(client, path, clients=1, seconds=60, max_requests=SEQUENTIAL_REQUESTS, expect=expect)
            many = measure(client, path, clients=clients, seconds=seconds, max_requests=MAX_REQUESTS, expect=expect)
            pages[name] = {"path": path, "sequential": one, "loaded": many, **queries.get(path, {})}
        if proposed_index:
            created = _child(env, folder, "sql", PROPOSED_INDEX)
            _child(env, folder, "sql", f"{SETTLE} reports_pathsessionuserstat")
            report_paths = {name: path for name, path in paths.items() if name != "floor"}
            queries = _child(env, folder, "queries", *report_paths.values())
            for name, path in report_paths.items():
                client.request("GET", path)
                one = measure(client, path, clients=1, seconds=60, max_requests=SEQUENTIAL_REQUESTS, expect=b"</html>")
                pages[name]["with_proposed_index"] = {
                    "sequential": one,
                    "index_seconds": created["seconds"],
                    **queries.get(path, {}),
                }
    return pages


def _product(
    stack: ExitStack,
    kind: str,
    folder: Path,
    lms_url: str,
    *,
    postgres_url: str,
    redis_url: str | None,
    reused: Path | None,
) -> dict[str, Any]:
    """Create, prepare (``release``) and fill (``worker`` sync) one product database; with
    ``reused``, the SQLite product is the one found there, already synced."""
    product = folder / kind
    product.mkdir()
    if kind == "sqlite":
        database = reused / REUSED_PRODUCT if reused else product / "product.sqlite3"
        env = common.product_env(product, common.sqlite_url(database), DB_CONN_MAX_AGE="60")
    else:
        database_url = stack.enter_context(common.scratch_postgres(postgres_url, label="load"))
        env = common.product_env(product, database_url, redis_url=redis_url, DB_CONN_MAX_AGE="60")
    info: dict[str, Any] = {"broker": "redis" if env.get("REDIS_URL") else "orm"}
    info["release_seconds"] = round(common.procfile_run("release", env, log=product / "release.log"), 1)
    if kind == "sqlite" and reused:
        info["sync"] = {"reused": str(reused / REUSED_PRODUCT)}
        info["session"] = _child(env, product, "prepare")
        info["env"] = env
        return info
    common.manage(
        env, "add_connection", CONNECTION, "--provider", "360learning", "--base-url", f"{lms_url}/sandbox/360",
        "--client-id", "sandbox-client", "--client-secret", "sandbox-secret",
        "--company-id", "sandbox-company", "--api-key", "sandbox-api-key",
    )  # fmt: skip
    worker = common.procfile_start("worker", env, log=product / "worker.log")
    try:
        info["sync"] = _child(env, product, "sync")
    finally:
        common.stop(worker)
    if kind == "postgres":
        info["settle"] = _child(env, product, "sql", SETTLE)
    info["session"] = _child(env, product, "prepare")
    info["env"] = env
    return info


def run(
    *,
    users: int = DEFAULTS["users"],
    session_learners: int = DEFAULTS["session_learners"],
    sessions: int = DEFAULTS["sessions"],
    attempts: int = DEFAULTS["attempts"],
    courses: int = DEFAULTS["courses"],
    clients: int = CLIENTS,
    seconds: float = SECONDS,
    web_workers: int | None = None,
    databases: tuple[str, ...] = ("sqlite", "postgres"),
    postgres_url: str = common.DEFAULT_POSTGRES_URL,
    redis_url: str = common.DEFAULT_REDIS_URL,
    keep: str | None = None,
    reuse: str | None = None,
) -> dict[str, Any]:
    """Seed, sync, serve, load (see the module docstring). Returns, per database, the sync,
    the largest session and, per page, ``sequential`` and ``loaded`` figures and ``queries``;
    a database that cannot be reached is ``{"skipped": reason}``.

    ``reuse``: a folder holding an LMS seeded at scale and a SQLite product synced from it
    (``REUSED_LMS``, ``REUSED_PRODUCT``): no seeding, no SQLite sync; the scale is theirs.
    """
    reused = Path(reuse) if reuse else None
    if reused and not all((reused / name).exists() for name in (REUSED_LMS, REUSED_PRODUCT)):
        reused = None  # what was to be handed over is not there: seed our own
    workers = web_workers or 2 * (os.cpu_count() or 1) + 1
    folder = Path(keep) if keep else common.scratch_folder("load")
    folder.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "scale": {"users": users, "session_learners": session_learners, "sessions": sessions, "attempts": attempts},
        "web_workers": workers,
        "clients": clients,
        "seconds": seconds,
        "procfile": {name: common.procfile_commands()[name] for name in ("web", "worker", "release")},
        "reused": str(reused) if reused else None,
        "databases": {},
    }
    try:
        with ExitStack() as stack:
            lms = folder / "lms"
            lms.mkdir(exist_ok=True)
            lms_env = common.product_env(lms, common.sqlite_url((reused or lms) / REUSED_LMS))
            if reused:
                # Migrated already; the LMS answers the API only, no page needs collected static files.
                lms_env["LMS_PLAIN_STATIC"] = "1"
            else:
                common.procfile_run("release", lms_env, log=lms / "release.log")
                began = time.monotonic()
                common.manage(
                    lms_env, "seed_sandbox", f"--users={users}", f"--sessions={sessions}", f"--paths={max(1, sessions)}",
                    f"--session-size={min(session_learners, users)}", f"--courses={courses}", f"--attempts={attempts}",
                    "--ispring-results=1000",
                )  # fmt: skip
                result["seed_seconds"] = round(time.monotonic() - began, 1)
            products: dict[str, dict[str, Any]] = {}
            with common.web_server(lms_env, workers=2, log=lms / "web.log") as lms_url:
                for kind in databases:
                    redis = common.redis_scratch_url(redis_url) if kind == "postgres" else None
                    if kind == "postgres" and common.postgres_version(postgres_url) is None:
                        result["databases"][kind] = {"skipped": f"PostgreSQL unreachable at {postgres_url}"}
                        continue
                    products[kind] = _product(
                        stack, kind, folder, lms_url, postgres_url=postgres_url, redis_url=redis, reused=reused
                    )
            # The LMS is stopped: the product's web process has the machine to itself.
            for kind, info in products.items():
                env = info.pop("env")
                info["pages"] = _measure_pages(
                    env,
                    folder / kind,
                    session=info["session"],
                    workers=workers,
                    clients=clients,
                    seconds=seconds,
                    proposed_index=kind == "postgres",
                )
                result["databases"][kind] = info
    finally:
        if not keep:
            common.remove(folder)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value, help=f"default {value:,}")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"concurrent clients (default {CLIENTS})")
    parser.add_argument("--seconds", type=float, default=SECONDS, help=f"per loaded measurement (default {SECONDS})")
    parser.add_argument("--web-workers", type=int, default=None, help="gunicorn workers (default 2 x cores + 1)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    parser.add_argument("--postgres-url", default=common.DEFAULT_POSTGRES_URL, help="server for scratch databases")
    parser.add_argument("--redis-url", default=common.DEFAULT_REDIS_URL, help="Redis for the PostgreSQL run")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    parser.add_argument("--reuse", metavar="DIR", help=f"DIR/{REUSED_LMS} and DIR/{REUSED_PRODUCT} instead of seeding")
    args = parser.parse_args(argv)
    result = run(
        **{name: getattr(args, name) for name in DEFAULTS},
        clients=args.clients,
        seconds=args.seconds,
        web_workers=args.web_workers,
        databases=(args.only,) if args.only else ("sqlite", "postgres"),
        postgres_url=args.postgres_url,
        redis_url=args.redis_url,
        keep=args.keep,
        reuse=args.reuse,
    )
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
