"""Moving the sandbox's iSpring Learn history into its 360Learning tenant over real HTTP.

The actors: the operator runs ``migrate_ispring`` from the "Sandbox iSpring" connection into the
"Sandbox Academy" integration of "Sandbox 360", after syncing both connections' users and
iSpring's module results (the seed makes some iSpring learners unknown to 360Learning).
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.models import ImportRun, RecordStatus
from integrations.services.import_predictions import actual_effect, prediction_matches
from integrations.services.integrations import integration_pull
from lms_cache.models import CourseAttempt, ModuleResult
from moves.models import HistoryMove, MoveState
from moves.services import NOTHING_TO_SEND, move_stat_rows
from sandbox import models as remote, seeding

pytestmark = pytest.mark.django_db(transaction=True)

ROW = re.compile(r"^  (courses|stats) line (\d+): (.*?)(?: \| (\S+))? \| (predicted|outcome): (.*)$")


@pytest.fixture(autouse=True)
def fast_polling(settings):
    settings.IMPORT_POLL_MIN_SECONDS = 0.05
    settings.IMPORT_POLL_MAX_SECONDS = 0.2
    settings.IMPORT_RECONCILE_GRACE_SECONDS = 3


def _sync(connection, *kinds: str) -> None:
    for kind in kinds:
        call_command("sync_lms", kind, "--connection", connection.name, stdout=StringIO(), stderr=StringIO())


@pytest.fixture
def integration(connection_360, connection_ispring):
    integration_pull(actor=None, connection=connection_360)
    _sync(connection_360, "users")
    _sync(connection_ispring, "users", "module-results")
    return connection_360.integrations.get(external_platform="Sandbox Academy")


def migrate(integration, *flags: str) -> str:
    out = StringIO()
    call_command(
        "migrate_ispring", "--from", "Sandbox iSpring", "--integration", integration.remote_id, *flags, stdout=out
    )
    return out.getvalue()


def _rows(output: str) -> dict[tuple[str, int], tuple[str, str]]:
    """{(file, line): (learner, predicted effect or outcome)} from the command's output."""
    rows = {}
    for line in output.splitlines():
        if match := ROW.match(line):
            rows[(match[1], int(match[2]))] = (match[4] or "", match[6])
    return rows


def _bulk_operations() -> int:
    return remote.BulkOperation.objects.count()


def test_the_real_run_does_what_the_dry_run_predicted_row_by_row_and_a_second_run_sends_nothing(
    integration, connection_360, connection_ispring
):
    dry = migrate(integration, "--dry-run")

    assert "Dry run: nothing was sent." in dry
    assert not HistoryMove.objects.exists() and not ImportRun.objects.exists()
    predicted = _rows(dry)
    assert {effect for (file, _), (_, effect) in predicted.items() if file == "courses"} == {"course created"}
    assert {effect for (file, _), (_, effect) in predicted.items() if file == "stats"} <= {
        "attempt created",
        "attempt created (completed)",
    }
    assert sum(1 for file, _ in predicted if file == "stats") > 10

    real = migrate(integration, "--wait")

    assert "Every sent record succeeded." in real
    outcomes = _rows(real)
    assert outcomes.keys() == predicted.keys()
    for key, (learner, outcome) in outcomes.items():
        assert learner == predicted[key][0]
        assert outcome == f"{predicted[key][1]} (as predicted)", key
    move = HistoryMove.objects.get()
    assert move.state == MoveState.DONE and not move.message
    for run in move.runs:
        assert run.failed_records == 0 and run.succeeded_records == run.valid_records
        for record in run.records.exclude(status=RecordStatus.INVALID):
            assert prediction_matches(record.prediction["effect"], actual_effect(record, run.kind))

    operations = _bulk_operations()
    again = migrate(integration, "--wait")

    assert NOTHING_TO_SEND in again
    assert _bulk_operations() == operations
    second = HistoryMove.objects.latest("pk")
    assert second.state == MoveState.DONE and second.message == NOTHING_TO_SEND
    assert all(run.skipped_records == run.valid_records for run in second.runs)
    assert all(run.state == "completed" and run.ended_at for run in second.runs)


def test_the_migrated_attempts_are_in_360learnings_course_stats(integration, connection_360, connection_ispring):
    migrate(integration, "--wait")
    move = HistoryMove.objects.get()
    sent = {
        (r.payload["courseIdentifier"]["value"], r.payload["userIdentifier"]["value"].lower()): r.payload
        for r in move.stats_run.records.filter(status=RecordStatus.SUCCESS)
    }

    _sync(connection_360, "courses", "course-stats")

    courses = dict(
        move.courses_run.records.filter(status=RecordStatus.SUCCESS).values_list("resource_id", "payload__externalId")
    )
    mails = dict(remote.User.objects.values_list("oid", "mail"))
    attempts = CourseAttempt.objects.filter(connection=connection_360, course_remote_id__in=courses)
    seen = {}
    for attempt in attempts:
        key = (courses[attempt.course_remote_id], mails[attempt.user_remote_id].lower())
        seen[key] = attempt
    assert seen.keys() == sent.keys()
    for key, payload in sent.items():
        attempt = seen[key]
        assert attempt.progress == payload["progress"]
        assert attempt.time_spent_ms == payload["timeSpent"]
        assert (attempt.completed_at is not None) == (payload["progress"] == 100)


def test_learners_360learning_does_not_have_and_courses_never_started_are_left_out_with_line_field_and_reason(
    integration, connection_ispring, sandbox
):
    output = migrate(integration, "--dry-run")

    ispring_only = [
        mail
        for i, mail in enumerate(
            remote.IspringUser.objects.filter(tenant=sandbox.tenant).order_by("pk").values_list("email", flat=True)
        )
        if seeding.ispring_person(i) == seeding.ISPRING_ONLY
    ]
    assert ispring_only
    left = re.findall(r"^  stats line (\d+): (\w+): (.*) \[(.*) \| (.*)\]$", output, re.MULTILINE)
    reasons = {reason for _, _, reason, _, _ in left}
    assert any(f"no 360Learning learner for this e-mail ({mail})" in reasons for mail in ispring_only)
    assert {field for _, field, _, _, _ in left} == {"userMail", "progress"}
    assert all(learner for *_, learner in left)
    # The left-out lines and the sent lines never overlap, and together they are every line.
    sent_lines = {line for (file, line) in _rows(output) if file == "stats"}
    left_lines = {int(line) for line, *_ in left}
    assert not sent_lines & left_lines
    assert sent_lines | left_lines == set(range(2, len(sent_lines) + len(left_lines) + 2))


def test_the_statistics_file_keeps_the_line_of_every_row(integration, connection_ispring):
    from moves.services import move_preview, move_propose

    move = move_preview(actor=None, move=move_propose(actor=None, source=connection_ispring, integration=integration))
    rows = move_stat_rows(move=move)

    by_line = dict(move.stats_run.records.values_list("source_line", "payload__userIdentifier__value"))
    for row in rows:
        if row.values is None:
            assert row.line not in by_line
        else:
            assert by_line[row.line] == row.values["userMail"]
    assert set(move.left_out.values_list("line", flat=True)) == {r.line for r in rows if r.values is None}


def test_it_refuses_unknown_or_wrong_connections_and_integrations_and_an_empty_cache(
    connection_360, connection_ispring
):
    integration_pull(actor=None, connection=connection_360)
    integration = connection_360.integrations.get(external_platform="Sandbox Academy")

    with pytest.raises(CommandError, match="No connection named 'Nowhere'"):
        call_command("migrate_ispring", "--from", "Nowhere", "--integration", integration.remote_id)
    with pytest.raises(CommandError, match="is not an iSpring Learn connection"):
        call_command("migrate_ispring", "--from", "Sandbox 360", "--integration", integration.remote_id)
    with pytest.raises(CommandError, match="No integration with remote id"):
        call_command("migrate_ispring", "--from", "Sandbox iSpring", "--integration", "f" * 24)
    assert not ModuleResult.objects.exists()
    with pytest.raises(CommandError, match="sync module results first"):
        call_command("migrate_ispring", "--from", "Sandbox iSpring", "--integration", integration.remote_id)
