"""Start the Procfile's processes (``deploy/run web|worker|release``) against the test database.

The processes are the ones production runs: the exact Procfile command lines, through the same
script the systemd units call. ``tests.support.processes.stop`` stops them (own process group).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import ROOT, process_env

DEPLOY_RUN = ROOT / "deploy" / "run"


def procfile_start(name: str, *, output: Path | None = None, **env: str) -> subprocess.Popen:
    """``deploy/run NAME`` with this interpreter's environment first on PATH (as the units set it).

    Output goes to ``output`` when given (a long-running process never blocks on a full pipe),
    else to a pipe that ``stop`` reads.
    """
    environment = process_env(**env)
    environment["PATH"] = f"{Path(sys.executable).parent}:{environment.get('PATH', '')}"
    sink = output.open("w") if output else subprocess.PIPE
    return subprocess.Popen(
        [str(DEPLOY_RUN), name],
        cwd=ROOT,
        env=environment,
        stdout=sink,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_all(processes: list[subprocess.Popen], *, timeout: float = 30) -> None:
    """SIGTERM every process group at once (each cluster takes a few seconds to wind down), then
    wait; SIGKILL what is still there after ``timeout``."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
