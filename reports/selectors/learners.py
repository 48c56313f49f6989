"""The Learners report: people across connections (``people``), each with, per connection,
their path sessions, course attempts and iSpring module results, every item's raw status shown
beside the shared taxonomy's (``reports.vocabulary``).

A person is in a manager's scope when one of their learner records is (``reports.scopes``:
``Scope.people``, the rule that also shows a manager the iSpring results of their 360Learning
learners); the whole person is then shown, their iSpring results included. Admins, and
managers whose scope is every learner, see everyone.

A page of people is read in a bounded number of queries: the people, their records, then each
kind of item for all those records at once (``learner_rows``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from integrations.models import Connection
from lms_cache.models import (
    DETAILED_STATUSES,
    STATUS_REASONS,
    CourseAttempt,
    LmsUser,
    ModuleResult,
    PathSessionUserStat,
)
from people.models import LearnerLink, Person, PersonRecord
from reports import vocabulary
from reports.filters import ReportFilters
from reports.scopes import Scope
from reports.selectors.common import ordered, search_words

#: ``ReportFilters.presence``: people known to two or more connections, or to one only.
PRESENCE_CHOICES = {"several": "In two or more LMSs", "one": "In one LMS only"}

LEARNER_SORTS = {
    "name": ("last_name", "first_name"),
    "mail": ("mail",),
    "lms": ("-lms_count", "last_name", "first_name"),
}
LEARNER_DEFAULT_SORT = "name"

# The item kinds, in the words of the pages and the export's ``item_type`` column.
PATH_SESSION = "path session"
COURSE_ATTEMPT = "course attempt"
MODULE_RESULT = "module result"
ITEM_KINDS = (PATH_SESSION, COURSE_ATTEMPT, MODULE_RESULT)
ITEM_KIND_LABELS = {PATH_SESSION: "Path sessions", COURSE_ATTEMPT: "Course attempts", MODULE_RESULT: "Module results"}
#: How many candidates the link search shows.
CANDIDATE_LIMIT = 20


# Scope and filters -----------------------------------------------------------------------------
def people_in_scope(people: QuerySet[Person], scope: Scope | None) -> QuerySet[Person]:
    """``people`` narrowed to those with a learner record in ``scope`` (``None``: every learner),
    the rule the module results follow too (``Scope.people``)."""
    if scope is None:
        return people
    return people.filter(pk__in=scope.people())


def _shared_q(pairs: Iterable[tuple[Q, str]], shared: str) -> Q:
    """The rows whose shared status is ``shared``, from ``(condition, shared status)`` pairs that
    cover every raw status the vocabulary knows."""
    q = Q(pk__in=[])
    for condition, status in pairs:
        if status == shared:
            q |= condition
    return q


def path_session_shared_q(shared: str) -> Q:
    """Path-session learner rows whose detailed status and reason read ``shared``: asked of the
    vocabulary for each status and reason, so the filter and the page never disagree."""
    pairs = []
    for status in DETAILED_STATUSES:
        for reason in ("", *STATUS_REASONS.get(status, ())):
            pairs.append(
                (Q(status_type=status, status_reason=reason), vocabulary.path_session_shared_status(status, reason))
            )
    return _shared_q(pairs, shared)


def course_attempt_shared_q(shared: str) -> Q:
    pairs = []
    for started in (False, True):
        for completed in (False, True):
            condition = Q(completed_at__isnull=not completed) & (Q(progress__gt=0) if started else Q(progress__lte=0))
            pairs.append((condition, vocabulary.course_attempt_shared_status(started=started, completed=completed)))
    return _shared_q(pairs, shared)


def module_result_shared_q(shared: str) -> Q:
    pairs = []
    for status in vocabulary.completion_statuses():
        for overdue in (False, True):
            pairs.append(
                (
                    Q(completion_status=status, is_overdue=overdue),
                    vocabulary.module_result_shared_status(status, overdue),
                )
            )
    return _shared_q(pairs, shared)


def _records_with_items(shared: str) -> QuerySet[PersonRecord]:
    """Records with at least one item (current) whose shared status is ``shared``."""
    same_learner = {"connection_id": OuterRef("connection_id"), "user_remote_id": OuterRef("user__remote_id")}
    stats = PathSessionUserStat.objects.current().filter(**same_learner).filter(path_session_shared_q(shared))
    attempts = CourseAttempt.objects.current().filter(**same_learner).filter(course_attempt_shared_q(shared))
    results = (
        ModuleResult.objects.current()
        .filter(connection_id=OuterRef("connection_id"), user_id=OuterRef("user__remote_id"))
        .filter(module_result_shared_q(shared))
    )
    return PersonRecord.objects.filter(Exists(stats) | Exists(attempts) | Exists(results))


def learners_filtered(filters: ReportFilters) -> QuerySet[Person]:
    """The people the report lists under ``filters`` (scope, search, presence, shared status,
    connection), unsorted."""
    people = people_in_scope(Person.objects.all(), filters.scope)
    if filters.connection is not None:
        people = people.filter(
            Exists(PersonRecord.objects.filter(person=OuterRef("pk"), connection=filters.connection))
        )
    if filters.presence == "several":
        people = people.filter(lms_count__gte=2)
    elif filters.presence == "one":
        people = people.filter(lms_count=1)
    for word in search_words(filters.search):
        spelled = PersonRecord.objects.filter(person=OuterRef("pk")).filter(
            Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word) | Q(user__mail__icontains=word)
        )
        people = people.filter(Exists(spelled))
    if filters.shared_status:
        people = people.filter(Exists(_records_with_items(filters.shared_status).filter(person=OuterRef("pk"))))
    return people


def learner_list(*, filters: ReportFilters) -> QuerySet[Person]:
    """``learners_filtered``, sorted by ``LEARNER_SORTS``."""
    return ordered(learners_filtered(filters), LEARNER_SORTS, filters.sort, LEARNER_DEFAULT_SORT)


def learner_get(*, pk: int, filters: ReportFilters) -> Person:
    """Person ``pk`` if the reader's scope shows them; raises ``Person.DoesNotExist``."""
    return people_in_scope(Person.objects.all(), filters.scope).get(pk=pk)


def learners_item_count(*, filters: ReportFilters) -> int:
    """How many rows the Learners export has under ``filters``: the people's records and their
    current items. Four queries, none reading the rows."""
    records = PersonRecord.objects.filter(person__in=learners_filtered(filters).values("pk"))
    count = records.count()
    same_learner = {"connection_id": OuterRef("connection_id"), "user__remote_id": OuterRef("user_remote_id")}
    for model in (PathSessionUserStat, CourseAttempt):
        count += model.objects.current().filter(Exists(records.filter(**same_learner))).count()
    results = records.filter(connection_id=OuterRef("connection_id"), user__remote_id=OuterRef("user_id"))
    return count + ModuleResult.objects.current().filter(Exists(results)).count()


# One person's items ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LearnerItem:
    """One path session, course attempt or module result of a learner record."""

    kind: str  # ITEM_KINDS
    name: str
    raw_status: str  # as the LMS spells it ("" for an attempt: it has none)
    raw_label: str
    reason: str
    reason_label: str
    shared: str  # a shared status, or "" when the raw status is unknown
    progress: float | None
    completed_at: datetime | None
    due_date: datetime | None = None
    detail: str = ""  # the course of a module result

    @property
    def shared_label(self) -> str:
        return vocabulary.shared_status_label(self.shared)

    @property
    def status_text(self) -> str:
        """The raw status as the page shows it: "To retake — mandatory replay"."""
        return f"{self.raw_label} — {self.reason_label}" if self.reason else self.raw_label


@dataclass(frozen=True)
class ItemSummary:
    """Items of one kind per shared status, with the raw statuses behind each."""

    kind: str
    total: int
    #: (shared status, its label, count, [(raw status text, count)]) in the taxonomy's order.
    shared: list[tuple[str, str, int, list[tuple[str, int]]]]

    @property
    def label(self) -> str:
        return ITEM_KIND_LABELS[self.kind]


@dataclass
class RecordItems:
    """One learner record (a person's record in one connection) and its items."""

    record: PersonRecord
    items: dict[str, list[LearnerItem]] = field(default_factory=lambda: {kind: [] for kind in ITEM_KINDS})

    @property
    def connection(self) -> Connection:
        return self.record.connection

    @property
    def user(self) -> LmsUser:
        return self.record.user

    @property
    def path_sessions(self) -> list[LearnerItem]:
        return self.items[PATH_SESSION]

    @property
    def course_attempts(self) -> list[LearnerItem]:
        return self.items[COURSE_ATTEMPT]

    @property
    def module_results(self) -> list[LearnerItem]:
        return self.items[MODULE_RESULT]

    def summaries(self) -> list[ItemSummary]:
        """Per kind of item this record has, its items per shared status (raw statuses beside)."""
        order = {status: i for i, status in enumerate(vocabulary.shared_status_labels())}
        summaries = []
        for kind in ITEM_KINDS:
            items = self.items[kind]
            if not items:
                continue
            totals: Counter[str] = Counter()
            raw: dict[str, Counter[str]] = defaultdict(Counter)
            for item in items:
                totals[item.shared] += 1
                if item.raw_status:  # course attempts have no raw status: their shared one says it all
                    raw[item.shared][item.status_text] += 1
            shared = [
                (status, vocabulary.shared_status_label(status), count, sorted(raw[status].items()))
                for status, count in sorted(totals.items(), key=lambda kv: order.get(kv[0], len(order)))
            ]
            summaries.append(ItemSummary(kind, len(items), shared))
        return summaries


@dataclass
class LearnerRow:
    """One person and their records, by connection name."""

    person: Person
    records: list[RecordItems]

    @property
    def matched(self) -> str:
        """How the person was matched, in words: by hand wins over e-mail, one LMS only alone."""
        kinds = {r.record.matched for r in self.records}
        for kind in (PersonRecord.Matched.HAND, PersonRecord.Matched.MAIL):
            if kind in kinds:
                return PersonRecord.Matched(kind).label
        return PersonRecord.Matched.ALONE.label


def _stat_item(stat: PathSessionUserStat) -> LearnerItem:
    return LearnerItem(
        kind=PATH_SESSION,
        name=stat.session.name,
        raw_status=stat.status_type,
        raw_label=vocabulary.status_labels().get(stat.status_type, stat.status_type),
        reason=stat.status_reason,
        reason_label=vocabulary.reason_label(stat.status_reason) if stat.status_reason else "",
        shared=vocabulary.path_session_shared_status(stat.status_type, stat.status_reason),
        progress=stat.progress,
        completed_at=stat.completed_at,
        due_date=stat.due_date,
    )


def _attempt_item(attempt: CourseAttempt) -> LearnerItem:
    started, completed = attempt.progress > 0, attempt.completed_at is not None
    shared = vocabulary.course_attempt_shared_status(started=started, completed=completed)
    return LearnerItem(
        kind=COURSE_ATTEMPT,
        name=attempt.course.name if attempt.course else attempt.course_remote_id,
        raw_status="",
        raw_label=f"{attempt.progress}% progress" + (", completed" if completed else ""),
        reason="",
        reason_label="",
        shared=shared,
        progress=attempt.progress,
        completed_at=attempt.completed_at,
    )


def _result_item(result: ModuleResult) -> LearnerItem:
    return LearnerItem(
        kind=MODULE_RESULT,
        name=result.module_title,
        raw_status=result.completion_status,
        raw_label=vocabulary.completion_status_labels().get(result.completion_status, result.completion_status),
        reason="overdue" if result.is_overdue else "",
        reason_label="overdue" if result.is_overdue else "",
        shared=vocabulary.module_result_shared_status(result.completion_status, result.is_overdue),
        progress=result.progress,
        completed_at=result.completion_date,
        due_date=result.due_date,
        detail=result.course_id,
    )


def _by_learner(records: list[PersonRecord]) -> Q:
    """Rows of the records' learners: ``connection_id`` and ``remote`` (the learner's id field)."""
    by_connection: dict[int, list[str]] = defaultdict(list)
    for record in records:
        by_connection[record.connection_id].append(record.user.remote_id)
    q = Q(pk__in=[])
    for connection_id, remote_ids in by_connection.items():
        q |= Q(connection_id=connection_id, remote__in=remote_ids)
    return q


def record_items(records: list[PersonRecord]) -> list[RecordItems]:
    """Each record (with ``user`` and ``connection`` selected) with its current items, in three
    queries whatever the number of records: path sessions by start, attempts by course, results
    by course and module."""
    if not records:
        return []
    q = _by_learner(records)
    wrapped = {(r.connection_id, r.user.remote_id): RecordItems(r) for r in records}
    stats = (
        PathSessionUserStat.objects.current()
        .annotate(remote=F("user_remote_id"))
        .filter(q)
        .select_related("session")
        .order_by("session__start_date", "session__name", "pk")
    )
    for stat in stats:
        wrapped[(stat.connection_id, stat.user_remote_id)].items[PATH_SESSION].append(_stat_item(stat))
    attempts = (
        CourseAttempt.objects.current()
        .annotate(remote=F("user_remote_id"))
        .filter(q)
        .select_related("course")
        .order_by("course__name", "course_remote_id", "first_activity_at", "pk")
    )
    for attempt in attempts:
        wrapped[(attempt.connection_id, attempt.user_remote_id)].items[COURSE_ATTEMPT].append(_attempt_item(attempt))
    results = (
        ModuleResult.objects.current()
        .annotate(remote=F("user_id"))
        .filter(q)
        .order_by("course_id", "module_title", "module_id", "pk")
    )
    for result in results:
        wrapped[(result.connection_id, result.user_id)].items[MODULE_RESULT].append(_result_item(result))
    return list(wrapped.values())


def _records(people: list[Person]) -> dict[int, list[PersonRecord]]:
    records: dict[int, list[PersonRecord]] = defaultdict(list)
    for record in (
        PersonRecord.objects.filter(person__in=people)
        .select_related("user", "connection")
        .order_by("connection__name", "user_id")
    ):
        records[record.person_id].append(record)
    return records


def learner_rows(people: Iterable[Person]) -> list[LearnerRow]:
    """A page of people with their records and items: four queries, whatever the page's size."""
    people = list(people)
    records = _records(people)
    items = {id(r.record): r for r in record_items([r for rs in records.values() for r in rs])}
    return [LearnerRow(person, [items[id(record)] for record in records.get(person.pk, [])]) for person in people]


def learner_record(person: Person) -> LearnerRow:
    """One person's whole record across connections (the learner page)."""
    return learner_rows([person])[0]


# Linking by hand (admins) ---------------------------------------------------------------------
def learner_link_candidates(*, person: Person, search: str) -> QuerySet[LmsUser]:
    """Learner records of connections ``person`` has no record in whose name or e-mail holds
    every word of ``search`` (none without a word), by name, ``CANDIDATE_LIMIT`` at most."""
    words = search_words(search)
    if not words:
        return LmsUser.objects.none()
    users = LmsUser.objects.exclude(connection_id__in=person.records.values("connection_id"))
    for word in words:
        users = users.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(mail__icontains=word))
    return users.select_related("connection").order_by("last_name", "first_name", "pk")[:CANDIDATE_LIMIT]


def learner_links(person: Person) -> QuerySet[LearnerLink]:
    """The admins' decisions naming one of ``person``'s records, newest first."""
    users = person.records.values("user_id")
    return (
        LearnerLink.objects.filter(Q(first_id__in=users) | Q(second_id__in=users))
        .select_related("first__connection", "second__connection", "decided_by")
        .order_by("-decided_at", "-pk")
    )
