"""What a manager asked a report to show: ``ReportFilters``, built by the report forms
(``reports.forms``) from a query string or the command line, and read by every selector
(``reports.selectors``), the freshness stamp and the exports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from integrations.models import Connection
from lms_cache.models import Course, LmsGroup, Path
from reports.scopes import Scope

#: ``ReportFilters.reason`` for "this status, without a reason".
NO_REASON = "none"

#: ``ReportFilters.phase``: where a session is in its life, and how the pages name it.
SESSION_PHASES = {"upcoming": "Not opened yet", "ongoing": "Ongoing", "ended": "Ended"}


@dataclass(frozen=True)
class DateRange:
    """Whole days, both ends included, in the current time zone."""

    start: date | None = None
    end: date | None = None

    def __bool__(self) -> bool:
        return self.start is not None or self.end is not None

    def lower(self) -> datetime | None:
        return _day_start(self.start) if self.start else None

    def upper(self) -> datetime | None:
        """The first instant after the range (exclusive bound)."""
        return _day_start(self.end + timedelta(days=1)) if self.end else None

    def filter(self, queryset: QuerySet, field_name: str) -> QuerySet:
        if self.start:
            queryset = queryset.filter(**{f"{field_name}__gte": self.lower()})
        if self.end:
            queryset = queryset.filter(**{f"{field_name}__lt": self.upper()})
        return queryset


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class ReportFilters:
    """What a manager asked to see. Every selector takes one; each reads the fields that concern it.

    Built by the report forms (``reports.forms``) from a query string or the command line.
    ``sort`` is a key of the selector's ``*_SORTS`` (``-`` first for descending).
    """

    #: The reader's scope (``reports.scopes``); ``None``: every learner.
    scope: Scope | None = None
    connection: Connection | None = None
    search: str = ""
    sort: str = ""
    # Path sessions and their learners.
    path: Path | None = None
    active: DateRange = field(default_factory=DateRange)  # sessions open at some point in the range
    phase: str = ""  # SESSION_PHASES
    status: str = ""  # a detailed status type
    reason: str = ""  # a reason, or NO_REASON
    group: LmsGroup | None = None
    # Course attempts.
    course: Course | None = None
    user: str = ""  # a learner's id, mail or name
    completed: DateRange = field(default_factory=DateRange)  # attempts and iSpring results
    # iSpring module results, as the API filters them.
    user_ids: tuple[str, ...] = ()
    course_ids: tuple[str, ...] = ()
    module_ids: tuple[str, ...] = ()
    completion_statuses: tuple[str, ...] = ()
    user_statuses: tuple[int, ...] = ()
    accessed: DateRange = field(default_factory=DateRange)
    due: DateRange = field(default_factory=DateRange)
    # Learners (people across connections).
    presence: str = ""  # reports.selectors.learners.PRESENCE_CHOICES
    shared_status: str = ""  # a shared status (reports.vocabulary.shared_status_labels)

    def but(self, **changes) -> ReportFilters:
        return replace(self, **changes)
