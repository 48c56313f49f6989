"""360Learning's status words: detailed statuses (API v1 path-session stats; ``DetailedStatus``
in the Core API) and their reasons, as the reports show and explain them, and how they read in
the shared status taxonomy (``integrations.providers.shared_status``).

Path sessions, by detailed status:

- ``sessionNotOpened``, ``notYetStarted`` → not started;
- ``onTime``, ``awaitingCorrection`` (the learner waits on an assessor) and ``toRetake`` (attempts
  left) → in progress;
- ``late`` → overdue (late on a mandatory step's due date, and can still finish);
- ``successful`` → completed;
- ``unsuccessful`` → failed.

Reasons change nothing, on purpose: ``toRetake — mandatory replay`` still has attempts (in
progress), and ``unsuccessful — session ended`` can no longer be finished, so it is failed, not
overdue. The reason is kept in the signature so a future reason can matter without changing callers.

Course attempts (``/courses/stats``) have no status: a completion date → completed; else some
progress → in progress; else not started. An attempt is never failed nor overdue here (the
course statistics carry neither a pass mark nor a due date).
"""

from __future__ import annotations

from integrations.providers.shared_status import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    NOT_STARTED,
    OVERDUE,
    UNKNOWN,
)

STATUS_LABELS = {
    "notYetStarted": "Not yet started",
    "onTime": "On time",
    "late": "Late",
    "awaitingCorrection": "Awaiting correction",
    "successful": "Successful",
    "toRetake": "To retake",
    "unsuccessful": "Unsuccessful",
    "sessionNotOpened": "Session not opened",
}
STATUS_DEFINITIONS = {
    "notYetStarted": "Enrolled in an ongoing session and has not started the path yet.",
    "onTime": "Started the path, has not completed all the mandatory steps, and has not reached a blocking point.",
    "late": "Started the path and is late on the relative due date of at least one mandatory step.",
    "awaitingCorrection": "Reached an assessment step whose assessor has not validated it yet.",
    "successful": "Completed all the mandatory steps and fulfilled every required condition "
    "(time limit, minimum score, mandatory replay).",
    "toRetake": "Completed all the mandatory steps without fulfilling every required condition, and has attempts left.",
    "unsuccessful": "Was not yet started, on time, late or to retake when the session ended; or completed "
    "the path without fulfilling the conditions and has no attempts left.",
    "sessionNotOpened": "Enrolled in a session that has not started yet.",
}
REASON_LABELS = {"mandatoryReplay": "mandatory replay", "sessionEnded": "session ended"}
REASON_DEFINITIONS = {
    "mandatoryReplay": "Completed some mandatory steps outside the path, where the path requires a replay.",
    "sessionEnded": "The session ended while the learner was not yet started, on time, late or to retake.",
}

PATH_SESSION_SHARED_STATUS = {
    "sessionNotOpened": NOT_STARTED,
    "notYetStarted": NOT_STARTED,
    "onTime": IN_PROGRESS,
    "awaitingCorrection": IN_PROGRESS,
    "toRetake": IN_PROGRESS,
    "late": OVERDUE,
    "successful": COMPLETED,
    "unsuccessful": FAILED,
}


def path_session_shared_status(status: str, reason: str = "") -> str:
    """A path-session learner's detailed status (and reason) in the shared taxonomy; ``UNKNOWN``
    for a status this vocabulary does not know."""
    return PATH_SESSION_SHARED_STATUS.get(status, UNKNOWN)


def course_attempt_shared_status(*, started: bool, completed: bool) -> str:
    """A course attempt in the shared taxonomy: ``completed`` when it has a completion date,
    ``started`` when its progress is above 0."""
    if completed:
        return COMPLETED
    return IN_PROGRESS if started else NOT_STARTED
