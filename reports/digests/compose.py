"""What a digest says: the changes recorded for a subscription, netted per learner (late then on
time again is no change), narrowed to the reader's scope and sorted into sections (one per
session or course) and categories (newly late, completed, to retake, unsuccessful)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from lms_cache.models import Course, LmsUser, PathSession, PathSessionUserStat
from reports.digests.changes import BATCH, COURSE_COMPLETED
from reports.digests.subscriptions import unsubscribe_token
from reports.models import DigestChange, DigestSubscription
from reports.scopes import LMS_USER_LEARNER, USER_STAT_LEARNER, Scope, in_scope, reader_scope

#: (key, heading, the detailed status a learner newly has, the learner table's status filter)
SESSION_CATEGORIES = (
    ("late", "Newly late", "late"),
    ("completed", "Newly completed", "successful"),
    ("to_retake", "Newly to retake", "toRetake"),
    ("unsuccessful", "Newly unsuccessful", "unsuccessful"),
)
#: Learners named per category in a mail; the rest are counted and linked.
NAMES_PER_CATEGORY = 20


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


def chunks(items: list, size: int = 500):
    """``items`` in slices of ``size``: SQL ``IN`` lists stay short (sending deletes with it too)."""
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
        for chunk in chunks(sorted(learners)):
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
        for chunk in chunks(sorted(users)):
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
