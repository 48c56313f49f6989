"""A task enqueued from a view runs in a real worker process, on whichever broker is configured
(the ORM broker by default; Redis when REDIS_URL is set, as in the CI's second run)."""

from __future__ import annotations

import pytest
from django.conf import settings

from lms_admin.models import WorkerPing
from tests.support.processes import start_manage, stop, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def worker(transactional_db):
    process = start_manage("qcluster")
    yield process
    stop(process)


def test_a_ping_sent_from_the_page_is_answered_by_the_worker(worker, admin_client):
    response = admin_client.post("/system/worker-pings/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    ping = WorkerPing.objects.get()
    assert ping.broker == ("redis" if settings.REDIS_URL else "orm")
    assert "Waiting" in response.content.decode()

    assert wait_until(lambda: WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False).exists(), timeout=60)
    ping.refresh_from_db()
    assert ping.worker_pid and ping.worker_pid != worker.pid

    # The polling fragment stops polling (286) once the answer is in.
    detail = admin_client.get(f"/system/worker-pings/{ping.pk}/", headers={"HX-Request": "true"})
    assert detail.status_code == 286
    assert "Answered" in detail.content.decode()


def test_without_javascript_the_ping_form_redirects_back_to_the_status_page(admin_client, db):
    response = admin_client.post("/system/worker-pings/")
    assert response.status_code == 302
    assert response["Location"] == "/system/"


def test_an_answered_ping_refreshes_the_recent_pings_table(admin_client, db):
    """The answer and the table below it never disagree ("answered" above "No ping sent yet")."""
    from django.utils import timezone

    ping = WorkerPing.objects.create(broker="orm")
    WorkerPing.objects.filter(pk=ping.pk).update(answered_at=timezone.now(), worker_pid=4242)
    html = admin_client.get(f"/system/worker-pings/{ping.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "Answered" in html and "0 minutes" not in html
    assert 'id="recent-pings"' in html and 'hx-swap-oob="true"' in html
    assert "No ping sent yet" not in html and "pid 4242" in html
