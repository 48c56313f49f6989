from __future__ import annotations

import csv

import pytest
from django.core.management import CommandError, call_command

from integrations.models import ImportRun
from tests.integrations.import_runs.conftest import STATS_HEADER, stats_rows

pytestmark = pytest.mark.django_db(transaction=True)


def _write(tmp_path, rows, name="stats.csv"):
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(STATS_HEADER)
        writer.writerows(rows)
    return path


def test_a_dry_run_prints_the_report_sends_nothing_and_fails_on_invalid_rows(tmp_path, integration, learners, capsys):
    from sandbox.selectors import request_log_list

    rows = stats_rows(learners, 5)
    rows[3][2] = "140"
    path = _write(tmp_path, rows)
    with pytest.raises(CommandError, match="1 invalid record"):
        call_command("run_import", "stats", str(path), "--integration", integration.remote_id, "--dry-run")
    out = capsys.readouterr().out
    assert "5 record(s) read: 4 valid, 1 invalid." in out
    assert "line 5: progress: progress must be between 0 and 100 (got 140)" in out
    assert "Dry run: nothing was sent." in out
    assert not ImportRun.objects.exists()
    assert not request_log_list(path_prefix="/api/v2/bulk/").exists()


def test_wait_runs_the_import_and_exits_zero_when_every_record_succeeded(tmp_path, integration, learners, capsys):
    path = _write(tmp_path, stats_rows(learners, 8))
    call_command("run_import", "stats", str(path), "--integration", integration.remote_id, "--wait")
    out = capsys.readouterr().out
    run = ImportRun.objects.get()
    assert f"Run {run.pk}" in out
    assert "Completed: 8 succeeded, 0 failed, 0 invalid (not sent)." in out
    assert "Every record succeeded." in out


def test_wait_exits_non_zero_when_the_lms_refuses_a_record(tmp_path, integration, learners, capsys):
    rows = stats_rows(learners, 3)
    rows[0][1] = "ghost@nowhere.example"
    path = _write(tmp_path, rows)
    with pytest.raises(CommandError, match="Not every record succeeded"):
        call_command("run_import", "stats", str(path), "--integration", integration.remote_id, "--wait")
    assert "Completed: 2 succeeded, 1 failed" in capsys.readouterr().out


def test_an_unknown_integration_is_a_clear_error(tmp_path, db):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(CommandError, match="No integration with remote id 0123456789abcdef01234567"):
        call_command("run_import", "stats", str(path), "--integration", "0123456789abcdef01234567")


def test_unmatched_headers_need_a_mapping_on_the_command_line(tmp_path, integration, learners, capsys):
    path = tmp_path / "odd.csv"
    rows = stats_rows(learners, 2)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Course", "Learner", "Pct", "Ms", "Start", "End", "Grade", "New"])
        writer.writerows(rows)
    with pytest.raises(CommandError, match="no column for"):
        call_command("run_import", "stats", str(path), "--integration", integration.remote_id, "--dry-run")
    mapping = '{"Course": "courseId", "Learner": "userMail", "Pct": "progress", "Ms": "timeSpent", "Start": "firstActivityAt", "End": "lastActivityAt"}'
    call_command(
        "run_import", "stats", str(path), "--integration", integration.remote_id, "--dry-run", "--mapping", mapping
    )
    assert "2 record(s) read: 2 valid, 0 invalid." in capsys.readouterr().out


def test_the_same_file_again_minutes_later_needs_send_again(tmp_path, integration, learners, capsys):
    path = _write(tmp_path, stats_rows(learners, 4))
    call_command("run_import", "stats", str(path), "--integration", integration.remote_id, "--wait")
    first = ImportRun.objects.get()
    with pytest.raises(CommandError, match=rf"imported as run #{first.pk} at .*Give --send-again"):
        call_command("run_import", "stats", str(path), "--integration", integration.remote_id, "--wait")
    assert list(ImportRun.objects.values_list("pk", flat=True)) == [first.pk]

    call_command("run_import", "stats", str(path), "--integration", integration.remote_id, "--wait", "--send-again")
    assert ImportRun.objects.count() == 2
    assert "Every record succeeded." in capsys.readouterr().out
