"""iSpring Learn as the registry knows it."""

from __future__ import annotations

from integrations.models import SyncKind
from integrations.providers.base import ProviderSpec
from integrations.providers.ispring import sync
from integrations.providers.ispring.probe import probe
from integrations.providers.ispring.vocabulary import COMPLETION_STATUS_LABELS

#: Each iSpring tenant has its own address (no regions to pick from).
ISPRING_NEEDS_URL = "iSpring Learn tenants have their own address: enter its base URL."

PROVIDER = ProviderSpec(
    value="ispring",
    label="iSpring Learn",
    probe=probe,
    sync_kinds=((SyncKind.MODULE_RESULTS, sync.sync_module_results),),
    base_url_required=ISPRING_NEEDS_URL,
    status_labels=COMPLETION_STATUS_LABELS,
)
