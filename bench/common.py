"""What the benchmarks share: scratch databases, the Procfile's processes on free loopback ports,
measured child processes, the machine's facts, and tables.

Nothing here touches a real installation: every database is created for the run (a file in a
scratch folder, or a ``bench_…`` database on a PostgreSQL server) and dropped afterwards, and
every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEPLOY_RUN = ROOT / "deploy" / "run"
PROCFILE = ROOT / "Procfile"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


# Environments ---------------------------------------------------------------------------------
def product_env(folder: Path, database_url: str, *, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a product process on a scratch database: production settings (DEBUG
    off, manifest static files, secrets from the environment), plus the sandbox and plain HTTP on
    loopback, which the benchmark needs. ``redis_url`` gives the Redis broker and cache."""
    from cryptography.fernet import Fernet

    key_file = folder / "fernet.key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=database_url,
        LMS_VAR_DIR=str(folder),
        SECRET_KEY="bench-only-secret-key-" + uuid.uuid4().hex + uuid.uuid4().hex,
        FIELD_ENCRYPTION_KEY=key_file.read_text().strip(),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SANDBOX_ENABLED="1",
        LMS_ALLOW_LOOPBACK="1",
        LMS_INSECURE_HTTP="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        # The Procfile's commands (gunicorn, python) from this interpreter's environment.
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def scratch_folder(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@contextmanager
def scratch_postgres(admin_url: str = DEFAULT_POSTGRES_URL, *, label: str = "db") -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``admin_url``, dropped afterwards.

    Yields its URL. Raises ``RuntimeError`` when the server cannot be reached.
    """
    import psycopg

    name = f"bench_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        raise RuntimeError(f"PostgreSQL at {_without_password(admin_url)} is unreachable: {error}") from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def postgres_version(admin_url: str = DEFAULT_POSTGRES_URL) -> str | None:
    try:
        import psycopg

        with psycopg.connect(admin_url, connect_timeout=5) as db:
            return db.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001 - a fact for the report, never a failure
        return None


def redis_scratch_url(base_url: str = DEFAULT_REDIS_URL) -> str | None:
    """A Redis database (number 13) for the benchmark's broker and cache, emptied first; None
    when Redis cannot be reached. The benchmark's queue never mixes with a developer's (db 0)."""
    try:
        import redis

        url = urlunsplit(urlsplit(base_url)._replace(path="/13"))
        client = redis.from_url(url, socket_connect_timeout=3)
        client.flushdb()
        return url
    except Exception:  # noqa: BLE001 - Redis is optional: the run says it was skipped
        return None


def _without_password(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


# Processes ------------------------------------------------------------------------------------
def procfile_commands() -> dict[str, str]:
    """The Procfile's process types and command lines (what ``deploy/run NAME`` starts)."""
    commands = {}
    for line in PROCFILE.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if match:
            commands[match[1]] = match[2]
    return commands


def procfile_start(name: str, env: dict[str, str], *, log: Path) -> subprocess.Popen:
    """Start the Procfile's ``name`` process through ``deploy/run`` (as the systemd units do), in
    its own process group, output to ``log``."""
    if name not in procfile_commands():
        raise RuntimeError(f"the Procfile has no {name!r} process")
    with log.open("a") as out:
        return subprocess.Popen(
            [str(DEPLOY_RUN), name],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def procfile_run(name: str, env: dict[str, str], *, log: Path, timeout: float = 600) -> float:
    """Run a one-off Procfile process (``release``) to its end; its wall time. Raises on failure."""
    began = time.monotonic()
    process = procfile_start(name, env, log=log)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise RuntimeError(f"deploy/run {name} took longer than {timeout:.0f} s") from None
    if code:
        raise RuntimeError(f"deploy/run {name} failed ({code}):\n{_tail(log)}")
    return time.monotonic() - began


def stop(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """SIGTERM the process group (gunicorn or qcluster and their children), SIGKILL if it lingers."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def web_server(env: dict[str, str], *, workers: int, log: Path, timeout: float = 60) -> Iterator[str]:
    """The Procfile's ``web`` process with ``workers`` gunicorn workers on a free loopback port;
    yields its base URL once it answers."""
    port = free_port()
    process = procfile_start(
        "web", {**env, "WEB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers), "WEB_TIMEOUT": "600"}, log=log
    )
    try:
        wait_for_port(port, process=process, timeout=timeout, log=log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def wait_for_port(port: int, *, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web process did not start:\n{_tail(log)}") from None
            time.sleep(0.2)


def manage(env: dict[str, str], *args: str, timeout: float = 3600) -> str:
    """``manage.py ARGS`` to its end; its output. Raises ``RuntimeError`` with the output on failure."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args[:2])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def measured(argv: Sequence[str], env: dict[str, str], *, folder: Path, timeout: float = 3600) -> dict[str, Any]:
    """Run a process to its end: wall seconds, its own peak RSS (``wait4``), and its output.

    Output goes to files, never pipes, so a chatty process never blocks."""
    out_path, err_path = folder / "measured.out", folder / "measured.err"
    began = time.monotonic()
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=out, stderr=err)
        deadline = began + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{' '.join(argv[:4])} took longer than {timeout:.0f} s")
            time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - began
    if process.returncode:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({process.returncode}):\n{_tail(err_path)}")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "stdout": out_path.read_text(),
    }


def manage_measured(env: dict[str, str], *args: str, folder: Path) -> dict[str, Any]:
    """``manage.py ARGS`` to its end, measured as ``measured`` does."""
    return measured([sys.executable, "manage.py", *args], env, folder=folder)


def child(module: str, env: dict[str, str], *args: str, folder: Path) -> dict[str, Any]:
    """Run ``python -m MODULE --child ARGS`` (a measurement in its own process); its JSON answer
    (the last line it prints) with its ``process_seconds`` and ``peak_rss_mb``."""
    result = measured([sys.executable, "-m", module, "--child", *args], env, folder=folder)
    answer = json.loads(result["stdout"].strip().splitlines()[-1])
    answer["process_seconds"] = round(result["seconds"], 2)
    answer["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    return answer


@contextmanager
def lms_server(env: dict[str, str], *, workers: int = 2, timeout: float = 60) -> Iterator[str]:
    """The sandbox LMS (``env``'s database) served by gunicorn on a free loopback port; yields
    its base URL once it answers."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "lms_admin.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", str(workers), "--timeout", "600", "--log-level", "warning"]
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_for_port(port, process=process, timeout=timeout, log=Path(os.devnull))
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


# Facts and tables -----------------------------------------------------------------------------
def machine_facts(postgres_url: str | None = DEFAULT_POSTGRES_URL) -> dict[str, str]:
    """What a reader needs to weigh the figures: CPU, cores, memory, versions, date, load."""
    import sqlite3

    import django

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    facts = {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu,
        "Cores": str(os.cpu_count()),
        "RAM": f"{mem_kb / 1_048_576:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": (postgres_version(postgres_url) if postgres_url else None) or "not reachable",
    }
    try:
        import gunicorn

        facts["gunicorn"] = gunicorn.__version__
    except ImportError:
        pass
    return facts


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def other_busy_processes(limit: int = 5) -> list[str]:
    """Processes of other users of the machine using CPU right now (their share skews timings)."""
    try:
        out = subprocess.run(
            ["ps", "-eo", "pid,pcpu,args", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    mine = {os.getpid(), os.getppid()}
    busy = []
    for line in out.splitlines():
        pid, pcpu, args = line.split(None, 2)
        if int(pid) in mine or float(pcpu) < 10 or args.startswith("ps "):
            continue
        busy.append(f"{float(pcpu):.0f}% {args[:80]}")
    return busy[:limit]


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), line, *(fmt.format(*map(str, row)) for row in rows)])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
