"""The connection, sync and dashboard pages guide a new admin (issue 17): every connection one
click from its syncs, the getting-started checklist ticked from the database, the connection
form's required marks, error summary and secrets to retype, and the sandbox's values in the demo."""

from __future__ import annotations

import pytest

from integrations.forms import SECRET_REQUIRED, SECRET_RETYPE, SECRET_RETYPE_EDIT
from integrations.models import Connection, ImportRun, Integration, SyncRun
from integrations.selectors import getting_started_steps, sync_cursor_words
from tests.support.html import assertInHTML, find, has_attr

pytestmark = pytest.mark.django_db


@pytest.fixture
def never_synced(db) -> Connection:
    connection = Connection.objects.create(
        name="Fresh 360", provider="360learning", base_url="https://app.360learning.com", client_id="x"
    )
    connection.client_secret = "s"
    connection.save()
    return connection


def _steps() -> dict[str, bool]:
    return {step.key: step.done for step in getting_started_steps()}


def test_the_checklist_ticks_each_step_from_the_database(alice, never_synced):
    assert _steps() == {
        "connect": True,
        "test": False,
        "sync": False,
        "integration": False,
        "import": False,
        "reports": False,
    }
    Connection.objects.filter(pk=never_synced.pk).update(last_check_ok=True)
    SyncRun.objects.create(connection=never_synced, kind="users", state="completed")
    assert _steps()["test"] and _steps()["sync"] and not _steps()["reports"]
    SyncRun.objects.create(connection=never_synced, kind="course-stats", state="completed")
    integration = Integration.objects.create(
        connection=never_synced, remote_id="a" * 24, external_platform="Udemy", group_id="b" * 24, author_id="c" * 24
    )
    ImportRun.objects.create(integration=integration, kind="stats", source_name="s.csv", launched_by=alice)
    assert not _steps()["import"]  # a draft is not an import
    ImportRun.objects.update(launched_at="2026-12-01T10:00:00Z")
    assert all(_steps().values())


def test_an_ispring_only_team_has_no_integration_or_import_step(db):
    Connection.objects.create(name="iSpring", provider="ispring", base_url="https://x.ispringlearn.com", client_id="x")
    assert list(_steps()) == ["connect", "test", "sync", "reports"]


def test_an_empty_dashboard_is_the_open_checklist(admin_client):
    html = admin_client.get("/").content.decode()
    assert has_attr(find(html, "details", class_="getting-started"), "open")
    assert "No LMS connected yet" in html and 'href="/connections/new/"' in html


def test_dashboard_rows_link_to_the_connection_its_latest_import_and_sync(admin_client, never_synced, alice):
    run = SyncRun.objects.create(connection=never_synced, kind="users", state="completed")
    html = admin_client.get("/").content.decode()
    assertInHTML(f'<a href="/connections/{never_synced.pk}/">Fresh 360</a>', html)
    assertInHTML(f'<a href="/syncs/{run.pk}/">Users sync</a>', html)
    assert f"#{run.pk}" not in html


def test_the_syncs_page_lists_a_connection_that_never_synced(admin_client, never_synced):
    html = admin_client.get("/syncs/").content.decode()
    assertInHTML(f'<a href="/connections/{never_synced.pk}/syncs/">Fresh 360</a>', html)
    assert "never synced" in html and f'action="/connections/{never_synced.pk}/syncs/new/"' in html
    assert "No syncs yet" in html and 'href="/connections/"' in html


def test_the_connection_page_offers_its_syncs_and_sync_now(admin_client, never_synced):
    html = admin_client.get(f"/connections/{never_synced.pk}/").content.decode()
    assert f'href="/connections/{never_synced.pk}/syncs/"' in html
    assert f'action="/connections/{never_synced.pk}/syncs/new/"' in html and ">Sync now</button>" in html
    assert "Next steps" in html and "Create an integration" in html


def test_sync_now_from_the_connection_page_queues_every_kind(admin_client, never_synced, task_queue):
    response = admin_client.post(f"/connections/{never_synced.pk}/syncs/new/", {"kind": "all"})
    assert response.status_code == 302 and response["Location"] == f"/connections/{never_synced.pk}/syncs/"
    assert SyncRun.objects.filter(connection=never_synced, state="queued").count() == 5


def test_the_client_secret_is_marked_required_on_create(admin_client):
    html = admin_client.get("/connections/new/").content.decode()
    assert "* required" in html
    assert 'Client secret <span class="required-mark" aria-hidden="true">*</span></label>' in html
    assert 'name="client_secret"' in html and "required" in html.split('name="client_secret"')[1].split(">")[0]


def test_an_error_brings_a_summary_and_asks_to_retype_the_secret(admin_client):
    data = {"name": "", "provider": "360learning", "region": "eu", "client_id": "id", "client_secret": "typed"}
    data |= {"stale_after_hours": 24, "alert_after_failures": 3}
    html = admin_client.post("/connections/new/", data).content.decode()
    assert "data-error-summary" in html and 'href="#id_name">Name: This field is required.</a>' in html
    assert SECRET_RETYPE in html
    assert "typed" not in html.split('name="client_secret"')[1].split(">")[0]


def test_an_empty_secret_on_create_is_one_error(admin_client):
    data = {"name": "N", "provider": "360learning", "region": "eu", "client_id": "id", "client_secret": ""}
    data |= {"stale_after_hours": 24, "alert_after_failures": 3}
    form = admin_client.post("/connections/new/", data).context["form"]
    assert form.errors["client_secret"] == [SECRET_REQUIRED]


def test_an_error_on_edit_asks_to_retype_a_new_secret_or_leave_it_empty(admin_client, never_synced):
    data = {"name": "", "provider": "360learning", "region": "eu", "client_id": "id", "client_secret": "new"}
    data |= {"stale_after_hours": 24, "alert_after_failures": 3}
    html = admin_client.post(f"/connections/{never_synced.pk}/edit/", data).content.decode()
    assert SECRET_RETYPE_EDIT in html


def test_the_demo_form_says_which_sandbox_values_to_type(admin_client, settings):
    assert settings.SANDBOX_ENABLED
    html = admin_client.get("/connections/new/").content.decode()
    assert "http://testserver/sandbox/360" in html and "http://testserver/sandbox/ispring" in html
    assert "sandbox-client" in html and "sandbox-secret" in html


def test_without_the_sandbox_the_form_says_nothing_of_it(admin_client, settings):
    settings.SANDBOX_ENABLED = False
    html = admin_client.get("/connections/new/").content.decode()
    assert "sandbox" not in html.lower()


def test_a_cursor_reads_as_words():
    words = sync_cursor_words(
        kind="course-stats",
        cursor={"completed_at_gte": "2026-12-04T14:16:00+00:00", "full_at": "2026-12-01T09:00:00+00:00"},
    )
    assert (
        words == "attempts completed since 4 Dec 14:16 (last full listing 1 Dec 09:00; one runs at least once a week)"
    )
    assert sync_cursor_words(kind="users", cursor={}) == "everything the LMS has (a full listing)"


def test_the_dashboard_costs_the_same_queries_for_one_connection_or_many(
    admin_client, never_synced, django_assert_max_num_queries
):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    SyncRun.objects.create(connection=never_synced, kind="users", state="completed")
    with CaptureQueriesContext(db) as one:
        admin_client.get("/")
    for n in range(4):
        other = Connection.objects.create(
            name=f"Other {n}", provider="ispring", base_url="https://x.example", client_id="x"
        )
        SyncRun.objects.create(connection=other, kind="module-results", state="completed")
    with django_assert_max_num_queries(len(one)):
        admin_client.get("/")
