from __future__ import annotations

import os
import subprocess
import sys

from tests.support.processes import ROOT

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-like-secret-key-with-enough-length-and-entropy-9f8e7d6c5b4a",
    "ALLOWED_HOSTS": "lms.example.org",
    "FIELD_ENCRYPTION_KEY": "u1Bq0x2m4Qx0QYp0b8v3Q8h9bRr7bqk2mG2n7cV0fWw=",
}
DROPPED = (
    "LMS_INSECURE_HTTP",
    "LMS_PLAIN_STATIC",
    "SANDBOX_ENABLED",
    "LMS_ALLOW_LOOPBACK",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in DROPPED and k not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_reports_no_issues_with_production_env():
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_it_rejects_a_malformed_boolean_setting():
    result = _manage("check", env={**PRODUCTION_ENV, "SANDBOX_ENABLED": "maybe"})
    assert result.returncode != 0
    assert "SANDBOX_ENABLED must be one of" in result.stderr


def test_sandbox_urls_are_absent_when_the_sandbox_is_off():
    code = "from django.urls import resolve, Resolver404\ntry:\n    resolve('/sandbox/360/api/v2/users')\n    print('mounted')\nexcept Resolver404:\n    print('absent')"
    result = _manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.strip() == "absent", result.stderr


def test_login_throttling_is_set_from_the_environment():
    code = "from django.conf import settings\nprint(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds())"
    env = {**PRODUCTION_ENV, "LOGIN_FAILURE_LIMIT": "8", "LOGIN_COOLOFF_MINUTES": "30"}
    result = _manage("shell", "--no-imports", "-c", code, env=env)
    assert result.stdout.strip() == "8 1800.0", result.stderr


def test_it_rejects_a_login_failure_limit_of_zero():
    result = _manage("check", env={**PRODUCTION_ENV, "LOGIN_FAILURE_LIMIT": "0"})
    assert result.returncode != 0
    assert "LOGIN_FAILURE_LIMIT must be at least 1" in result.stderr
