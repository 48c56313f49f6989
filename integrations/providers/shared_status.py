"""The one status taxonomy every LMS's learner items are also shown in, beside their raw status
(never instead of it): a 360Learning path session, a 360Learning course attempt and an iSpring
Learn module result each say "not started", "in progress", "completed", "failed" or "overdue".

Plain Python (imported by the provider vocabularies, which the iSpring client imports too).
Each provider's ``vocabulary.py`` maps its raw statuses here and documents its edge cases; the
reports read the mapping through ``reports.vocabulary``.

The words mean:

- **not started**: the learner has not begun (or cannot begin yet);
- **in progress**: begun, not finished, not past a due date — including work waiting on someone
  else (a correction, a review) and a retake with attempts left;
- **completed**: finished and, where there is a bar, above it;
- **failed**: finished below the bar, or closed with no attempt left (the session ended);
- **overdue**: not finished, past its due date, and can still be finished.
"""

from __future__ import annotations

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
FAILED = "failed"
OVERDUE = "overdue"

#: In the order a learner goes through them (overdue last: it qualifies an unfinished item).
SHARED_STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED, FAILED, OVERDUE)
SHARED_STATUS_LABELS = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed",
    FAILED: "Failed",
    OVERDUE: "Overdue",
}
#: A raw status the mapping does not know (a new one from the LMS): shown raw only.
UNKNOWN = ""
