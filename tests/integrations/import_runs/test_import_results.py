"""A run's records, browsable by result and search, with learners and courses by name.

The actors: Alice (L&D admin) has synced the sandbox tenant's learners and courses, then
imported statistics into "Sandbox Academy"; one row names a learner 360Learning does not know.
"""

from __future__ import annotations

import json
import re

import pytest

from integrations.services import import_runs
from integrations.services.import_execution import import_run_execute
from integrations.sync import services as sync_services
from tests.integrations.import_runs.conftest import csv_upload, stats_rows
from tests.support.html import assert_fragment, assertInHTML, find, find_all, text

pytestmark = pytest.mark.django_db(transaction=True)

GHOST = "ghost@nowhere.example"


@pytest.fixture
def synced(connection_360):
    for kind in ("users", "courses"):
        run, _ = sync_services.sync_run_create(connection=connection_360, kind=kind)
        sync_services.sync_run_execute(run_id=run.pk)


@pytest.fixture
def finished_run(alice, integration, learners, synced):
    rows = stats_rows(learners, 30)
    rows[1][1] = GHOST
    run = import_runs.import_run_prepare(actor=alice, integration=integration, kind="stats", uploaded=csv_upload(rows))
    run = import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.succeeded_records, run.failed_records) == (29, 1)
    return run


def _lines(response) -> list[int]:
    return [row.record.source_line for row in response.context["result_rows"]]


def test_the_run_page_lists_its_records_with_names_a_page_at_a_time(admin_client, finished_run, learners):
    from lms_cache.models import Course, LmsUser

    page = admin_client.get(f"/imports/{finished_run.pk}/")
    assert _lines(page) == list(range(2, 27))  # 25 a page, in file order
    assert page.context["results_page"].paginator.count == 30
    first = page.context["result_rows"][0]
    user = LmsUser.objects.get(mail__iexact=learners[0][0])
    course = Course.objects.get(remote_id=learners[1][0])
    assert first.learner.name == f"{user.first_name} {user.last_name}"
    assert first.course.name == course.name
    html = page.content.decode()
    assertInHTML(f'<span class="name">{course.name}</span>', html)
    assertInHTML(f'<small><code class="id" title="360Learning id">{course.remote_id}</code></small>', html)
    assert text(find_all(html, "details", class_="raw")[0].children[0]).startswith("API v2 JSON")

    second = admin_client.get(f"/imports/{finished_run.pk}/?page=2")
    assert _lines(second) == list(range(27, 32))


def test_the_failed_filter_shows_the_refused_record_and_its_reason(admin_client, finished_run):
    page = admin_client.get(f"/imports/{finished_run.pk}/?status=failed")
    assert _lines(page) == [3]
    assert re.search(r'value="failed"[^>]*checked', page.content.decode())
    row = page.context["result_rows"][0]
    assert row.learner.name == "" and row.learner.detail == GHOST
    assert GHOST in row.record.message
    assert _lines(admin_client.get(f"/imports/{finished_run.pk}/?status=skipped")) == []
    assert len(_lines(admin_client.get(f"/imports/{finished_run.pk}/?status=succeeded"))) == 25


def test_the_search_finds_records_by_learner_name_and_by_course_name(admin_client, finished_run, learners):
    from lms_cache.models import Course, LmsUser

    user = LmsUser.objects.get(mail__iexact=learners[0][0])
    by_name = admin_client.get(f"/imports/{finished_run.pk}/", {"q": user.last_name.upper()})
    assert by_name.context["result_rows"]
    assert all(r.learner.name.endswith(user.last_name) for r in by_name.context["result_rows"])

    course = Course.objects.get(remote_id=learners[1][3])
    by_course = admin_client.get(f"/imports/{finished_run.pk}/", {"q": course.name})
    assert by_course.context["result_rows"]
    assert {r.course.ident for r in by_course.context["result_rows"]} == {course.remote_id}

    by_mail = admin_client.get(f"/imports/{finished_run.pk}/", {"q": "GHOST@nowhere"})
    assert _lines(by_mail) == [3]


def test_the_filters_answer_htmx_with_the_records_fragment_only(
    admin_client, finished_run, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        fragment = admin_client.get(
            f"/imports/{finished_run.pk}/?status=failed",
            headers={"HX-Request": "true", "HX-Target": "run-results"},
        )
    html = fragment.content.decode()
    results = assert_fragment(html, "div", "run-results")
    assert not find_all(results, id="run-progress") and not find_all(results, "form")
    assert "1 record matches." in html


def test_the_preview_shows_learners_and_courses_by_name_and_the_json_behind_a_toggle(
    admin_client, alice, integration, learners, synced
):
    from lms_cache.models import LmsUser

    draft = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 3))
    )
    page = admin_client.get(f"/imports/{draft.pk}/")
    rows = page.context["preview"]
    user = LmsUser.objects.get(mail__iexact=learners[0][0])
    assert [r.learner.name for r in rows] == [f"{user.first_name} {user.last_name}"] * 3
    assert all(r.course.name for r in rows)
    assert [r.progress for r in rows] == [100, 40, 40]
    assert rows[0].time_spent == "1 min"
    html = page.content.decode()
    assert len(find_all(find(html, id="preview-records"), "details", class_="raw")) == 3
    assert "Predicted effect" in html


def test_the_last_progress_poll_tells_the_records_list_to_refresh(admin_client, alice, integration, learners):
    run = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 3))
    )
    run = import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    page = admin_client.get(f"/imports/{run.pk}/").content.decode()
    assert 'hx-trigger="importrun-finished from:body"' in page  # still sending: it listens

    import_run_execute(run_id=run.pk)
    poll = admin_client.get(f"/imports/{run.pk}/", headers={"HX-Request": "true", "HX-Target": "run-progress"})
    assert poll.status_code == 286 and json.loads(poll["HX-Trigger"]) == {"importrun-finished": {}}
    results = admin_client.get(f"/imports/{run.pk}/", headers={"HX-Request": "true", "HX-Target": "run-results"})
    assert "importrun-finished" not in results.content.decode()  # finished: nothing more to wait for
    assert [r.record.status for r in results.context["result_rows"]] == ["success"] * 3
