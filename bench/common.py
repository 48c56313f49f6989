"""What the benchmarks share: scratch databases, the Procfile's processes on free loopback ports,
measured child processes, the machine's facts, and tables.

Nothing here touches a real installation: every database is created for the run (a file in a
scratch folder, or a ``bench_…`` database on a PostgreSQL server) and dropped afterwards, and
every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import html
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
import threading
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


# The product seen from outside: its processes' memory, a signed-in browser -------------------
#: The Procfile's web timeout (``WEB_TIMEOUT``): gunicorn kills a request that takes longer.
WEB_TIMEOUT = 60
SAMPLE_EVERY = 0.1
#: A worker process past this is reported by the sampler (``too_big``); the machine is shared.
RSS_KILL_MB = 6_000
#: Lines of the servers' logs that say something went wrong.
LOG_MARKERS = ("Traceback", "ERROR", "CRITICAL", "WORKER TIMEOUT", "SIGKILL", "MemoryError", "Killed", "timed out")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow the last ")".
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(root: int) -> list[int]:
    """``root`` and every process under it."""
    children, found, todo = _children_map(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _reset_peak(pid: int) -> bool:
    """Reset the process's high-water mark (VmHWM) to its current RSS (Linux 4.0+)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    """Every ``every`` s, the RSS of every process under each root (``{"web": pid,
    "worker": pid}``): per group, the largest process (the master apart), the group's sum, and
    whether a worker process went past ``kill_mb`` (``too_big``: the caller stops it)."""

    def __init__(self, roots: dict[str, int], *, every: float = SAMPLE_EVERY, kill_mb: float = RSS_KILL_MB) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.every, self.kill_mb = every, kill_mb
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.pids: dict[str, list[int]] = {name: descendants(root) for name, root in roots.items()}
        self.window: dict[str, dict[str, Any]] = {}
        self.too_big: tuple[int, float] | None = None
        self.begin()

    def begin(self) -> dict[str, dict[str, Any]]:
        """Start a new window; returns the idle figures at its start (MB)."""
        with self.lock:
            self.pids = {name: descendants(root) for name, root in self.roots.items()}
            idle = {}
            for name, pids in self.pids.items():
                for pid in pids:
                    _reset_peak(pid)
                rss = {pid: (_status_kb(pid, "VmRSS:") or 0) / 1024 for pid in pids}
                children = [v for pid, v in rss.items() if pid != self.roots[name]]
                idle[name] = {
                    "process_mb": round(max(children, default=0), 1),
                    "master_mb": round(rss.get(self.roots[name], 0), 1),
                    "sum_mb": round(sum(rss.values()), 1),
                    "processes": len(pids),
                }
            self.window = {
                name: {"process": 0.0, "master": 0.0, "sum": idle[name]["sum_mb"], "seen": set(pids)}
                for name, pids in self.pids.items()
            }
            self.too_big = None
            return idle

    def run(self) -> None:
        tick = 0
        while not self.stopping.wait(self.every):
            tick += 1
            with self.lock:
                if tick % 5 == 0:
                    self.pids = {name: descendants(root) for name, root in self.roots.items()}
                for name, pids in self.pids.items():
                    total = 0.0
                    window = self.window[name]
                    window["seen"].update(pids)
                    for pid in pids:
                        mb = (_status_kb(pid, "VmRSS:") or 0) / 1024
                        total += mb
                        key = "master" if pid == self.roots[name] else "process"
                        window[key] = max(window[key], mb)
                        if name == "worker" and mb > self.kill_mb and self.too_big is None:
                            self.too_big = (pid, mb)
                    window["sum"] = max(window["sum"], total)

    def end(self) -> dict[str, dict[str, Any]]:
        """The window's peaks (MB): sampled, and from each live process's high-water mark."""
        with self.lock:
            peaks = {}
            for name, root in self.roots.items():
                window = self.window[name]
                alive = set(descendants(root))
                hwm = {pid: (_status_kb(pid, "VmHWM:") or 0) / 1024 for pid in alive}
                children = [mb for pid, mb in hwm.items() if pid != root]
                now = [(_status_kb(pid, "VmRSS:") or 0) / 1024 for pid in alive if pid != root]
                peaks[name] = {
                    "process_mb": round(max(window["process"], *children, 0), 1),
                    "after_process_mb": round(max(now, default=0), 1),
                    "sampled_process_mb": round(window["process"], 1),
                    "master_mb": round(max(window["master"], hwm.get(root, 0)), 1),
                    "sum_mb": round(window["sum"], 1),
                    "gone_pids": sorted(window["seen"] - alive),
                }
            return peaks

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_HX_TOKEN = re.compile(r'"x-csrftoken": "([^"]+)"')


def html_text(fragment: str) -> str:
    """The text a fragment of HTML shows, its whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


class Browser:
    """A ``requests`` session that logs in through the login form and keeps its cookies, as a
    user's browser does."""

    def __init__(self, base_url: str, *, agent: str = "bench") -> None:
        import requests

        self.base = base_url
        self.session = requests.Session()
        self.session.headers["User-Agent"] = agent

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def log_in(self, username: str, password: str) -> None:
        page = self.session.get(self.url("/accounts/login/"), timeout=60)
        token = _TOKEN.search(page.text)
        if page.status_code != 200 or token is None:
            raise RuntimeError(f"the login page answered {page.status_code} without a form")
        answer = self.session.post(
            self.url("/accounts/login/"),
            data={"username": username, "password": password, "csrfmiddlewaretoken": html.unescape(token[1])},
            headers={"Referer": self.url("/accounts/login/")},
            allow_redirects=False,
            timeout=60,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"logging in as {username} failed ({answer.status_code})")

    def form_token(self, path: str) -> str:
        """The CSRF token of the form on the page at ``path``."""
        page = self.session.get(self.url(path), timeout=60)
        token = _TOKEN.search(page.text)
        if page.status_code != 200 or token is None:
            raise RuntimeError(f"{path} answered {page.status_code} without a form")
        return html.unescape(token[1])

    def csrf(self, page_text: str) -> str:
        found = _HX_TOKEN.search(page_text) or _TOKEN.search(page_text)
        return html.unescape(found[1]) if found else self.session.cookies.get("csrftoken", "")


class Servers:
    """The product's ``web`` (``web_workers`` gunicorn workers, the production timeout unless
    told) and ``worker`` (one qcluster) processes, started through deploy/run; the worker
    restartable; a ``Sampler`` of both."""

    def __init__(
        self, env: dict[str, str], folder: Path, *, web_workers: int = 2, web_timeout: int = WEB_TIMEOUT
    ) -> None:
        self.env, self.folder = env, folder
        self.web_workers, self.web_timeout = web_workers, web_timeout
        self.port = free_port()
        self.web = procfile_start(
            "web",
            {
                **env,
                "WEB_BIND": f"127.0.0.1:{self.port}",
                "WEB_CONCURRENCY": str(web_workers),
                "WEB_TIMEOUT": str(web_timeout),
            },
            log=folder / "web.log",
        )
        self.worker = procfile_start("worker", env, log=folder / "worker.log")
        try:
            wait_for_port(self.port, process=self.web, timeout=60, log=folder / "web.log")
            self._wait_for_cluster()
        except BaseException:
            stop(self.worker)
            stop(self.web)
            raise
        self.sampler = Sampler({"web": self.web.pid, "worker": self.worker.pid})
        self.sampler.start()
        self.restarts: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_for_cluster(self, timeout: float = 60) -> None:
        """Until qcluster has its task processes (Q_WORKERS), plus a second for them to poll."""
        wanted = 2 + int(self.env.get("Q_WORKERS", "2"))  # the sentinel's pusher, monitor, workers
        deadline = time.monotonic() + timeout
        while len(descendants(self.worker.pid)) < wanted + 1 and time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(f"the worker did not start:\n{_tail(self.folder / 'worker.log')}")
            time.sleep(0.3)
        time.sleep(1.0)

    def restart_worker(self, why: str | None = None) -> None:
        """A fresh qcluster (``why``: an unplanned restart, reported)."""
        stop(self.worker)
        if why:
            self.restarts.append(why)
        self.worker = procfile_start("worker", self.env, log=self.folder / "worker.log")
        self._wait_for_cluster()
        self.sampler.roots["worker"] = self.worker.pid

    def close(self) -> None:
        self.sampler.stop()
        stop(self.worker)
        stop(self.web)


def log_offsets(folder: Path) -> dict[str, int]:
    return {
        name: (folder / name).stat().st_size if (folder / name).exists() else 0 for name in ("web.log", "worker.log")
    }


def log_news(folder: Path, offsets: dict[str, int]) -> list[str]:
    """Lines of the servers' logs written since ``offsets`` that say something went wrong."""
    found = []
    for name, offset in offsets.items():
        try:
            with (folder / name).open("rb") as fh:
                fh.seek(offset)
                text = fh.read().decode(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if any(marker in line for marker in LOG_MARKERS) or line.startswith(("Error", "Exception")):
                found.append(f"{name}: {line.strip()[:300]}")
    return found[:20]


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
