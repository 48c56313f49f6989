"""The guided move in the browser's place (Django's test client), against the sandbox over real
HTTP: Alice (L&D admin) chooses the iSpring connection and the integration, renames a course,
previews, sends (twice: a double click), and the worker's part runs in this process."""

from __future__ import annotations

from html import escape
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.services.import_execution import import_run_execute
from integrations.services.integrations import integration_pull
from lms_cache.models import ModuleResult
from moves import tasks
from moves.models import HistoryMove, MoveCourse, MoveState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_polling(settings):
    settings.IMPORT_POLL_MIN_SECONDS = 0.05
    settings.IMPORT_POLL_MAX_SECONDS = 0.2
    settings.IMPORT_RECONCILE_GRACE_SECONDS = 3


@pytest.fixture
def integration(connection_360, connection_ispring):
    integration_pull(actor=None, connection=connection_360)
    for connection, kinds in ((connection_360, ["users"]), (connection_ispring, ["users", "module-results"])):
        for kind in kinds:
            call_command("sync_lms", kind, "--connection", connection.name, stdout=StringIO(), stderr=StringIO())
    return connection_360.integrations.get(external_platform="Sandbox Academy")


def test_an_admin_moves_the_history_through_courses_preview_progress_and_results(
    client, alice, integration, connection_ispring, task_queue
):
    client.force_login(alice)
    page = client.get("/moves/")
    assert page.status_code == 200 and b"Sandbox iSpring" in page.content

    response = client.post(
        "/moves/", {"source": connection_ispring.pk, "integration": integration.pk, "default_lang": "en"}
    )
    move = HistoryMove.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/moves/{move.pk}/"
    courses = list(move.courses.all())
    page = client.get(f"/moves/{move.pk}/")
    assert all(escape(c.proposed_name) in page.content.decode() for c in courses)

    # Rename the first course, leave the last out, and preview.
    form = {}
    for course in courses:
        form[f"name-{course.pk}"] = course.name
        form[f"url-{course.pk}"] = "https://learn.example.com/"
        if course != courses[-1]:
            form[f"include-{course.pk}"] = "on"
    form[f"name-{courses[0].pk}"] = "Renamed by Alice"
    response = client.post(f"/moves/{move.pk}/", form)
    assert client.post(f"/moves/{move.pk}/", form).status_code == 200  # a double click: the same preparing page
    assert response.status_code == 302
    move.refresh_from_db()
    # The preview grows with the cache: the worker prepares it while the page follows along.
    assert move.state == MoveState.PREVIEWING and task_queue.queue_size() == 1
    waiting = client.get(f"/moves/{move.pk}/", headers={"HX-Request": "true", "HX-Target": "move-previewing"})
    assert b"Preparing the preview" in waiting.content and b"<progress" in waiting.content
    assert tasks.move_preview(move.pk) == MoveState.PREVIEWED
    ready = client.get(f"/moves/{move.pk}/", headers={"HX-Request": "true", "HX-Target": "move-previewing"})
    assert ready.headers["HX-Refresh"] == "true"
    move.refresh_from_db()
    assert move.state == MoveState.PREVIEWED and move.course_rows == len(courses) - 1
    task_queue.purge_queue()
    names = [r.payload["name"] for r in move.courses_run.records.all()]
    assert "Renamed by Alice" in names and courses[-1].name not in names
    assert all(r.payload["launchUrl"] == "https://learn.example.com/" for r in move.courses_run.records.all())
    preview = client.get(f"/moves/{move.pk}/").content.decode()
    assert "Preview: what 360Learning will do" in preview and "Course created" in preview
    assert "No 360Learning learner for this e-mail (" in preview
    assert f"/imports/{move.stats_run_id}/" in preview

    # Send, twice (a double click): one launch.
    assert client.post(f"/moves/{move.pk}/launch/").status_code == 302
    assert client.post(f"/moves/{move.pk}/launch/").status_code == 302
    move.refresh_from_db()
    assert move.state == MoveState.SENDING_COURSES
    progress = client.get(f"/moves/{move.pk}/", headers={"HX-Request": "true", "HX-Target": "move-progress"})
    assert (
        progress.status_code == 200
        and b"<progress" in progress.content
        and b"Send to 360Learning" not in (progress.content)
    )

    # The worker: the courses import, then (after its signal's task) the statistics import.
    assert import_run_execute(run_id=move.courses_run_id)
    assert task_queue.queue_size() >= 1  # move_advance queued by the "import ended" signal
    tasks.move_advance(move.pk)
    move.refresh_from_db()
    assert move.state == MoveState.SENDING_STATS and move.stats_run.launched_at
    assert import_run_execute(run_id=move.stats_run_id)
    tasks.advance_history_moves()  # the minute schedule does the same, should the signal be lost
    move.refresh_from_db()
    assert move.state == MoveState.DONE

    results = client.get(f"/moves/{move.pk}/", headers={"HX-Request": "true", "HX-Target": "move-progress"})
    assert results.status_code == 286  # polling stops
    content = results.content.decode()
    assert "Results" in content and f"/imports/{move.courses_run_id}/evidence.zip" in content
    assert move.courses_run.succeeded_records == len(courses) - 1


def test_a_move_needs_one_course_and_https_launch_urls(client, alice, integration, connection_ispring):
    client.force_login(alice)
    client.post("/moves/", {"source": connection_ispring.pk, "integration": integration.pk, "default_lang": "en"})
    move = HistoryMove.objects.get()
    form = {}
    for course in MoveCourse.objects.filter(move=move):
        form[f"name-{course.pk}"] = course.name
        form[f"url-{course.pk}"] = "http://insecure.example.com/"
    response = client.post(f"/moves/{move.pk}/", form)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Include at least one course." in content and "https only" in content
    move.refresh_from_db()
    assert move.state == MoveState.PROPOSED and move.courses_run is None


def test_a_preview_the_worker_cannot_make_goes_back_to_the_courses_saying_why(
    client, alice, integration, connection_ispring
):
    client.force_login(alice)
    client.post("/moves/", {"source": connection_ispring.pk, "integration": integration.pk, "default_lang": "en"})
    move = HistoryMove.objects.get()
    form = {}
    for course in MoveCourse.objects.filter(move=move):
        form |= {f"name-{course.pk}": course.name, f"url-{course.pk}": course.launch_url, f"include-{course.pk}": "on"}
    assert client.post(f"/moves/{move.pk}/", form).status_code == 302
    ModuleResult.objects.filter(connection=connection_ispring).delete()  # the cache emptied meanwhile

    assert tasks.move_preview(move.pk) == MoveState.PROPOSED

    page = client.get(f"/moves/{move.pk}/").content.decode()
    assert "The preview could not be made: No iSpring Learn module results are cached" in page
    move.refresh_from_db()
    assert move.courses_run is None and move.stats_run is None
