"""iSpring Learn's status words: completion statuses and user statuses, as the reports show them.

Plain Python, imported by the client (which checks the remote's values against these), the
reports and the sandbox's iSpring tenant: the one definition of each.
"""

from __future__ import annotations

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
