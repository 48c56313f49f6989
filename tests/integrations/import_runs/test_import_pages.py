"""The import screens: upload, mapping, preview, launch, progress fragment, CSVs, re-run."""

from __future__ import annotations

import codecs
import csv
import html
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.models import ImportMapping, ImportRun, ImportState, Preparation
from integrations.services import import_runs
from integrations.services.import_execution import import_run_execute
from tests.integrations.import_runs.conftest import (
    csv_upload,
    stats_rows,
    upload_and_read,
    worker_reads_uploaded_files,
)

pytestmark = pytest.mark.django_db(transaction=True)

BAD_VALUES = [  # (column index, bad value, field named in the error)
    (2, "140", "progress"),
    (2, "-3", "progress"),
    (3, "0", "timeSpent"),
    (4, "yesterday", "firstActivityAt"),
    (1, "not-an-email", "userMail"),
]


def _upload(client, integration, upload, kind="stats"):
    return upload_and_read(client, integration, upload, kind=kind)


def test_a_file_with_50_bad_rows_shows_exactly_those_rows_with_line_field_and_reason(
    admin_client, integration, learners
):
    rows = stats_rows(learners, 300)
    bad_lines = {}
    for n in range(50):
        index = n * 6 + 1
        column, value, field = BAD_VALUES[n % len(BAD_VALUES)]
        rows[index][column] = value
        bad_lines[index + 2] = field  # +1 for the header, +1 for 1-based lines
    response = _upload(admin_client, integration, csv_upload(rows))
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{run.pk}/"
    assert (run.total_records, run.invalid_records, run.valid_records) == (300, 50, 250)

    page = admin_client.get(f"/imports/{run.pk}/")
    invalid = list(page.context["invalid"])
    assert {r.source_line: r.field for r in invalid} == bad_lines
    html = page.content.decode()
    assert "progress must be between 0 and 100 (got 140)" in html
    assert "Send the 250 valid records" in html

    csv_response = admin_client.get(f"/imports/{run.pk}/invalid-rows.csv")
    body = b"".join(csv_response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)
    parsed = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert sorted(int(r["line"]) for r in parsed) == sorted(bad_lines)
    assert all(r["reason"] for r in parsed)


def test_headers_that_do_not_match_ask_for_a_mapping_which_is_remembered(admin_client, integration, learners):
    header = ["Course", "Learner e-mail", "Completion %", "Minutes (ms)", "Started", "Last seen", "Grade", "New"]
    response = _upload(admin_client, integration, csv_upload(stats_rows(learners, 5), header=header))
    run = ImportRun.objects.get()
    assert admin_client.get(response["Location"])["Location"] == f"/imports/{run.pk}/mapping/"
    page = admin_client.get(f"/imports/{run.pk}/mapping/")
    assert page.status_code == 200 and "Learner e-mail" in page.content.decode()

    mapping = {
        "field__courseId": "Course",
        "field__userMail": "Learner e-mail",
        "field__progress": "Completion %",
        "field__timeSpent": "Minutes (ms)",
        "field__firstActivityAt": "Started",
        "field__lastActivityAt": "Last seen",
        "field__score": "Grade",
        "field__forceNew": "New",
    }
    response = admin_client.post(f"/imports/{run.pk}/mapping/", mapping)
    assert response["Location"] == f"/imports/{run.pk}/"
    assert worker_reads_uploaded_files() == [run.pk]
    run.refresh_from_db()
    assert (run.valid_records, run.invalid_records) == (5, 0)
    assert ImportMapping.objects.get(integration=integration, kind="stats").mapping["Learner e-mail"] == "userMail"

    # The next file with the same headers goes straight to the preview.
    response = _upload(admin_client, integration, csv_upload(stats_rows(learners, 3), header=header, name="again.csv"))
    again = ImportRun.objects.latest("pk")
    assert response["Location"] == f"/imports/{again.pk}/"
    assert (again.preparation, again.valid_records) == (Preparation.READY, 3)


def test_a_mapping_that_leaves_a_required_field_unmapped_is_refused(admin_client, integration, learners):
    header = ["Course", "Learner e-mail", "Completion %", "Minutes (ms)", "Started", "Last seen", "Grade", "New"]
    _upload(admin_client, integration, csv_upload(stats_rows(learners, 2), header=header))
    run = ImportRun.objects.get()
    response = admin_client.post(
        f"/imports/{run.pk}/mapping/", {"field__courseId": "Course", "field__userMail": "Course"}
    )
    form = response.context["form"]
    assert "The column “Course” is chosen for both courseId and userMail." in form.non_field_errors()


def test_an_unreadable_file_is_refused_with_its_reason_and_nothing_is_kept(admin_client, integration):
    upload = SimpleUploadedFile("stats.json", b'{"not": "an import"', content_type="application/json")
    response = _upload(admin_client, integration, upload)
    run = ImportRun.objects.get()
    assert response["Location"] == f"/imports/{run.pk}/"
    assert run.preparation == Preparation.REFUSED and not run.source_file and not run.records.exists()

    page = admin_client.get(f"/imports/{run.pk}/")
    assert "cannot be imported" in page.content.decode()
    assert html.escape(run.last_error[1:]) in page.content.decode()
    assert page.headers["Cache-Control"] == "no-store"

    dismissed = admin_client.post(f"/imports/{run.pk}/cancel/")
    assert dismissed["Location"] == f"/imports/new/?integration={integration.pk}&kind=stats"
    assert not ImportRun.objects.exists()


def test_the_upload_returns_at_once_and_the_page_shows_the_reading_progress(admin_client, integration, learners):
    upload = csv_upload(stats_rows(learners, 40))
    response = admin_client.post("/imports/new/", {"integration": integration.pk, "kind": "stats", "file": upload})
    run = ImportRun.objects.get()
    assert response["Location"] == f"/imports/{run.pk}/"
    assert (run.preparation, run.total_records, run.records.count()) == (Preparation.READING, 0, 0)

    page = admin_client.get(f"/imports/{run.pk}/")
    assert 'id="read-progress"' in page.content.decode() and "Send the" not in page.content.decode()
    fragment = admin_client.get(f"/imports/{run.pk}/", headers={"HX-Request": "true", "HX-Target": "read-progress"})
    assert fragment.content.decode().lstrip().startswith('<section id="read-progress"')

    assert worker_reads_uploaded_files() == [run.pk]
    done = admin_client.get(f"/imports/{run.pk}/", headers={"HX-Request": "true", "HX-Target": "read-progress"})
    assert done["HX-Redirect"] == f"/imports/{run.pk}/"
    run.refresh_from_db()
    assert (run.preparation, run.total_records, run.rows_read, run.percent_read) == (Preparation.READY, 40, 40, 100)
    assert "Send the 40 valid records" in admin_client.get(f"/imports/{run.pk}/").content.decode()


def test_a_file_over_the_upload_limit_is_refused_while_it_arrives(admin_client, integration, learners, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 2_000
    response = _upload(admin_client, integration, csv_upload(stats_rows(learners, 100)))
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is larger than 0 MB, the largest accepted: split it into several files."
    ]
    assert not ImportRun.objects.exists()


def test_the_same_file_launched_twice_is_one_run(admin_client, alice, integration, learners):
    rows = stats_rows(learners, 12)
    first = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(rows)
    )
    second = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(rows)
    )
    launched = admin_client.post(f"/imports/{first.pk}/launch/")
    assert launched["Location"] == f"/imports/{first.pk}/"
    again = admin_client.post(f"/imports/{second.pk}/launch/")
    assert again["Location"] == f"/imports/{first.pk}/"
    assert list(ImportRun.objects.values_list("pk", flat=True)) == [first.pk]


def test_the_progress_fragment_stops_polling_once_the_run_is_finished(admin_client, alice, integration, learners):
    run = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 4))
    )
    run = import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    htmx = {"HX-Request": "true", "HX-Target": "run-progress"}
    fragment = admin_client.get(f"/imports/{run.pk}/", headers=htmx)
    assert fragment.status_code == 200
    assert 'hx-trigger="every 2s"' in fragment.content.decode() and "<html" not in fragment.content.decode()

    assert import_run_execute(run_id=run.pk)
    done = admin_client.get(f"/imports/{run.pk}/", headers=htmx)
    assert done.status_code == 286
    assert "4</strong> of 4 records done" in done.content.decode()


def test_the_run_page_has_a_bounded_number_of_queries(
    admin_client, alice, integration, learners, django_assert_max_num_queries
):
    run = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 30))
    )
    run = import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    with django_assert_max_num_queries(12):
        admin_client.get(f"/imports/{run.pk}/")


def test_failed_records_can_be_rerun_as_a_linked_run(admin_client, alice, integration, learners):
    rows = stats_rows(learners, 5)
    rows[1][1] = "ghost@nowhere.example"
    run = import_runs.import_run_prepare(actor=alice, integration=integration, kind="stats", uploaded=csv_upload(rows))
    run = import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.failed_records == 1

    errors = b"".join(admin_client.get(f"/imports/{run.pk}/errors.csv").streaming_content).decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(errors)))
    assert [r["line"] for r in parsed] == ["3"] and "ghost@nowhere.example" in parsed[0]["record"]

    response = admin_client.post(f"/imports/{run.pk}/retry/")
    retry = ImportRun.objects.get(retry_of=run)
    assert response["Location"] == f"/imports/{retry.pk}/"
    assert retry.total_records == 1 and retry.state == ImportState.QUEUED
    assert retry.records.get().payload["userIdentifier"]["value"] == "ghost@nowhere.example"


V1_SEED_PAYLOAD = {
    "statistics": [
        {
            "externalId": "SA-00001",
            "mail": None,
            "progress": 100,
            "score": 75,
            "globalTime": 41390,
            "completedAt": "2022-08-25T18:11:55.650Z",
            "firstActivity": "2022-08-25T18:11:14.238Z",
            "lastActivity": "2022-08-25T18:11:55.628Z",
        },
        {"externalId": "SA-00002", "mail": None, "progress": 9, "lastActivity": "2022-08-09T11:30:08.658Z"},
    ]
}


def test_a_v1_stats_payload_converts_and_imports(admin_client, alice, integration, learners):
    from sandbox.models import Course, CourseAttempt, User

    # Two of the integration's external courses, and a learner with no attempt on them yet.
    external = list(
        Course.objects.filter(integration__oid=integration.remote_id)
        .order_by("external_id")[:2]
        .values_list("pk", "external_id")
    )
    busy = CourseAttempt.objects.filter(course_id__in=[pk for pk, _ in external]).values("user_id")
    mail = User.objects.filter(status="active").exclude(pk__in=busy).values_list("mail", flat=True).first()
    payload = json.loads(json.dumps(V1_SEED_PAYLOAD))
    for record, (_, external_id) in zip(payload["statistics"], external, strict=True):
        record["mail"] = mail
        record["externalId"] = external_id
    upload = SimpleUploadedFile("v1-stats.json", json.dumps(payload).encode(), content_type="application/json")
    response = upload_and_read(admin_client, integration, upload, v1_time_spent_ms=60000)
    run = ImportRun.objects.get()
    assert response["Location"] == f"/imports/{run.pk}/"
    assert run.source_format == "json-v1" and (run.valid_records, run.invalid_records) == (2, 0)
    preview = admin_client.get(f"/imports/{run.pk}/").content.decode()
    assert "Converted from the v1 format" in preview and "globalTime" in preview

    second = run.records.get(source_line=2)
    assert second.payload["timeSpent"] == 60000 and second.payload["progress"] == 9
    assert second.payload["firstActivityAt"] == second.payload["lastActivityAt"]

    import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    assert import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert list(run.records.values_list("message", flat=True)) == ["", ""]
    assert (run.succeeded_records, run.failed_records) == (2, 0)


def test_a_draft_never_becomes_the_dashboards_latest_import(admin_client, alice, integration, learners):
    launched = import_runs.import_run_launch(
        actor=alice,
        run=import_runs.import_run_prepare(
            actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 3))
        ),
        enqueue=False,
    )
    draft = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 4), name="new.csv")
    )
    rows = admin_client.get("/").context["rows"]
    assert [row["latest_import"] for row in rows if row["connection"] == integration.connection] == [launched]

    listing = admin_client.get("/imports/").content.decode()
    assert f"/imports/{draft.pk}/" in listing and "Draft (validated, not launched)" in listing
