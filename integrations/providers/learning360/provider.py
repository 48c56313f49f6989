"""360Learning as the registry knows it."""

from __future__ import annotations

from integrations.models import SyncKind
from integrations.providers.base import ProviderSpec, Region, SandboxTenant
from integrations.providers.learning360 import sessions, sync, vocabulary
from integrations.providers.learning360.connect import learning360_client
from integrations.providers.learning360.probe import probe


def sandbox_tenant(server_root: str) -> SandboxTenant:
    """The sandbox app's 360Learning tenant (``sandbox/views/learning360.py``), v1 access included."""
    from sandbox import constants as c

    return SandboxTenant(
        base_url=server_root + c.URL_PREFIX_360,
        client_id=c.DEFAULT_CLIENT_ID,
        client_secret=c.DEFAULT_CLIENT_SECRET,
        v1_company_id=c.DEFAULT_COMPANY_ID,
        v1_api_key=c.DEFAULT_API_KEY,
    )


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
    # The Core API filters these by date (completedAt, modifiedAt); users, courses and paths
    # are listed whole.
    incremental_kinds=frozenset({SyncKind.SESSIONS, SyncKind.COURSE_STATS}),
    regions=(
        Region("eu", "360Learning EU (app.360learning.com)", "https://app.360learning.com"),
        Region("us", "360Learning US (app.us.360learning.com)", "https://app.us.360learning.com"),
    ),
    v1_access=True,
    bulk_client=learning360_client,
    status_labels=vocabulary.STATUS_LABELS,
    vocabulary=vocabulary,
    sandbox=sandbox_tenant,
)
