"""360Learning as the registry knows it."""

from __future__ import annotations

from integrations.models import SyncKind
from integrations.providers.base import ProviderSpec, Region
from integrations.providers.learning360 import sessions, sync
from integrations.providers.learning360.probe import probe
from integrations.providers.learning360.vocabulary import STATUS_LABELS

PROVIDER = ProviderSpec(
    value="360learning",
    label="360Learning",
    probe=probe,
    # Users before the statistics that name them, courses before their attempts, paths
    # before their sessions.
    sync_kinds=(
        (SyncKind.USERS, sync.sync_users),
        (SyncKind.COURSES, sync.sync_courses),
        (SyncKind.PATHS, sync.sync_paths),
        (SyncKind.SESSIONS, sessions.sync_sessions),
        (SyncKind.COURSE_STATS, sync.sync_course_stats),
    ),
    regions=(
        Region("eu", "360Learning EU (app.360learning.com)", "https://app.360learning.com"),
        Region("us", "360Learning US (app.us.360learning.com)", "https://app.us.360learning.com"),
    ),
    v1_access=True,
    integrations=True,
    status_labels=STATUS_LABELS,
)
