"""iSpring Learn as the registry knows it."""

from __future__ import annotations

from integrations.models import SyncKind
from integrations.providers.base import ProviderSpec, SandboxTenant
from integrations.providers.ispring import sync, vocabulary
from integrations.providers.ispring.probe import probe

#: Each iSpring tenant has its own address (no regions to pick from).
ISPRING_NEEDS_URL = "iSpring Learn tenants have their own address: enter its base URL."


def sandbox_tenant(server_root: str) -> SandboxTenant:
    """The sandbox app's iSpring Learn tenant (``sandbox/views/ispring.py``)."""
    from sandbox import constants as c

    return SandboxTenant(
        base_url=server_root + c.URL_PREFIX_ISPRING,
        client_id=c.DEFAULT_ISPRING_CLIENT_ID,
        client_secret=c.DEFAULT_ISPRING_CLIENT_SECRET,
    )


PROVIDER = ProviderSpec(
    value="ispring",
    label="iSpring Learn",
    probe=probe,
    # Users first: "sync all" caches the people before their results.
    sync_kinds=((SyncKind.USERS, sync.sync_users), (SyncKind.MODULE_RESULTS, sync.sync_module_results)),
    incremental_kinds=frozenset({SyncKind.MODULE_RESULTS}),
    base_url_required=ISPRING_NEEDS_URL,
    status_labels=vocabulary.COMPLETION_STATUS_LABELS,
    vocabulary=vocabulary,
    sandbox=sandbox_tenant,
)
