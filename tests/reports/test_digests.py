"""Digests: the schedule, the scope, the claim that keeps several workers from sending one twice,
failed sends that lose nothing, and the pages (own subscriptions only, the no-login unsubscribe).

End to end over the sandbox with syncs: test_digests_on_the_sandbox.py. Actors: the ``teams``
fixture (Dave manages Sales, Erin Ingénierie) and Bob, who sees every learner.
"""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone

from integrations.models import SyncRun
from lms_cache.models import CourseAttempt, CourseAttemptStage, PathSessionUserStat
from lms_cache.signals import attempts_merging
from reports.digests import changes, compose, schedule, send, subscriptions
from reports.models import DigestChange, DigestSubscription

PARIS = "Europe/Paris"


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def _follow(user, *, sessions=(), courses=(), frequency="daily", weekday=0, at=time(8), zone=PARIS, now=None):
    data = subscriptions.DigestData(list(sessions), list(courses), frequency, weekday, at, zone)
    return subscriptions.digest_create(user=user, data=data, now=now)


def _changed(subscription, session, learner, old: str, new: str) -> DigestChange:
    return DigestChange.objects.create(
        subscription=subscription,
        session=session,
        user_remote_id=learner.remote_id,
        old_status=old,
        new_status=new,
        recorded_at=timezone.now(),
    )


def _set_status(session, learner, status: str) -> None:
    PathSessionUserStat.objects.filter(session=session, user=learner).update(status_type=status)


# The schedule ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "after,expected",
    [
        (datetime(2027, 1, 12, 6, 59, tzinfo=UTC), datetime(2027, 1, 12, 7, 0, tzinfo=UTC)),  # 08:00 CET today
        (datetime(2027, 1, 12, 7, 0, tzinfo=UTC), datetime(2027, 1, 13, 7, 0, tzinfo=UTC)),  # strictly after
        (datetime(2027, 7, 1, 12, 0, tzinfo=UTC), datetime(2027, 7, 2, 6, 0, tzinfo=UTC)),  # 08:00 CEST
    ],
)
def test_a_daily_digest_is_due_at_its_local_time(after, expected):
    assert schedule.next_due(frequency="daily", weekday=0, send_at=time(8), time_zone=PARIS, after=after) == expected


def test_a_weekly_digest_is_due_on_its_weekday():
    wednesday = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)
    due = schedule.next_due(frequency="weekly", weekday=0, send_at=time(8), time_zone=PARIS, after=wednesday)
    assert due == datetime(2027, 1, 18, 7, 0, tzinfo=UTC) and due.astimezone(UTC).weekday() == 0


def test_a_local_time_that_daylight_saving_skips_is_still_sent_that_day():
    # 2027-03-28: Paris clocks jump from 02:00 to 03:00; a 02:30 digest goes out at 03:30 local.
    before = datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    due = schedule.next_due(frequency="daily", weekday=0, send_at=time(2, 30), time_zone=PARIS, after=before)
    assert due.astimezone(UTC) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


# Composing ------------------------------------------------------------------------------------
def test_a_digest_lists_only_the_learners_in_the_readers_scope(teams):
    spring = teams.sessions["spring"]
    dave_digest = _follow(teams.dave, sessions=[spring])
    erin_digest = _follow(teams.erin, sessions=[spring])
    for name in ("Sam Quillon", "Eve Nakamura"):  # both late already in the fixture
        for subscription in (dave_digest, erin_digest):
            _changed(subscription, spring, teams.learners[name], "onTime", "late")

    assert send.digests_send_due(now=dave_digest.next_due_at) == {"sent": 2}
    by_recipient = {m.to[0]: m.body for m in mail.outbox}
    assert "Quillon" in by_recipient["dave@example.org"] and "Nakamura" not in by_recipient["dave@example.org"]
    assert "Nakamura" in by_recipient["erin@example.org"] and "Quillon" not in by_recipient["erin@example.org"]


def test_a_change_outside_the_scope_alone_sends_no_mail(teams):
    spring = teams.sessions["spring"]
    subscription = _follow(teams.dave, sessions=[spring])
    _changed(subscription, spring, teams.learners["Eve Nakamura"], "onTime", "late")

    assert send.digests_send_due(now=subscription.next_due_at) == {"nothing changed": 1}
    assert mail.outbox == [] and not DigestChange.objects.exists()


def test_a_learner_whose_status_changed_again_since_is_listed_with_the_later_change(teams):
    spring = teams.sessions["spring"]
    sam = teams.learners["Sam Quillon"]
    subscription = _follow(teams.dave, sessions=[spring])
    _changed(subscription, spring, sam, "onTime", "late")
    _changed(subscription, spring, sam, "late", "successful")
    _set_status(spring, sam, "successful")

    digest = compose.digest_compose(subscription=subscription)
    (section,) = digest.sections
    assert [(c.label, c.count) for c in section.categories] == [("Newly completed", 1)]


def test_learners_beyond_those_named_are_counted_and_linked(teams, monkeypatch):
    monkeypatch.setattr(compose, "NAMES_PER_CATEGORY", 1)
    spring = teams.sessions["spring"]
    subscription = _follow(teams.dave, sessions=[spring])
    for name in ("Sam Quillon", "Sol Varga"):
        _set_status(spring, teams.learners[name], "late")
        _changed(subscription, spring, teams.learners[name], "onTime", "late")

    (category,) = compose.digest_compose(subscription=subscription).sections[0].categories
    assert (category.count, len(category.learners), category.more) == (2, 1, 1)
    assert send.digests_send_due(now=subscription.next_due_at) == {"sent": 1}
    assert "… and 1 more" in mail.outbox[0].body


def test_attempts_that_became_completed_in_a_sync_are_recorded_for_followed_courses_only(teams):
    negotiation, kubernetes = teams.courses["negotiation"], teams.courses["kubernetes"]
    subscription = _follow(teams.erin, courses=[kubernetes])
    connection = kubernetes.connection
    run = SyncRun.objects.create(connection=connection, kind="course-stats")
    eve_attempt = kubernetes.attempts.get()
    now = timezone.now()
    common = {
        "run_id": run.pk,
        "lang": "en",
        "time_spent_ms": 1,
        "progress": 100,
        "path_remote_id": "",
        "session_remote_id": "",
    }
    CourseAttemptStage.objects.create(
        remote_id=eve_attempt.remote_id,
        course_remote_id=kubernetes.remote_id,
        user_remote_id=eve_attempt.user_remote_id,
        completed_at=now,
        **common,
    )
    CourseAttemptStage.objects.create(  # completed already: not a change
        remote_id=negotiation.attempts.first().remote_id,
        course_remote_id=negotiation.remote_id,
        user_remote_id="x" * 24,
        completed_at=now,
        **common,
    )

    assert changes.digest_changes_record_attempts(connection_id=connection.pk, run_id=run.pk, now=now) == 1
    assert send.digests_send_due(now=subscription.next_due_at) == {"sent": 1}
    body = mail.outbox[0].body
    assert "Kubernetes (course)" in body and "Newly completed: 1" in body and "Eve Nakamura <eve@teams.example>" in body


def test_a_sync_announcing_its_attempts_merge_records_the_changes_through_reports_receiver(teams):
    kubernetes = teams.courses["kubernetes"]
    subscription = _follow(teams.erin, courses=[kubernetes])
    run = SyncRun.objects.create(connection=kubernetes.connection, kind="course-stats")
    attempt, now = kubernetes.attempts.get(), timezone.now()
    CourseAttemptStage.objects.create(
        run_id=run.pk,
        remote_id=attempt.remote_id,
        course_remote_id=kubernetes.remote_id,
        user_remote_id=attempt.user_remote_id,
        progress=100,
        completed_at=now,
    )

    attempts_merging.send(CourseAttempt, connection_id=kubernetes.connection_id, run_id=run.pk, now=now)

    change = DigestChange.objects.get(subscription=subscription)
    assert (change.course_id, change.user_remote_id, change.new_status) == (
        kubernetes.pk,
        attempt.user_remote_id,
        "completed",
    )
    assert (change.sync_run_id, change.recorded_at) == (run.pk, now)


# Sending ---------------------------------------------------------------------------------------
def test_two_workers_claiming_the_same_due_digest_send_it_once(teams):
    subscription = _follow(teams.dave, sessions=[teams.sessions["spring"]])
    now = subscription.next_due_at
    first, second = (DigestSubscription.objects.get(pk=subscription.pk) for _ in range(2))

    assert send.digest_claim(subscription=first, now=now) is True
    assert send.digest_claim(subscription=second, now=now) is False  # it read the due time before the first claim
    assert first.next_due_at == now + timedelta(days=1)


def test_a_refused_mail_keeps_the_changes_and_is_retried_soon(teams, settings):
    spring = teams.sessions["spring"]
    subscription = _follow(teams.dave, sessions=[spring])
    _changed(subscription, spring, teams.learners["Sam Quillon"], "onTime", "late")
    due = subscription.next_due_at

    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    assert send.digests_send_due(now=due) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.failures == 1 and "SMTPServerDisconnected" in subscription.last_error
    assert subscription.next_due_at == due + send.RETRY_AFTER
    assert DigestChange.objects.filter(subscription=subscription).count() == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send.digests_send_due(now=subscription.next_due_at) == {"sent": 1}
    subscription.refresh_from_db()
    assert (subscription.failures, subscription.last_error, subscription.last_sent_at) == (
        0,
        "",
        due + send.RETRY_AFTER,
    )
    assert "Quillon" in mail.outbox[0].body and not DigestChange.objects.exists()


def test_a_reader_who_lost_the_manager_role_gets_no_digest(teams):
    spring = teams.sessions["spring"]
    subscription = _follow(teams.dave, sessions=[spring])
    _changed(subscription, spring, teams.learners["Sam Quillon"], "onTime", "late")
    teams.dave.groups.clear()

    assert send.digests_send_due(now=subscription.next_due_at) == {"skipped": 1}
    assert mail.outbox == []
    subscription.refresh_from_db()
    assert subscription.last_error == send.NO_LONGER_A_READER


# Pages -----------------------------------------------------------------------------------------
@pytest.fixture
def dave_client(teams) -> Client:
    client = Client()
    client.force_login(teams.dave)
    return client


def test_following_a_session_from_its_report(teams, dave_client):
    spring = teams.sessions["spring"]
    page = dave_client.get(f"/reports/path-sessions/{spring.pk}/").content.decode()
    assert f'href="/reports/digests/new/?session={spring.pk}"' in page

    form = dave_client.get(f"/reports/digests/new/?session={spring.pk}").content.decode()
    assert f'<option value="{spring.pk}" selected>' in form
    assert "Sales · Kickoff" in form  # Dave has learners there
    response = dave_client.post(
        "/reports/digests/new/",
        {"sessions": [spring.pk], "frequency": "weekly", "weekday": "4", "send_at": "17:30", "time_zone": PARIS},
    )
    assert response.status_code == 302 and response["Location"] == "/reports/digests/"
    subscription = DigestSubscription.objects.get(user=teams.dave)
    assert (subscription.frequency, subscription.weekday, subscription.send_at) == ("weekly", 4, time(17, 30))
    local = subscription.next_due_at.astimezone(ZoneInfo(PARIS))
    assert (local.weekday(), local.hour, local.minute) == (4, 17, 30)
    listing = dave_client.get("/reports/digests/").content.decode()
    assert "Every Friday at 17:30 (Europe/Paris)" in listing and "Teams · Spring" in listing


def test_a_session_outside_the_scope_cannot_be_followed(teams):
    erin = Client()
    erin.force_login(teams.erin)
    kickoff = teams.sessions["kickoff"]
    assert "Sales · Kickoff" not in erin.get("/reports/digests/new/").content.decode()
    response = erin.post(
        "/reports/digests/new/",
        {"sessions": [kickoff.pk], "frequency": "daily", "weekday": "0", "send_at": "08:00", "time_zone": "UTC"},
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not DigestSubscription.objects.exists()


def test_following_nothing_or_without_an_email_address_is_refused_with_a_reason(teams, dave_client):
    data = {"frequency": "daily", "weekday": "0", "send_at": "08:00", "time_zone": "UTC"}
    assert subscriptions.NOTHING_TO_FOLLOW in dave_client.post("/reports/digests/new/", data).content.decode()
    teams.dave.email = ""
    teams.dave.save()
    data["sessions"] = [teams.sessions["spring"].pk]
    html = dave_client.post("/reports/digests/new/", data).content.decode()
    assert "Your account has no e-mail address" in html and not DigestSubscription.objects.exists()


def test_someone_elses_digest_is_not_found(teams, dave_client):
    theirs = _follow(teams.erin, sessions=[teams.sessions["spring"]])
    for url in (f"/reports/digests/{theirs.pk}/edit/", f"/reports/digests/{theirs.pk}/delete/"):
        assert dave_client.get(url).status_code == 404
        assert dave_client.post(url).status_code == 404
    assert DigestSubscription.objects.filter(pk=theirs.pk).exists()


def test_editing_a_digest_drops_the_changes_of_what_it_no_longer_follows(teams, dave_client):
    spring, kickoff = teams.sessions["spring"], teams.sessions["kickoff"]
    subscription = _follow(teams.dave, sessions=[spring, kickoff])
    _changed(subscription, spring, teams.learners["Sam Quillon"], "onTime", "late")
    _changed(subscription, kickoff, teams.learners["Sam Quillon"], "", "notYetStarted")

    response = dave_client.post(
        f"/reports/digests/{subscription.pk}/edit/",
        {"sessions": [kickoff.pk], "frequency": "daily", "weekday": "0", "send_at": "09:00", "time_zone": "UTC"},
    )
    assert response.status_code == 302
    assert list(subscription.changes.values_list("session", flat=True)) == [kickoff.pk]


def test_deleting_a_digest_asks_first(teams, dave_client):
    subscription = _follow(teams.dave, sessions=[teams.sessions["spring"]])
    page = dave_client.get(f"/reports/digests/{subscription.pk}/delete/").content.decode()
    assert "Delete this digest?" in page and "Every day at 08:00 (Europe/Paris)" in page
    assert dave_client.post(f"/reports/digests/{subscription.pk}/delete/").status_code == 302
    assert not DigestSubscription.objects.exists()


def test_the_digest_list_reads_a_bounded_number_of_queries(teams, dave_client, django_assert_max_num_queries):
    for _ in range(5):
        _follow(teams.dave, sessions=list(teams.sessions.values()), courses=list(teams.courses.values()))
    with django_assert_max_num_queries(12):
        response = dave_client.get("/reports/digests/")
    assert response.content.decode().count("Every day at 08:00") == 5


def test_a_mail_client_unsubscribes_in_one_click_without_a_session_or_csrf_token(teams):
    subscription = _follow(teams.dave, sessions=[teams.sessions["spring"]])
    url = f"/reports/digests/unsubscribe/{subscriptions.unsubscribe_token(subscription)}/"
    client = Client(enforce_csrf_checks=True)
    response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
    assert "You are unsubscribed" in client.get(url).content.decode()  # and it stays so


def test_a_tampered_unsubscribe_link_is_refused(teams):
    subscription = _follow(teams.dave, sessions=[teams.sessions["spring"]])
    token = subscriptions.unsubscribe_token(subscription)
    response = Client().post(f"/reports/digests/unsubscribe/{token[:-2]}xx/")
    assert response.status_code == 404 and "This link is not valid" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.active
