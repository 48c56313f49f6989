"""iSpring Learn's status words: completion statuses and user statuses, as the reports show them.

Plain Python, imported by the client (which checks the remote's values against these), the
reports and the sandbox's iSpring tenant: the one definition of each.

Module results in the shared status taxonomy (``integrations.providers.shared_status``):

- ``not_started`` → not started;
- ``in_progress``, ``pending`` (submitted, waiting for a reviewer) and ``incomplete`` (left
  unfinished, may be resumed) → in progress;
- ``complete``, ``passed``, ``accepted`` → completed;
- ``failed``, ``declined`` (a reviewer refused it) → failed;
- any unfinished one (not started or in progress above) whose result says ``isOverdue`` →
  overdue: past its due date and still to be done. A finished result stays completed or
  failed whatever ``isOverdue`` says (it was done, late or not).
"""

from __future__ import annotations

from integrations.providers.shared_status import COMPLETED, FAILED, IN_PROGRESS, NOT_STARTED, OVERDUE, UNKNOWN

#: iSpring Learn completion statuses (CompletionStatus.json), in the order the API documents them.
COMPLETION_STATUSES = (
    "not_started",
    "in_progress",
    "pending",
    "complete",
    "passed",
    "accepted",
    "incomplete",
    "failed",
    "declined",
)
COMPLETION_STATUS_LABELS = {status: status.replace("_", " ").capitalize() for status in COMPLETION_STATUSES}
#: userStatuses (the remote shows active users only unless asked).
USER_STATUS_LABELS = {1: "Active", 3: "Blocked"}

MODULE_RESULT_SHARED_STATUS = {
    "not_started": NOT_STARTED,
    "in_progress": IN_PROGRESS,
    "pending": IN_PROGRESS,
    "incomplete": IN_PROGRESS,
    "complete": COMPLETED,
    "passed": COMPLETED,
    "accepted": COMPLETED,
    "failed": FAILED,
    "declined": FAILED,
}


def module_result_shared_status(completion_status: str, is_overdue: bool = False) -> str:
    """A module result's completion status in the shared taxonomy (overdue when unfinished and
    past due); ``UNKNOWN`` for a status this vocabulary does not know."""
    shared = MODULE_RESULT_SHARED_STATUS.get(completion_status, UNKNOWN)
    if is_overdue and shared in (NOT_STARTED, IN_PROGRESS):
        return OVERDUE
    return shared
