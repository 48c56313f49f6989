"""Broken paths 7 and 8 of issue 17, in the browser at 1440 and 390 px: the worker-ping answer and
the recent-pings table never disagree, and durations under a minute read in seconds."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import Connection, SyncRun
from lms_admin.models import WorkerPing
from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import assert_fits
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _answer_pings_like_a_worker(stop: threading.Event) -> None:
    """Answers each ping 2 s after it was sent, as a worker would (the worker itself is proven in
    tests/lms_admin/test_worker_ping.py); the page must show what the database says."""
    while not stop.wait(0.2):
        cutoff = timezone.now() - timedelta(seconds=2)
        for ping in WorkerPing.objects.filter(answered_at__isnull=True, created_at__lte=cutoff):
            WorkerPing.objects.filter(pk=ping.pk).update(
                answered_at=ping.created_at + timedelta(seconds=2), worker_pid=4242
            )


def test_broken_path_7_a_ping_answer_and_the_recent_pings_agree(sized_page, alice):
    page = sized_page
    log_in(page, "alice", PASSWORD)
    page.goto("/system/")
    expect(page.get_by_text("No ping sent yet.")).to_be_visible()
    stop = threading.Event()
    worker = threading.Thread(target=_answer_pings_like_a_worker, args=(stop,), daemon=True)
    worker.start()
    try:
        page.get_by_role("button", name="Ping the worker").click()
        answer = page.locator("#ping-result")
        expect(answer).to_contain_text("answered by worker process 4242 in 2 seconds", timeout=20_000)
    finally:
        stop.set()
        worker.join()
    expect(answer).not_to_contain_text("0 minutes")
    recent = page.locator("#recent-pings")
    expect(recent.get_by_text("No ping sent yet.")).to_have_count(0)
    expect(recent.get_by_role("row")).to_have_count(2)  # the header and the ping just answered
    expect(recent).to_contain_text("pid 4242")
    assert_fits(page)
    take_screenshot(page, "issue17-broken-path-7-ping")


def test_broken_path_8_a_short_sync_reads_in_seconds(sized_page, alice):
    page = sized_page
    connection = Connection.objects.create(
        name="Quick LMS", provider="360learning", base_url="https://quick.example.com", client_id="x"
    )
    started = timezone.now() - timedelta(minutes=5)
    run = SyncRun.objects.create(
        connection=connection,
        kind="users",
        state="completed",
        started_at=started,
        ended_at=started + timedelta(seconds=12),
    )
    log_in(page, "alice", PASSWORD)
    page.goto(f"/syncs/{run.pk}/")
    expect(page.get_by_role("main")).to_contain_text("took 12 seconds")
    expect(page.get_by_role("main")).not_to_contain_text("0 minutes")
    assert_fits(page)
    take_screenshot(page, "issue17-broken-path-8-sync-seconds")
