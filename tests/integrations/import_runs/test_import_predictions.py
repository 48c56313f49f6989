"""The semantic dry run: every row's predicted effect equals what 360Learning then did."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from integrations.services import import_runs
from integrations.services.import_execution import import_run_execute
from integrations.services.import_predictions import (
    ATTEMPT_CREATED,
    ATTEMPT_UPDATED,
    CANNOT_PREDICT_LEARNER,
    COMPLETES,
    COURSE_CREATED,
    COURSE_UPDATED,
    REFUSED_COMPLETED,
    REFUSED_UNKNOWN_USER,
    import_run_prediction_report,
)
from tests.integrations.import_runs.conftest import csv_upload, stats_rows, upload_and_read

pytestmark = pytest.mark.django_db(transaction=True)


def _csv(header, rows, name):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def _run(alice, integration, kind, upload):
    run = import_runs.import_run_prepare(actor=alice, integration=integration, kind=kind, uploaded=upload)
    predicted = {r.source_line: r.prediction["effect"] for r in run.records.exclude(status="invalid")}
    run = import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run, predicted


COURSE_HEADER = ["externalId", "name", "defaultLang", "launchUrl"]


def _course(external_id):
    return [external_id, f"Course {external_id}", "en", f"https://courses.example.org/{external_id}"]


def test_every_predicted_effect_equals_the_actual_outcome(alice, connection_360, integration):
    from lms_cache.models import CourseAttempt, LmsUser

    call_command("sync_lms", "all", "--connection", connection_360.name)

    # Courses: two new ones, then a file that updates one and creates another.
    first, predicted = _run(
        alice, integration, "courses", _csv(COURSE_HEADER, [_course("P-1"), _course("P-2")], "c1.csv")
    )
    assert predicted == {2: COURSE_CREATED, 3: COURSE_CREATED}
    assert first.succeeded_records == 2
    second, predicted = _run(
        alice, integration, "courses", _csv(COURSE_HEADER, [_course("P-1"), _course("P-3")], "c2.csv")
    )
    assert predicted == {2: COURSE_UPDATED, 3: COURSE_CREATED}
    report = import_run_prediction_report(run=second)
    assert (report.matched, report.mismatched) == (2, 0), report.mismatches

    # Stats: a new attempt, then an update of it in the same file; an update of an open attempt
    # the LMS already had; a forced new attempt; an unknown learner; a refused overlap.
    learner = LmsUser.objects.current().filter(status="active").exclude(mail="").order_by("remote_id").first()
    open_attempt = (
        CourseAttempt.objects.current()
        .filter(completed_at__isnull=True, user__status="active")
        .exclude(first_activity_at=None)
        .order_by("remote_id")
        .first()
    )
    open_user = LmsUser.objects.get(connection=connection_360, remote_id=open_attempt.user_remote_id)
    completed = (
        CourseAttempt.objects.current()
        .filter(completed_at__isnull=False, user__status="active")
        .exclude(user_remote_id=open_attempt.user_remote_id)
        .order_by("remote_id")
    )
    done = next(
        a
        for a in completed
        if not CourseAttempt.objects.current()
        .filter(user_remote_id=a.user_remote_id, course_remote_id=a.course_remote_id, completed_at__isnull=True)
        .exists()
    )
    done_user = LmsUser.objects.get(connection=connection_360, remote_id=done.user_remote_id)

    def iso(value):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")

    header = [
        "courseExternalId",
        "courseId",
        "userMail",
        "progress",
        "timeSpent",
        "firstActivityAt",
        "lastActivityAt",
        "forceNew",
    ]
    rows = [
        ["P-1", "", learner.mail, "40", "60000", "2025-05-01T10:00:00Z", "2025-05-01T11:00:00Z", "false"],
        ["P-1", "", learner.mail, "100", "90000", "2025-05-01T10:30:00Z", "2025-05-01T12:00:00Z", "false"],
        [
            "",
            open_attempt.course_remote_id,
            open_user.mail,
            "60",
            "120000",
            iso(open_attempt.first_activity_at),
            iso(open_attempt.last_activity_at),
            "false",
        ],
        ["P-3", "", learner.mail, "10", "1000", "2025-05-02T10:00:00Z", "2025-05-02T10:10:00Z", "true"],
        ["P-3", "", "nobody@nowhere.example", "10", "1000", "2025-05-02T10:00:00Z", "2025-05-02T10:10:00Z", "false"],
        [
            "",
            done.course_remote_id,
            done_user.mail,
            "50",
            "1000",
            iso(done.first_activity_at),
            iso(done.first_activity_at),
            "false",
        ],
    ]
    stats, predicted = _run(alice, integration, "stats", _csv(header, rows, "stats.csv"))
    assert predicted == {
        2: ATTEMPT_CREATED,
        3: ATTEMPT_UPDATED + COMPLETES,
        4: ATTEMPT_UPDATED,
        5: ATTEMPT_CREATED,
        6: REFUSED_UNKNOWN_USER,
        7: REFUSED_COMPLETED,
    }
    report = import_run_prediction_report(run=stats)
    assert (report.matched, report.mismatched, report.pending) == (6, 0, 0), report.mismatches
    assert (stats.succeeded_records, stats.failed_records) == (4, 2)


def test_the_preview_counts_predicted_effects_and_the_run_page_compares(
    admin_client, alice, connection_360, integration
):
    call_command("sync_lms", "users", "--connection", connection_360.name)
    upload = _csv(COURSE_HEADER, [_course("Q-1"), _course("Q-2")], "q.csv")
    upload_and_read(admin_client, integration, upload, kind="courses")
    from integrations.models import ImportRun

    run = ImportRun.objects.get()
    preview = admin_client.get(f"/imports/{run.pk}/").content.decode()
    assert "What 360Learning will do" in preview and "Course created" in preview
    admin_client.post(f"/imports/{run.pk}/launch/")
    assert import_run_execute(run_id=run.pk)
    page = admin_client.get(f"/imports/{run.pk}/").content.decode()
    assert "<strong>2</strong> rows did what the preview predicted; <strong>0</strong> did not." in page


def test_learners_never_synced_are_looked_up_in_360learning_not_predicted_refused(
    admin_client, alice, connection_360, integration, learners
):
    from integrations.models import SyncRun
    from sandbox.selectors import request_log_list

    # Issue 17's broken path: learners never synced, five valid rows were all "refused: unknown learner".
    call_command("sync_lms", "courses", "--connection", connection_360.name)
    assert not SyncRun.objects.filter(kind="users").exists()
    rows = stats_rows(learners, 5)
    rows[4][1] = "nobody@nowhere.example"
    run, predicted = _run(alice, integration, "stats", csv_upload(rows))
    assert run.learners_looked_up == len({r[1].lower() for r in rows})
    assert request_log_list(method="GET", path_prefix="/api/v2/users").exists()
    assert [predicted[line] for line in sorted(predicted)] == [
        *(ATTEMPT_CREATED + (COMPLETES if r[2] == "100" else "") for r in rows[:4]),
        REFUSED_UNKNOWN_USER,  # asked, and 360Learning has no such learner
    ]
    report = import_run_prediction_report(run=run)
    assert (report.matched, report.mismatched) == (5, 0)


def test_a_learner_that_cannot_be_looked_up_is_cannot_predict_with_a_way_to_sync(
    admin_client, alice, integration, learners, monkeypatch
):
    from integrations.clients.errors import RemoteUnavailable
    from integrations.services import import_preparation

    def unreachable(self, mails):
        raise RemoteUnavailable("360Learning is down")

    monkeypatch.setattr(import_preparation._LiveLearners, "__call__", unreachable)
    run = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 3))
    )
    assert run.predicted_effects == {CANNOT_PREDICT_LEARNER: 3}
    page = admin_client.get(f"/imports/{run.pk}/").content.decode()
    assert "LMS Admin cannot predict what 360Learning will do" in page and "Sync this connection now" in page
