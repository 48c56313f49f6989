"""E-mail digests: what changed in the path sessions and courses a reader follows.

How a digest comes to be:

1. **Recorded by the syncs.** When a sessions sync merges its learners, and a course-stats
   sync its attempts, it first announces it (``lms_cache.signals``: ``sessions_merging``,
   ``attempts_merging``; ``ReportsConfig.ready`` connects the two recorders below) and one
   ``DigestChange`` is written per subscription following the session or course, for each learner whose detailed status changed (or who is new to the
   session), or each attempt that became completed. It happens inside the merge's transaction,
   so a failed sync records nothing, and only for followed sessions and courses, so an
   unfollowed tenant costs nothing.
2. **Sent when due.** A django-q2 schedule runs ``digests_send_due`` every minute. Each due
   subscription is claimed with a conditional ``UPDATE`` of its ``next_due_at`` (several workers
   never send one twice), its changes are netted per learner (late then on time again is no
   change), narrowed to the reader's scope, and sorted into newly late, newly completed, newly
   to retake and newly unsuccessful (courses: newly completed). Nothing changed: no mail.
3. **Kept until delivered.** The changes a digest took into account are deleted once the mail
   is handed to the mail server; when that fails they stay for the retry. A digest nobody opens
   is not an error: nothing tracks opens.

Every mail has an HTML and a plain-text part, and a signed unsubscribe link that needs no login
(``List-Unsubscribe`` with one-click ``POST``, RFC 8058, for mail clients).
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from lms_admin.roles import can_view_reports
from lms_cache.models import (
    Course,
    CourseAttempt,
    CourseAttemptStage,
    LmsUser,
    PathSession,
    PathSessionUserStat,
    PathSessionUserStatStage,
)
from reports.models import DigestChange, DigestSubscription
from reports.scopes import LMS_USER_LEARNER, USER_STAT_LEARNER, Scope, in_scope, reader_scope

logger = logging.getLogger(__name__)

#: (key, heading, the detailed status a learner newly has, the learner table's status filter)
SESSION_CATEGORIES = (
    ("late", "Newly late", "late"),
    ("completed", "Newly completed", "successful"),
    ("to_retake", "Newly to retake", "toRetake"),
    ("unsuccessful", "Newly unsuccessful", "unsuccessful"),
)
COURSE_COMPLETED = "completed"
#: Learners named per category in a mail; the rest are counted and linked.
NAMES_PER_CATEGORY = 20
#: After a failed send, try again this much later (times the failures in a row), unless the
#: next regular digest comes sooner.
RETRY_AFTER = timedelta(minutes=15)
RETRY_AFTER_MAX = timedelta(hours=4)
BATCH = 2000
UNSUBSCRIBE_SALT = "reports.digests.unsubscribe"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

NOTHING_TO_FOLLOW = "Choose at least one path session or course to follow."
NO_MAIL_ADDRESS = "Your account has no e-mail address, so no digest could reach you: ask an L&D admin to add one."
UNKNOWN_TIME_ZONE = "“{value}” is not a time zone this server knows (e.g. Europe/Paris)."
NO_LONGER_A_READER = "Not sent: this user no longer has access to reports."


def time_zone_names() -> list[str]:
    return sorted(available_timezones())


# Schedule ---------------------------------------------------------------------------------------------
def next_due(*, frequency: str, weekday: int, send_at: time, time_zone: str, after: datetime) -> datetime:
    """The first scheduled send strictly after ``after``: ``send_at`` local time in ``time_zone``,
    every day or on ``weekday`` (0: Monday), as an aware datetime. A local time that a daylight
    saving change skips is sent at the same wall-clock time shifted by the gap, one that it
    repeats at its first occurrence."""
    zone = ZoneInfo(time_zone)
    local = after.astimezone(zone)
    day = local.date()
    for offset in range(0, 8 + 1):
        candidate_day = day + timedelta(days=offset)
        if frequency == DigestSubscription.Frequency.WEEKLY and candidate_day.weekday() != weekday:
            continue
        candidate = datetime.combine(candidate_day, send_at, tzinfo=zone)
        if candidate > after:
            return candidate
    raise AssertionError("a week always holds the weekday")  # pragma: no cover


def describe_schedule(subscription: DigestSubscription) -> str:
    when = subscription.send_at.strftime("%H:%M")
    if subscription.frequency == DigestSubscription.Frequency.WEEKLY:
        return f"Every {WEEKDAYS[subscription.weekday]} at {when} ({subscription.time_zone})"
    return f"Every day at {when} ({subscription.time_zone})"


# Subscriptions ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigestData:
    sessions: list[PathSession]
    courses: list[Course]
    frequency: str
    weekday: int
    send_at: time
    time_zone: str


def digest_list(*, user) -> QuerySet[DigestSubscription]:
    """The user's subscriptions, newest first, with what they follow and the changes waiting."""
    return (
        DigestSubscription.objects.filter(user=user)
        .annotate(pending=Count("changes"))
        .prefetch_related("sessions", "courses")
        .order_by("-created_at", "-pk")
    )


def _apply(subscription: DigestSubscription, data: DigestData, *, now: datetime) -> None:
    subscription.frequency = data.frequency
    subscription.weekday = data.weekday
    subscription.send_at = data.send_at
    subscription.time_zone = data.time_zone
    subscription.next_due_at = next_due(
        frequency=data.frequency, weekday=data.weekday, send_at=data.send_at, time_zone=data.time_zone, after=now
    )
    subscription.save()
    subscription.sessions.set(data.sessions)
    subscription.courses.set(data.courses)


@transaction.atomic
def digest_create(*, user, data: DigestData, now: datetime | None = None) -> DigestSubscription:
    """Follow ``data``'s sessions and courses: the first digest lists what changes from now on."""
    subscription = DigestSubscription(user=user)
    _apply(subscription, data, now=now or timezone.now())
    return subscription


@transaction.atomic
def digest_update(*, subscription: DigestSubscription, data: DigestData, now: datetime | None = None) -> None:
    """Change what a subscription follows and when; changes recorded for what it no longer
    follows are dropped. (Re-subscribing an unsubscribed digest is a new subscription.)"""
    _apply(subscription, data, now=now or timezone.now())
    subscription.changes.exclude(Q(session__in=data.sessions) | Q(course__in=data.courses)).delete()


def digest_delete(*, subscription: DigestSubscription) -> None:
    subscription.delete()


def unsubscribe_token(subscription: DigestSubscription) -> str:
    """A signed token naming the subscription, for the no-login unsubscribe link. It never
    expires: a link in an old mail must still work."""
    return signing.dumps(subscription.pk, salt=UNSUBSCRIBE_SALT)


def subscription_from_token(token: str) -> DigestSubscription | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return DigestSubscription.objects.filter(pk=pk).select_related("user").first()


@transaction.atomic
def digest_unsubscribe(*, subscription: DigestSubscription, now: datetime | None = None) -> bool:
    """Stop the subscription's mail; ``False`` when it was already stopped."""
    stopped = DigestSubscription.objects.filter(pk=subscription.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now or timezone.now()
    )
    subscription.changes.all().delete()
    return bool(stopped)


# Recording, from inside a sync's merge ----------------------------------------------------------------
def _followers(through: type[models.Model], *, target: str, connection_id: int) -> dict[str, tuple[int, list[int]]]:
    """{remote id of a followed session or course: (its pk, ids of the active subscriptions)}."""
    rows = through._default_manager.filter(
        **{f"{target}__connection_id": connection_id, "digestsubscription__unsubscribed_at__isnull": True}
    ).values_list("digestsubscription_id", f"{target}_id", f"{target}__remote_id")
    followed: dict[str, tuple[int, list[int]]] = {}
    for subscription_id, pk, remote_id in rows:
        followed.setdefault(remote_id, (pk, []))[1].append(subscription_id)
    return followed


def _write(changes: Iterable[DigestChange]) -> int:
    written, batch = 0, []
    for change in changes:
        batch.append(change)
        if len(batch) >= BATCH:
            written += len(DigestChange.objects.bulk_create(batch))
            batch = []
    if batch:
        written += len(DigestChange.objects.bulk_create(batch))
    return written


def digest_changes_record_sessions(*, connection_id: int, run_id: int, now: datetime) -> int:
    """For each followed session the run refreshed: a change per learner whose detailed status
    differs from the cache (or who is new to it), per following subscription. Runs on
    ``sessions_merging``: inside the merge's transaction, before the learners are merged.
    Returns the rows written."""
    followed = _followers(DigestSubscription.sessions.through, target="pathsession", connection_id=connection_id)
    if not followed:
        return 0
    before = PathSessionUserStat.objects.filter(
        connection_id=connection_id, remote_id=OuterRef("remote_id"), gone_at__isnull=True
    ).values("status_type")[:1]
    staged = (
        PathSessionUserStatStage.objects.filter(run_id=run_id, session_remote_id__in=list(followed))
        .annotate(before=Subquery(before))
        .filter(Q(before__isnull=True) | ~Q(before=F("status_type")))
        .values_list("session_remote_id", "user_remote_id", "before", "status_type")
    )
    return _write(
        DigestChange(
            subscription_id=subscription_id,
            session_id=followed[session][0],
            user_remote_id=user,
            old_status=old or "",
            new_status=new,
            sync_run_id=run_id,
            recorded_at=now,
        )
        for session, user, old, new in staged.iterator(chunk_size=BATCH)
        for subscription_id in followed[session][1]
    )


def digest_changes_record_attempts(*, connection_id: int, run_id: int, now: datetime) -> int:
    """For each followed course: a change per attempt of the run that is completed and was not
    before (or is new), per following subscription. Runs on ``attempts_merging``: inside the
    course-stats merge's transaction, before the attempts are merged. Returns the rows written."""
    followed = _followers(DigestSubscription.courses.through, target="course", connection_id=connection_id)
    if not followed:
        return 0
    completed_before = CourseAttempt.objects.filter(
        connection_id=connection_id, remote_id=OuterRef("remote_id"), gone_at__isnull=True, completed_at__isnull=False
    )
    staged = (
        CourseAttemptStage.objects.filter(
            run_id=run_id, course_remote_id__in=list(followed), completed_at__isnull=False
        )
        .exclude(Exists(completed_before))
        .values_list("course_remote_id", "user_remote_id")
    )
    return _write(
        DigestChange(
            subscription_id=subscription_id,
            course_id=followed[course][0],
            user_remote_id=user,
            new_status=COURSE_COMPLETED,
            sync_run_id=run_id,
            recorded_at=now,
        )
        for course, user in staged.iterator(chunk_size=BATCH)
        for subscription_id in followed[course][1]
    )


# Composing ---------------------------------------------------------------------------------------------
@dataclass
class Category:
    key: str
    label: str
    url: str
    learners: list[str] = field(default_factory=list)  # "First Last <mail>", sorted
    count: int = 0

    @property
    def more(self) -> int:
        return self.count - len(self.learners)


@dataclass
class Section:
    title: str
    kind: str  # "path session" | "course"
    url: str
    categories: list[Category]

    @property
    def count(self) -> int:
        return sum(c.count for c in self.categories)


@dataclass
class Digest:
    subscription: DigestSubscription
    sections: list[Section]
    change_ids: list[int]
    since: datetime | None
    unsubscribe_url: str
    manage_url: str

    @property
    def count(self) -> int:
        return sum(s.count for s in self.sections)

    def subject(self) -> str:
        totals: dict[str, int] = defaultdict(int)
        for section in self.sections:
            for category in section.categories:
                totals[category.label.lower()] += category.count
        parts = ", ".join(f"{n:,} {label}" for label, n in totals.items() if n)
        return f"LMS Admin digest: {parts}"


def _absolute(path: str, query: dict[str, str] | None = None) -> str:
    return settings.LMS_PUBLIC_URL + path + (f"?{urlencode(query)}" if query else "")


def _learner_label(first: str, last: str, mail: str, remote_id: str) -> str:
    name = " ".join(part for part in (first, last) if part) or remote_id
    return f"{name} <{mail}>" if mail else name


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _net(changes: Iterable[tuple]) -> tuple[dict, dict, list[int]]:
    """Per (session, learner) the status before the first change and after the last; per
    (course, learner) whether an attempt became completed; and the change ids read."""
    sessions: dict[tuple[int, str], list[str]] = {}
    courses: dict[int, set[str]] = defaultdict(set)
    ids = []
    for pk, session_id, course_id, user, old, new in changes:
        ids.append(pk)
        if session_id is not None:
            net = sessions.setdefault((session_id, user), [old, new])
            net[1] = new
        elif course_id is not None:
            courses[course_id].add(user)
    return sessions, courses, ids


def _session_sections(net: dict, scope: Scope | None) -> list[Section]:
    wanted = {new for _, _, new in SESSION_CATEGORIES}
    by_session: dict[int, dict[str, str]] = defaultdict(dict)  # session → {learner: new status}
    for (session_id, user), (old, new) in net.items():
        if new != old and new in wanted:
            by_session[session_id][user] = new
    sections = []
    sessions = PathSession.objects.in_bulk(list(by_session))
    for session_id, learners in by_session.items():
        session = sessions.get(session_id)
        if session is None:
            continue
        shown = in_scope(PathSessionUserStat.objects.current().filter(session_id=session_id), scope, USER_STAT_LEARNER)
        labels: dict[str, str] = {}
        for chunk in _chunks(sorted(learners)):
            rows = shown.filter(user_remote_id__in=chunk).values_list(
                "user_remote_id", "first_name", "last_name", "mail", "status_type"
            )
            for user, first, last, mail, status in rows:
                if status == learners[user]:  # still so: a learner changed again since is listed by then
                    labels[user] = _learner_label(first, last, mail, user)
        path = reverse("pathsession-detail", args=[session_id])
        categories = []
        for key, label, status in SESSION_CATEGORIES:
            names = sorted((labels[u] for u, s in learners.items() if s == status and u in labels), key=str.casefold)
            if names:
                url = _absolute(path, {"status": status}) + "#learners"
                categories.append(Category(key, label, url, names[:NAMES_PER_CATEGORY], len(names)))
        if categories:
            sections.append(Section(session.name, "path session", _absolute(path), categories))
    return sorted(sections, key=lambda s: s.title.casefold())


def _course_sections(net: dict[int, set[str]], scope: Scope | None) -> list[Section]:
    sections = []
    courses = Course.objects.in_bulk(list(net))
    for course_id, users in net.items():
        course = courses.get(course_id)
        if course is None:
            continue
        known = in_scope(LmsUser.objects.current().filter(connection_id=course.connection_id), scope, LMS_USER_LEARNER)
        labels, found = [], set()
        for chunk in _chunks(sorted(users)):
            for user, first, last, mail in known.filter(remote_id__in=chunk).values_list(
                "remote_id", "first_name", "last_name", "mail"
            ):
                labels.append(_learner_label(first, last, mail, user))
                found.add(user)
        if scope is None:
            # Learners the users cache does not know yet still count for a reader who sees everyone.
            labels += sorted(users - found)
        if labels:
            labels.sort(key=str.casefold)
            url = _absolute(reverse("attempt-list"), {"course": str(course_id)})
            category = Category(COURSE_COMPLETED, "Newly completed", url, labels[:NAMES_PER_CATEGORY], len(labels))
            sections.append(Section(course.name, "course", url, [category]))
    return sorted(sections, key=lambda s: s.title.casefold())


def digest_compose(*, subscription: DigestSubscription) -> Digest:
    """What the subscription's next mail says: the changes recorded so far, netted, in the
    reader's scope. ``change_ids`` are the changes it took into account (to delete once sent)."""
    changes = (
        DigestChange.objects.filter(subscription=subscription)
        .order_by("pk")
        .values_list("pk", "session_id", "course_id", "user_remote_id", "old_status", "new_status")
    )
    sessions, courses, ids = _net(changes.iterator(chunk_size=BATCH))
    scope = reader_scope(user=subscription.user)
    sections = _session_sections(sessions, scope) + _course_sections(courses, scope)
    return Digest(
        subscription=subscription,
        sections=sections,
        change_ids=ids,
        since=subscription.last_sent_at,
        unsubscribe_url=_absolute(reverse("digest-unsubscribe", args=[unsubscribe_token(subscription)])),
        manage_url=_absolute(reverse("digest-list")),
    )


# Sending ------------------------------------------------------------------------------------------------
SENT, NOTHING, FAILED, SKIPPED = "sent", "nothing changed", "failed", "skipped"


def _message(digest: Digest) -> EmailMultiAlternatives:
    context = {"digest": digest, "schedule": describe_schedule(digest.subscription)}
    message = EmailMultiAlternatives(
        subject=digest.subject(),
        body=render_to_string("reports/email/digest.txt", context),
        to=[digest.subscription.user.email],
        headers={
            "List-Unsubscribe": f"<{digest.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("reports/email/digest.html", context), "text/html")
    return message


def _delete_changes(ids: list[int]) -> None:
    for chunk in _chunks(ids, 900):  # SQLite's bound-parameter limit
        DigestChange.objects.filter(pk__in=chunk).delete()


def digest_send(*, subscription: DigestSubscription, now: datetime) -> str:
    """Compose and send one digest now (the caller has claimed it). Returns ``SENT``,
    ``NOTHING`` (no mail), ``SKIPPED`` (the user may not read reports any more) or ``FAILED``
    (the mail server refused or could not be reached: the changes wait for the retry)."""
    user = subscription.user
    if not can_view_reports(user) or not user.email:
        DigestSubscription.objects.filter(pk=subscription.pk).update(
            last_error=NO_LONGER_A_READER if user.email else NO_MAIL_ADDRESS
        )
        return SKIPPED
    digest = digest_compose(subscription=subscription)
    if not digest.sections:
        _delete_changes(digest.change_ids)
        DigestSubscription.objects.filter(pk=subscription.pk).update(last_error="", failures=0)
        return NOTHING
    try:
        _message(digest).send()
    except (smtplib.SMTPException, OSError) as exc:
        failures = subscription.failures + 1
        retry = now + min(RETRY_AFTER * failures, RETRY_AFTER_MAX)
        DigestSubscription.objects.filter(pk=subscription.pk).update(
            failures=failures,
            last_error=f"The mail server refused or could not be reached: {exc.__class__.__name__}: {exc}"[:500],
            next_due_at=min(retry, subscription.next_due_at),
        )
        logger.warning("Digest %s not sent (%s); retry at %s", subscription.pk, exc.__class__.__name__, retry)
        return FAILED
    _delete_changes(digest.change_ids)
    DigestSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=now, last_error="", failures=0)
    return SENT


def digest_claim(*, subscription: DigestSubscription, now: datetime) -> bool:
    """Take a due subscription for this worker by moving its ``next_due_at`` to the following
    scheduled send, with a conditional ``UPDATE`` that only one worker can win (``False``:
    another one has it, or it was unsubscribed meanwhile)."""
    following = next_due(
        frequency=subscription.frequency,
        weekday=subscription.weekday,
        send_at=subscription.send_at,
        time_zone=subscription.time_zone,
        after=now,
    )
    claimed = DigestSubscription.objects.filter(
        pk=subscription.pk, next_due_at=subscription.next_due_at, unsubscribed_at__isnull=True
    ).update(next_due_at=following, last_checked_at=now)
    if claimed:
        subscription.next_due_at = following
    return bool(claimed)


def digests_send_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send every digest due at ``now``; returns how many ended each way. Safe to run in several
    workers at once: each subscription is claimed first (``digest_claim``)."""
    now = now or timezone.now()
    outcomes: dict[str, int] = defaultdict(int)
    due = DigestSubscription.objects.filter(unsubscribed_at__isnull=True, next_due_at__lte=now).order_by(
        "next_due_at", "pk"
    )
    for subscription in due.select_related("user")[:limit]:
        if digest_claim(subscription=subscription, now=now):
            outcomes[digest_send(subscription=subscription, now=now)] += 1
    return dict(outcomes)
