"""A provider added through ``LMS_EXTRA_PROVIDERS`` alone (``tests/providers/fake``, nothing of it
in the project) goes all the way: an admin adds a connection to it and tests it, "Sync now"
fills the cache over real HTTP from the fake LMS the live server serves, and a manager reads
the course statistics and the attempts, on the page and in CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from integrations import providers
from integrations.models import Connection, SyncRun, SyncState
from integrations.sync import services
from lms_cache.models import CourseAttempt
from tests.providers.fake import lms
from tests.support.html import assertInHTML

FAKE = "tests.providers.fake.provider.PROVIDER"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.providers.fake.urls")]


@pytest.fixture
def fake_provider(settings):
    """Fake LMS installed by the setting, for this test only (the registry reloads on the change)."""
    settings.LMS_EXTRA_PROVIDERS = [FAKE]
    lms.LOG.clear()
    yield providers.get("fakelms")
    lms.LOG.clear()


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_fake_provider_is_installed_by_the_setting_only(settings):
    assert "fakelms" not in [spec.value for spec in providers.all()]
    settings.LMS_EXTRA_PROVIDERS = [FAKE]
    assert [spec.value for spec in providers.all()] == ["360learning", "ispring", "fakelms"]
    assert ("fakelms", "Fake LMS") in Connection._meta.get_field("provider").choices


def test_a_provider_from_the_setting_goes_from_connection_to_report(
    fake_provider, live_server, admin_client, manager_client, task_queue
):
    # Alice adds the connection: the form offers the provider the setting installed.
    form = admin_client.get(reverse("connection-create")).content.decode()
    assertInHTML('<option value="fakelms">Fake LMS</option>', form)
    response = admin_client.post(
        reverse("connection-create"),
        {
            "name": "Fake tenant",
            "provider": "fakelms",
            "region": "custom",
            "base_url": f"{live_server.url}/fake-lms",
            "client_id": lms.CLIENT_ID,
            "client_secret": lms.CLIENT_SECRET,
            "stale_after_hours": 24,
            "alert_after_failures": 3,
        },
    )
    connection = Connection.objects.get(name="Fake tenant")
    assert response.status_code == 302
    assert (connection.provider, connection.get_provider_display()) == ("fakelms", "Fake LMS")

    # She tests it: the fake provider's probe reads a token and the courses over HTTP.
    admin_client.post(reverse("connection-check", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.last_check_ok is True, connection.last_error
    assert lms.LOG[:2] == ["/fake-lms/oauth/token", "/fake-lms/courses"]

    # "Sync now", everything: the provider's kinds, in its order; a worker runs them.
    admin_client.post(reverse("syncrun-create", args=[connection.pk]), {"kind": "all"})
    runs = list(SyncRun.objects.filter(connection=connection).order_by("pk"))
    assert [run.kind for run in runs] == ["courses", "course-stats"]
    for run in runs:
        done = services.sync_run_execute(run_id=run.pk)
        assert done.state == SyncState.COMPLETED, done.error
    assert "/fake-lms/attempts" in lms.LOG
    assert CourseAttempt.objects.filter(connection=connection).count() == len(lms.ATTEMPTS)

    # Bob reads the course statistics: the connection is offered, its courses counted.
    page = manager_client.get(reverse("course-stats"), {"connection": connection.pk}).content.decode()
    assertInHTML(f'<option value="{connection.pk}" selected>Fake tenant</option>', page)
    assert "Fire safety" in page and "First aid" in page
    stats = {
        row["course"]: row
        for row in _csv(manager_client.get(reverse("course-stats-export", args=["csv"]), {"connection": connection.pk}))
    }
    assert set(stats) == {"Fire safety", "First aid"}
    fire = stats["Fire safety"]
    assert (fire["connection"], fire["attempts"], fire["learners"], fire["learners_completed"]) == (
        "Fake tenant",
        "3",
        "3",
        "2",
    )
    assert fire["average_score"] == "80.0"

    # And every attempt, one row each, with its time spent in seconds as the LMS gave it.
    attempts = _csv(manager_client.get(reverse("attempt-export", args=["csv"]), {"connection": connection.pk}))
    assert sorted((row["attempt_id"], row["learner_id"], row["time_spent_seconds"]) for row in attempts) == [
        ("a-1", "u-1", "600"),
        ("a-2", "u-2", "900"),
        ("a-3", "u-3", "300"),
        ("a-4", "u-1", "1200"),
    ]


def test_reports_of_kinds_the_fake_provider_lacks_do_not_offer_it(fake_provider, manager_client):
    Connection.objects.create(name="Fake tenant", provider="fakelms", base_url="https://fake.example", client_id="x")

    for name in ("pathsession-list", "module-results"):
        page = manager_client.get(reverse(name)).content.decode()
        assert "Fake tenant" not in page, name
