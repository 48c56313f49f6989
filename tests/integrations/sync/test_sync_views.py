"""The sync screens: a connection's syncs ("Sync now", live progress, schedules), one run, the
run list. Full page and HTMX fragment of each, progressive enhancement, admins only, and a
bounded number of queries."""

from __future__ import annotations

import ast

import pytest
from django_htmx.http import HTMX_STOP_POLLING
from django_q.models import Schedule

from integrations.models import SyncRun, SyncState
from integrations.sync import services
from integrations.views.syncs import SCHEDULES_SAVED
from tests.support.html import assert_fragment, assertInHTML, attr, find, find_all, text

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def finished_runs(connection_360, sync):
    """A completed sessions sync and a failed users sync of the demo tenant."""
    done = sync(connection_360, "sessions")
    failed, _ = services.sync_run_create(connection=connection_360, kind="users")
    SyncRun.objects.filter(pk=failed.pk).update(state=SyncState.FAILED, error="The sync stopped: HTTP 503.")
    return done, SyncRun.objects.get(pk=failed.pk)


# A connection's syncs ---------------------------------------------------------------------------
def test_the_connection_page_shows_each_kind_with_its_last_run_and_sync_now_buttons(
    admin_client, connection_360, finished_runs, django_assert_max_num_queries
):
    done, failed = finished_runs
    with django_assert_max_num_queries(10):
        response = admin_client.get(f"/connections/{connection_360.pk}/syncs/")
    html = response.content.decode()
    assert response.status_code == 200
    labels = [text(th) for th in find_all(find(html, id="sync-kinds"), "th", scope="row")]
    assert labels == ["Users", "Courses", "Paths", "Path sessions and user stats", "Course statistics"]
    assert f'href="/syncs/{done.pk}/"' in html and "The sync stopped: HTTP 503." in html
    # A Sync now form per kind, and "Sync everything now".
    kinds = [attr(field, "value") for field in find_all(html, "input", name="kind")]
    assert kinds == ["users", "courses", "paths", "sessions", "course-stats", "all"]
    assert not find_all(html, hx_trigger="every 2s")  # nothing running: no polling
    assert find(html, id="sync-schedules")


def test_sync_now_with_htmx_queues_a_run_and_answers_the_polling_fragment(
    admin_client, connection_360, alice, task_queue
):
    response = admin_client.post(f"/connections/{connection_360.pk}/syncs/new/", {"kind": "paths"}, headers=HTMX)

    run = SyncRun.objects.get(kind="paths")
    assert (run.state, run.requested_by, run.connection) == (SyncState.QUEUED, alice, connection_360)
    html = response.content.decode()
    assert response.status_code == 200
    assert attr(assert_fragment(html, "section", "sync-kinds"), "hx-trigger") == "every 2s"
    assert task_queue.queue_size() == 1  # enqueued for a worker once the request committed


def test_the_polling_fragment_stops_once_nothing_is_running(admin_client, connection_360):
    run = services.sync_run_launch(connection=connection_360, kinds=["paths"])[0]
    url = f"/connections/{connection_360.pk}/syncs/"
    headers = {**HTMX, "HX-Target": "sync-kinds"}
    assert admin_client.get(url, headers=headers).status_code == 200
    services.sync_run_execute(run_id=run.pk)
    finished = admin_client.get(url, headers=headers)
    assert finished.status_code == HTMX_STOP_POLLING
    assert "Completed" in finished.content.decode()


def test_sync_everything_without_javascript_queues_every_kind_in_order_and_redirects(
    admin_client, connection_360, task_queue
):
    response = admin_client.post(f"/connections/{connection_360.pk}/syncs/new/", {"kind": "all", "full_refresh": "on"})
    assert response.status_code == 302 and response["Location"] == f"/connections/{connection_360.pk}/syncs/"
    runs = SyncRun.objects.order_by("pk")
    assert [r.kind for r in runs] == ["users", "courses", "paths", "sessions", "course-stats"]
    assert all(r.full_refresh and r.state == SyncState.QUEUED for r in runs)
    # One django-q chain: the kinds run one after the other.
    assert task_queue.queue_size() == 1


def test_sync_now_of_one_kind_without_javascript_redirects_to_the_run(admin_client, connection_ispring):
    response = admin_client.post(f"/connections/{connection_ispring.pk}/syncs/new/", {"kind": "module-results"})
    run = SyncRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/syncs/{run.pk}/"


def test_sync_now_of_a_kind_the_provider_lacks_is_refused(admin_client, connection_ispring):
    response = admin_client.post(f"/connections/{connection_ispring.pk}/syncs/new/", {"kind": "courses"})
    assert response.status_code == 302 and not SyncRun.objects.exists()


def test_managers_cannot_launch_syncs(manager_client, connection_360):
    response = manager_client.post(f"/connections/{connection_360.pk}/syncs/new/", {"kind": "users"})
    assert response.status_code == 403 and not SyncRun.objects.exists()


# Schedules -----------------------------------------------------------------------------------------
def test_schedules_are_saved_as_django_q_schedules_named_per_connection_and_kind(admin_client, connection_360):
    data = {"users": "D", "courses": "", "paths": "", "sessions": "H", "course-stats": "W", "course-stats_full": "on"}
    response = admin_client.post(f"/connections/{connection_360.pk}/syncs/schedules/", data, headers=HTMX)

    assert response.status_code == 200 and SCHEDULES_SAVED in response.content.decode()
    schedules = {s.name: s for s in Schedule.objects.filter(name__startswith="sync:")}
    assert set(schedules) == {f"sync:{connection_360.pk}:{kind}" for kind in ("users", "sessions", "course-stats")}
    weekly = schedules[f"sync:{connection_360.pk}:course-stats"]
    assert weekly.schedule_type == Schedule.WEEKLY and weekly.func == "integrations.sync.tasks.sync_scheduled"
    assert ast.literal_eval(weekly.kwargs) == {
        "connection_id": connection_360.pk,
        "kind": "course-stats",
        "full_refresh": True,
        "q_options": {"timeout": services.SCHEDULE_TASK_TIMEOUT},
    }
    # The form shows what is stored; switching one off removes its schedule.
    data["users"] = ""
    response = admin_client.post(f"/connections/{connection_360.pk}/syncs/schedules/", data)
    assert response.status_code == 302
    assert not Schedule.objects.filter(name=f"sync:{connection_360.pk}:users").exists()
    page = admin_client.get(f"/connections/{connection_360.pk}/syncs/").content.decode()
    assertInHTML('<option value="W" selected>Weekly</option>', page)
    assert SCHEDULES_SAVED in page


def test_an_invalid_schedule_is_shown_back_with_its_error(admin_client, connection_360):
    response = admin_client.post(f"/connections/{connection_360.pk}/syncs/schedules/", {"users": "every second"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Schedule.objects.filter(name__startswith="sync:").exists()


def test_a_scheduled_sync_launches_a_run_and_joins_an_active_one(connection_360):
    from integrations.sync import tasks

    first = tasks.sync_scheduled(connection_360.pk, "users")
    assert tasks.sync_scheduled(connection_360.pk, "users") == first
    assert SyncRun.objects.get().requested_by is None


# One run ------------------------------------------------------------------------------------------
def test_the_run_page_shows_pages_rows_source_cursor_and_reconciliation(
    admin_client, finished_runs, django_assert_max_num_queries
):
    done, _ = finished_runs
    with django_assert_max_num_queries(6):
        response = admin_client.get(f"/syncs/{done.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "360Learning v2 + v1" in html and f"{done.rows_inserted} new" in html
    assert "full: everything the LMS has" in html
    # The cursor in words, never its raw keys (issue 17).
    assert "Next sync asks for</dt><dd>the sessions not ended, changed or ended recently (last full listing " in html
    assert "full_at" not in html
    assert "match 360Learning" in html


def test_the_run_fragment_polls_while_running_and_stops_when_finished(admin_client, connection_360):
    run, _ = services.sync_run_create(connection=connection_360, kind="paths")
    headers = {**HTMX, "HX-Target": "sync-progress"}
    waiting = admin_client.get(f"/syncs/{run.pk}/", headers=headers)
    assert waiting.status_code == 200 and 'hx-trigger="every 2s"' in waiting.content.decode()
    assert "waiting for a worker" in waiting.content.decode()
    services.sync_run_execute(run_id=run.pk)
    done = admin_client.get(f"/syncs/{run.pk}/", headers=headers)
    assert done.status_code == HTMX_STOP_POLLING
    assert "<html" not in done.content.decode() and "every 2s" not in done.content.decode()


def test_a_failed_run_shows_its_reason(admin_client, finished_runs):
    _, failed = finished_runs
    html = admin_client.get(f"/syncs/{failed.pk}/").content.decode()
    assertInHTML('<p class="message error" role="alert">The sync stopped: HTTP 503.</p>', html)


# The run list -------------------------------------------------------------------------------------
def _listed(html: str) -> list[str]:
    """The runs the run list shows, each as its row header: the kind (a link), the id after it."""
    rows = find_all(find(find(html, id="syncrun-table"), "tbody"), "tr")
    return [text(find(row, "th", scope="row")) for row in rows]


def test_the_run_list_filters_by_kind_and_state(admin_client, finished_runs, django_assert_max_num_queries):
    done, failed = finished_runs
    # Two more than the runs: every connection and its latest sync, above them.
    with django_assert_max_num_queries(10):
        page = admin_client.get("/syncs/").content.decode()
    assert sorted(_listed(page)) == sorted([f"{done.get_kind_display()} #{done.pk}", f"Users #{failed.pk}"])
    assert "match" in page
    fragment = admin_client.get("/syncs/?state=failed", headers=HTMX)
    html = fragment.content.decode()
    assert_fragment(html, "div", "syncrun-table")
    assert _listed(html) == [f"Users #{failed.pk}"]


def test_the_run_list_names_remote_text_safely(admin_client, connection_360):
    SyncRun.objects.create(connection=connection_360, kind="users", state="failed", error="<script>alert(1)</script>")
    html = admin_client.get("/syncs/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
