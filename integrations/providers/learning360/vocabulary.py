"""360Learning's status words: detailed statuses (API v1 path-session stats; ``DetailedStatus``
in the Core API) and their reasons, as the reports show and explain them."""

from __future__ import annotations

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
