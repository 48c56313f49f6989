"""The words the report pages explain raw statuses with.

They come from the provider that syncs each kind (``providers.vocabulary``): 360Learning's
detailed statuses and their reasons for path sessions, iSpring Learn's completion and user
statuses for module results. Asked at each use, not at import: the registry reads the settings.
"""

from __future__ import annotations

from collections.abc import Mapping

from integrations import providers
from integrations.models import SyncKind


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
