"""How iSpring Learn's history reads in 360Learning's words: plain rules, no database.

iSpring Learn records one result per learner and *module* (``/learners/modules/results``);
360Learning takes one attempt per learner and *external course*. A course of iSpring becomes
one external course (its id as the external id), and a learner's module results on it become
one statistic:

- progress: 100 when every module of the course is finished, else the mean of the modules'
  progress (a module without a result, or not started, counts 0), a whole number below 100;
- result: ``success`` when every module is complete, passed or accepted; ``failed`` when every
  module is finished and one failed or was declined; otherwise none;
- time spent: the modules' seconds × 1000 (360Learning wants milliseconds, at least 1);
- first activity: the earliest access to a started module; last activity: the latest
  completion when the course is finished, else the latest access or completion.

A learner who started no module of a course has no statistic for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

#: iSpring Learn's completion statuses (``completionStatus`` of a module result).
NOT_STARTED = "not_started"
SUCCESSFUL = frozenset({"complete", "passed", "accepted"})
UNSUCCESSFUL = frozenset({"failed", "declined"})
#: Finished: the learner is done with the module, whatever its outcome. ``pending`` (awaiting a
#: reviewer) and ``incomplete`` are not finished.
FINISHED = SUCCESSFUL | UNSUCCESSFUL

RESULT_SUCCESS = "success"
RESULT_FAILED = "failed"
#: 360Learning's minimum time spent (ImportExternalStatisticsDTO.timeSpent ≥ 1).
MIN_TIME_SPENT_MS = 1
NO_TIME_NOTE = "iSpring Learn recorded no time: sent as 1 ms, 360Learning's minimum"


@dataclass(frozen=True, slots=True)
class ModuleOutcome:
    """One learner's result on one module, as the cache holds it."""

    status: str
    progress: float | None
    seconds: int | None
    access: datetime | None
    completion: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def started(self) -> bool:
        return self.status != NOT_STARTED


@dataclass(frozen=True, slots=True)
class CourseStatistic:
    """One learner's statistic on one course, in the fields 360Learning's stats import takes."""

    progress: int
    result: str
    time_spent_ms: int
    first_activity_at: datetime
    last_activity_at: datetime
    note: str = ""


def course_statistic(outcomes: Sequence[ModuleOutcome], *, module_count: int) -> CourseStatistic | None:
    """The statistic of a learner with ``outcomes`` on a course of ``module_count`` modules;
    None when the learner started none of them (nothing to say in 360Learning)."""
    started = [o for o in outcomes if o.started]
    if not started:
        return None
    modules = max(module_count, len(outcomes))
    finished = len(outcomes) == modules and all(o.finished for o in outcomes)
    if finished:
        progress = 100
        result = RESULT_SUCCESS if all(o.status in SUCCESSFUL for o in outcomes) else RESULT_FAILED
    else:
        total = sum(_module_progress(o) for o in outcomes)
        # Below 100 while a module is unfinished: 100 would complete the course in 360Learning.
        progress = min(99, round(total / modules))
        result = ""
    seconds = sum(o.seconds or 0 for o in started)
    time_spent = seconds * 1000
    note = ""
    if time_spent < MIN_TIME_SPENT_MS:
        time_spent, note = MIN_TIME_SPENT_MS, NO_TIME_NOTE
    accesses = [o.access for o in started if o.access]
    completions = [o.completion for o in started if o.completion]
    first = min(accesses or completions)
    last = max(completions) if finished and completions else max(accesses + completions)
    return CourseStatistic(progress, result, time_spent, first, max(first, last), note)


def _module_progress(outcome: ModuleOutcome) -> float:
    if outcome.finished:
        return 100.0
    if not outcome.started:
        return 0.0
    return max(0.0, min(100.0, outcome.progress or 0.0))


# "Safety basics – module 2", "Safety basics: Module 10", "Safety basics - part 3"…
_TRAILING_SEPARATORS = re.compile(r"[\s\-–—:|/.,(]+$")
_TRAILING_MODULE = re.compile(r"[\s\-–—:|/.,(]*\b(module|part|lesson|unit|chapter)\b\s*\d*\)?\s*$", re.IGNORECASE)
#: A common prefix shorter than this says nothing about the course: the first title is used.
MIN_NAME_LENGTH = 3


def proposed_course_name(titles: Sequence[str]) -> str:
    """A name for a course from its modules' titles: their longest common prefix without the
    trailing separators and "module N", else the first title (the admin may edit it)."""
    titles = [t.strip() for t in titles if t and t.strip()]
    if not titles:
        return ""
    prefix = titles[0]
    for title in titles[1:]:
        while not title.startswith(prefix):
            prefix = prefix[:-1]
    name = _strip_module(prefix)
    if len(name) < MIN_NAME_LENGTH:
        name = _strip_module(titles[0]) or titles[0]
    return name


def _strip_module(text: str) -> str:
    return _TRAILING_SEPARATORS.sub("", _TRAILING_MODULE.sub("", text))
