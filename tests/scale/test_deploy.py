"""The documented way to run the product is the way it runs: the Procfile's lines, started by
``deploy/run`` as the systemd units do, serve pages, answer tasks and prepare a database.

The actors: Alice (L&D admin) pings the workers from the system page of the Procfile's web
process.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings
from django.test import Client

from lms_admin.models import WorkerPing
from tests.scale.conftest import DEPLOY_RUN, free_port, procfile_start, stop_all
from tests.support.processes import ROOT, wait_until

UNITS = ROOT / "deploy" / "systemd"
INSTALL_ROOT = "/srv/lms-admin"


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(m.groups() for m in (re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line) for line in lines) if m)


def _exec_start(unit: Path) -> str:
    return next(line.split("=", 1)[1] for line in unit.read_text().splitlines() if line.startswith("ExecStart="))


def test_every_systemd_unit_starts_a_procfile_process_through_deploy_run():
    processes = _procfile()
    assert set(processes) == {"web", "worker", "release"}
    started = {}
    for unit in UNITS.glob("*.service"):
        match = re.fullmatch(rf"{INSTALL_ROOT}/deploy/run (\w+)", _exec_start(unit))
        assert match, f"{unit.name} does not start its process through deploy/run"
        started[match[1]] = unit.name
    assert set(started) == set(processes), "every Procfile process has a unit, and no unit runs anything else"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    for unit in UNITS.glob("*.service"):
        # Installed paths point at this checkout; a template is verified as an instance.
        text = unit.read_text().replace(INSTALL_ROOT, str(ROOT))
        text = text.replace("/etc/lms-admin/env", str(ROOT / "deploy" / "env.example"))
        (tmp_path / unit.name.replace("@.", "@1.")).write_text(text)
    units = sorted(str(path) for path in tmp_path.iterdir())
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if str(tmp_path) in line]
    assert (done.returncode, complaints) == (0, [])


def test_deploy_run_refuses_a_process_the_procfile_does_not_have():
    done = subprocess.run([str(DEPLOY_RUN), "nope"], capture_output=True, text=True, timeout=10, check=False)
    assert done.returncode == 64
    assert "the Procfile has no 'nope' process" in done.stderr


@pytest.mark.slow
def test_the_release_process_prepares_an_empty_database(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    release = procfile_start("release", DATABASE_URL=f"sqlite:///{database}", REDIS_URL="", LMS_VAR_DIR=str(tmp_path))
    output, _ = release.communicate(timeout=180)
    assert release.returncode == 0, output[-3000:]
    with sqlite3.connect(database) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        schedules = {name for (name,) in db.execute("SELECT name FROM django_q_schedule")}
    assert {"django_migrations", "integrations_importrun", "reports_pathsessionuserstat"} <= tables
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache") or "lms_admin_cache" in tables
    assert {"resume-import-runs", "recover-sync-runs"} <= schedules
    assert any((tmp_path / "staticfiles").rglob("*.css"))


@pytest.fixture
def broker_env() -> dict[str, str]:
    """With Redis, a database of its own for these processes' queue (another test file's
    workers may be listening on the default one at the same time)."""
    if not settings.REDIS_URL:
        return {}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return {"REDIS_URL": urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{4 + int(worker or 0) % 4}"))}


@pytest.mark.slow
def test_the_procfile_web_and_worker_answer_a_worker_ping(alice, transactional_db, broker_env, tmp_path):
    port = free_port()
    web = procfile_start(
        "web", output=tmp_path / "web.log", WEB_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", **broker_env
    )
    worker = procfile_start("worker", output=tmp_path / "worker.log", **broker_env)
    try:
        url = f"http://127.0.0.1:{port}"
        signed_in = Client()
        signed_in.force_login(alice)  # a session row both processes read
        browser = requests.Session()
        browser.cookies.set("sessionid", signed_in.cookies["sessionid"].value)
        assert wait_until(lambda: _answers(f"{url}/accounts/login/"), timeout=60), (tmp_path / "web.log").read_text()

        page = browser.get(f"{url}/system/", timeout=10)
        assert page.status_code == 200 and "Ping the worker" in page.text
        sent = browser.post(
            f"{url}/system/worker-pings/",
            headers={"HX-Request": "true", "X-CSRFToken": browser.cookies["csrftoken"]},
            timeout=10,
        )
        assert sent.status_code == 200
        ping = WorkerPing.objects.get()
        assert ping.broker == ("redis" if settings.REDIS_URL else "orm")

        assert wait_until(
            lambda: WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False).exists(), timeout=60
        ), (tmp_path / "worker.log").read_text()[-3000:]
        answer = browser.get(f"{url}/system/worker-pings/{ping.pk}/", headers={"HX-Request": "true"}, timeout=10)
        assert answer.status_code == 286 and "Answered" in answer.text
    finally:
        stop_all([web, worker])
    # WEB_CONCURRENCY reached gunicorn: two web workers served the site.
    assert (tmp_path / "web.log").read_text().count("Booting worker") == 2


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.RequestException:
        return False
