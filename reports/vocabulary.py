"""The words the report pages explain raw statuses with.

They come from the provider that syncs each kind (``providers.vocabulary``): 360Learning's
detailed statuses and their reasons for path sessions, iSpring Learn's completion and user
statuses for module results. Asked at each use, not at import: the registry reads the settings.
"""

from __future__ import annotations

from collections.abc import Mapping

from integrations import providers
from integrations.models import SyncKind
from integrations.providers.shared_status import SHARED_STATUS_LABELS


def status_labels() -> Mapping[str, str]:
    """Path-session detailed status -> its label ("onTime" -> "On time")."""
    return providers.vocabulary(SyncKind.SESSIONS).STATUS_LABELS


def status_definitions() -> Mapping[str, str]:
    return providers.vocabulary(SyncKind.SESSIONS).STATUS_DEFINITIONS


def reason_labels() -> Mapping[str, str]:
    """Why a detailed status is what it is ("sessionEnded" -> "session ended")."""
    return providers.vocabulary(SyncKind.SESSIONS).REASON_LABELS


def reason_definitions() -> Mapping[str, str]:
    return providers.vocabulary(SyncKind.SESSIONS).REASON_DEFINITIONS


def status_label(status: str, reason: str = "") -> str:
    """ "To retake — mandatory replay"; an unknown status or reason shows as the LMS spells it."""
    label = status_labels().get(status, status)
    return f"{label} — {reason_label(reason)}" if reason else label


def reason_label(reason: str) -> str:
    return reason_labels().get(reason, reason)


def completion_statuses() -> tuple[str, ...]:
    """Module-result completion statuses, in the order the LMS documents them."""
    return tuple(providers.vocabulary(SyncKind.MODULE_RESULTS).COMPLETION_STATUSES)


def completion_status_labels() -> Mapping[str, str]:
    return providers.vocabulary(SyncKind.MODULE_RESULTS).COMPLETION_STATUS_LABELS


def learner_status_labels() -> Mapping[int, str]:
    """Module results' learner statuses (active, blocked), as the LMS numbers them."""
    return providers.vocabulary(SyncKind.MODULE_RESULTS).USER_STATUS_LABELS


# The shared status taxonomy -------------------------------------------------------------------
# Every learner item (path session, course attempt, module result) also reads in one taxonomy
# (``integrations.providers.shared_status``), shown beside its raw status, never instead of it.
# Each provider's vocabulary says how its raw statuses map and why (its module docstring).
def shared_status_labels() -> Mapping[str, str]:
    """Shared status -> its label, in the taxonomy's order ("in_progress" -> "In progress")."""
    return SHARED_STATUS_LABELS


def shared_status_label(shared: str) -> str:
    """A shared status's label; "—" when the raw status has none (``UNKNOWN``)."""
    return SHARED_STATUS_LABELS.get(shared, "—")


def path_session_shared_status(status: str, reason: str = "") -> str:
    """A path-session learner's detailed status and reason in the shared taxonomy."""
    return providers.vocabulary(SyncKind.SESSIONS).path_session_shared_status(status, reason)


def course_attempt_shared_status(*, started: bool, completed: bool) -> str:
    """A course attempt in the shared taxonomy (``started``: progress above 0; ``completed``: a completion date)."""
    return providers.vocabulary(SyncKind.COURSE_STATS).course_attempt_shared_status(
        started=started, completed=completed
    )


def module_result_shared_status(completion_status: str, is_overdue: bool = False) -> str:
    """A module result's completion status (and overdue flag) in the shared taxonomy."""
    return providers.vocabulary(SyncKind.MODULE_RESULTS).module_result_shared_status(completion_status, is_overdue)


#: How a course attempt's (started, completed) reads in words, for the legend.
_ATTEMPT_STATES = {
    (False, False): "no progress",
    (True, False): "some progress",
    (False, True): "completed",
}


def shared_status_sources() -> list[tuple[str, str, list[tuple[str, list[str]]]]]:
    """The legend of the shared taxonomy, asked of the vocabularies themselves: per shared
    status ``(key, label, [(kind of item, [raw statuses that read so])])``."""
    from lms_cache.models import DETAILED_STATUSES, STATUS_REASONS

    sources: dict[str, dict[str, list[str]]] = {s: {} for s in SHARED_STATUS_LABELS}

    def add(shared: str, kind: str, text: str) -> None:
        if shared in sources and text not in sources[shared].setdefault(kind, []):
            sources[shared][kind].append(text)

    for status in DETAILED_STATUSES:
        for reason in ("", *STATUS_REASONS.get(status, ())):
            add(path_session_shared_status(status, reason), "path sessions", status_label(status, reason))
    for (started, completed), text in _ATTEMPT_STATES.items():
        add(course_attempt_shared_status(started=started, completed=completed), "course attempts", text)
    labels = completion_status_labels()
    for status in completion_statuses():
        for overdue in (False, True):
            add(
                module_result_shared_status(status, overdue),
                "module results",
                labels[status] + (" (overdue)" if overdue else ""),
            )
    return [(key, label, list(sources[key].items())) for key, label in SHARED_STATUS_LABELS.items()]
