"""Digests end to end on the sandbox LMS, over real HTTP, with a frozen clock: syncs record what
changed in a followed session, the digest due at its scheduled time lists exactly that, a
digest after a sync that changed nothing is not sent, and the unsubscribe link works without a
login and stops further mail.

The clock: every send is made at the subscription's own ``next_due_at`` (``digests_send_due(now=…)``),
so the test does not depend on when it runs; the syncs use the real time, as they would.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from integrations.sync import services
from lms_cache.models import PathSession
from reports.digests import send, subscriptions
from reports.models import DigestChange, DigestSubscription
from sandbox import models as remote

pytestmark = pytest.mark.django_db(transaction=True)


def _sync(connection, kind: str) -> None:
    run, _ = services.sync_run_create(connection=connection, kind=kind, full_refresh=True)
    assert services.sync_run_execute(run_id=run.pk).state == "completed"


def _send_when_due(subscription: DigestSubscription) -> dict[str, int]:
    subscription.refresh_from_db()
    return send.digests_send_due(now=subscription.next_due_at)


def _listed(body: str, heading: str) -> list[str]:
    """The learners a plain-text digest lists under ``heading`` (``"Newly late: 3"``): the
    ``    - `` lines after it and its link, up to the next heading."""
    lines = body.split(f"\n  {heading}\n", 1)[1].split("\n")[1:]
    listed = []
    for line in lines:
        if not line.startswith("    - "):
            break
        listed.append(line.removeprefix("    - "))
    return listed


@pytest.fixture
def followed(connection_360, bob):
    """The sandbox synced once, and Bob (a manager who sees every learner) following its
    largest path session daily at 08:00 Paris time."""
    _sync(connection_360, "users")
    _sync(connection_360, "sessions")
    session = max(PathSession.objects.all(), key=lambda s: s.enrolled_count)
    subscription = subscriptions.digest_create(
        user=bob,
        data=subscriptions.DigestData(
            sessions=[session], courses=[], frequency="daily", weekday=0, send_at=time(8), time_zone="Europe/Paris"
        ),
    )
    return session, subscription


def _change_remotely(session: PathSession, *, late: int, successful: int) -> tuple[list, list]:
    """In the LMS: ``late`` learners fall late, ``successful`` others complete the path."""
    learners = remote.PathSessionUserStat.objects.filter(session__oid=session.remote_id).select_related("user")
    candidates = [
        s for s in learners.order_by("pk") if s.status_type in ("notYetStarted", "onTime", "awaitingCorrection")
    ]
    assert len(candidates) >= late + successful, "the seeded session has learners to move"
    now = timezone.now()
    newly_late, newly_done = candidates[:late], candidates[late : late + successful]
    for stat in newly_late:
        stat.status_type, stat.status_reason, stat.started_at = "late", "", stat.started_at or now - timedelta(days=3)
        stat.save()
    for stat in newly_done:
        stat.status_type, stat.status_reason, stat.progress, stat.completed_at = "successful", "", 100, now
        stat.started_at = stat.started_at or now - timedelta(days=3)
        stat.save()
    return newly_late, newly_done


def _label(stat) -> str:
    return f"{stat.user.first_name} {stat.user.last_name} <{stat.user.mail}>"


def test_the_digest_lists_exactly_the_learners_who_became_late_or_completed_then_stops_when_unsubscribed(
    followed, connection_360
):
    session, subscription = followed
    newly_late, newly_done = _change_remotely(session, late=3, successful=2)
    _sync(connection_360, "sessions")

    assert _send_when_due(subscription) == {"sent": 1}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "LMS Admin digest: 3 newly late, 2 newly completed"
    body = message.body
    assert session.name in body
    assert sorted(_listed(body, "Newly late: 3")) == sorted(_label(s) for s in newly_late)
    assert sorted(_listed(body, "Newly completed: 2")) == sorted(_label(s) for s in newly_done)
    assert "Newly to retake" not in body and "Newly unsuccessful" not in body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and all(_label(s).split(" <")[0] in html for s in newly_late + newly_done)
    assert f"/reports/path-sessions/{session.pk}/?status=late#learners" in body
    assert DigestChange.objects.count() == 0  # delivered: nothing waits for the next digest

    # The next day: a sync that changed nothing, and no mail.
    _sync(connection_360, "sessions")
    assert _send_when_due(subscription) == {"nothing changed": 1}
    assert len(mail.outbox) == 1

    # The unsubscribe link of the mail, opened without signing in.
    link = re.search(r"Unsubscribe: (\S+)", body).group(1)
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    anonymous = Client(enforce_csrf_checks=True)
    path = link.removeprefix("http://127.0.0.1:8000")
    page = anonymous.get(path)
    assert page.status_code == 200 and "Unsubscribe from this digest?" in page.content.decode()
    assert DigestSubscription.objects.get(pk=subscription.pk).active  # opening the link changes nothing
    done = anonymous.post(path)
    assert done.status_code == 200 and 'id="unsubscribed"' in done.content.decode()

    # More changes, more syncs: no more mail.
    _change_remotely(session, late=1, successful=0)
    _sync(connection_360, "sessions")
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
    assert send.digests_send_due(now=subscription.next_due_at + timedelta(days=2)) == {}
    assert len(mail.outbox) == 1 and DigestChange.objects.count() == 0


def test_a_learner_who_fell_late_and_caught_up_before_the_digest_is_not_listed(followed, connection_360):
    session, subscription = followed
    newly_late, _ = _change_remotely(session, late=2, successful=0)
    _sync(connection_360, "sessions")
    caught_up = newly_late[0]
    caught_up.status_type = "onTime"
    caught_up.save()
    _sync(connection_360, "sessions")

    assert _send_when_due(subscription) == {"sent": 1}
    assert _listed(mail.outbox[0].body, "Newly late: 1") == [_label(newly_late[1])]


def test_a_sessions_merge_that_fails_records_no_change_and_the_next_sync_records_them(
    followed, connection_360, monkeypatch
):
    session, subscription = followed
    _change_remotely(session, late=2, successful=1)

    def merge_fails(**kwargs):
        raise RuntimeError("the merge failed after the changes were announced")

    # The step right after the sessions_merging signal, inside the same transaction.
    monkeypatch.setattr("integrations.providers.learning360.sessions.user_custom_fields_from_run", merge_fails)
    run, _ = services.sync_run_create(connection=connection_360, kind="sessions", full_refresh=True)
    assert services.sync_run_execute(run_id=run.pk).state == "failed"
    assert DigestChange.objects.count() == 0

    monkeypatch.undo()
    _sync(connection_360, "sessions")
    assert DigestChange.objects.filter(subscription=subscription).count() == 3
