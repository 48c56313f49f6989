"""What a provider package gives the registry: one ``ProviderSpec``.

Plain Python (no Django import at module level), so a provider's client module stays importable
without Django even though it lives in the same package. The callables a spec holds (probe,
syncers) are imported by the provider's own ``provider.py``, which only the registry imports,
once Django is set up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from integrations.sync.context import SyncContext

#: "Test connection": a token and one small listing, as ``(label, value)`` facts to show.
#: Raises the client's ``LmsError`` subclasses; ``connection_check`` turns them into words.
Probe = Callable[..., tuple[tuple[str, str], ...]]
#: One sync kind: lists what the LMS has, stages it and commits the merge through ``ctx``.
Syncer = Callable[["SyncContext"], None]

BASE_URL_REQUIRED = "Enter the tenant's base URL."


@dataclass(frozen=True)
class Region:
    """A fixed base URL the connection form offers for a provider (its regions or clouds).
    ``key`` is the form's ``region`` value and must be unique across providers."""

    key: str
    label: str
    base_url: str


@dataclass(frozen=True)
class SandboxTenant:
    """What to type to connect the embedded sandbox LMS's emulation of a provider (demo and
    tests only; these are not secrets)."""

    base_url: str
    client_id: str
    client_secret: str
    v1_company_id: str = ""
    v1_api_key: str = ""


@dataclass(frozen=True)
class ProviderSpec:
    """Everything the shared code needs to know of one LMS vendor.

    - ``value``: what ``Connection.provider`` stores (stable: changing it orphans connections).
    - ``label``: the vendor's name as the pages show it.
    - ``probe(connection, *, client_secret, interactive)``: "Test connection" (see ``Probe``).
    - ``sync_kinds``: ``(SyncKind value, syncer)`` in the order "sync all" runs them (kinds
      feeding others first). A report reads the connections whose provider has its kind.
    - ``incremental_kinds``: the kinds whose listing can start from a cursor (what changed
      since the last completed run); the others list everything every time.
    - ``regions``: fixed base URLs the connection form offers; none means "type the base URL",
      and ``base_url_required`` is the error when it is left empty.
    - ``v1_access``: the connection form and page show the optional second credential pair
      (v1 company id + API key), both or neither.
    - ``bulk_client(connection, *, interactive=False)``: the provider's API client for a
      connection, with the 360Learning Bulk API v2 surface (integration configurations,
      external courses and their statistics, bulk operations); None when the provider has no
      integrations to import into. ``integrations`` says whether it has one.
    - ``status_labels``: display words for the raw statuses its records carry.
    - ``vocabulary``: its status words module (``<package>/vocabulary.py``), which the report
      pages of its kinds read through ``providers.vocabulary(kind)`` (labels, definitions).
    - ``sandbox(server_root)``: where the embedded sandbox LMS (``SANDBOX_ENABLED``) emulates
      this provider on the server at ``server_root`` (e.g. ``http://127.0.0.1:8000``) and its
      demo credentials; None when the sandbox has no emulation of it. The connection form's
      demo hint and the ``demo`` command's connections come from it.
    """

    value: str
    label: str
    probe: Probe
    sync_kinds: tuple[tuple[str, Syncer], ...]
    incremental_kinds: frozenset[str] = frozenset()
    regions: tuple[Region, ...] = ()
    base_url_required: str = BASE_URL_REQUIRED
    v1_access: bool = False
    bulk_client: Callable[..., Any] | None = None
    status_labels: Mapping[str, str] = field(default_factory=dict)
    vocabulary: Any = None
    sandbox: Callable[[str], SandboxTenant] | None = None

    @property
    def integrations(self) -> bool:
        return self.bulk_client is not None

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind, _ in self.sync_kinds)

    def syncer(self, kind: str) -> Syncer:
        """The function syncing ``kind``; ``KeyError`` when the provider has no such kind."""
        return dict(self.sync_kinds)[kind]

    def status_label(self, status: str) -> str:
        return self.status_labels.get(status, status)


def first_items(iterable: Iterable[Any], limit: int) -> list[Any]:
    """At most ``limit`` items of a (lazily paginated) listing: a probe reads one page, not all."""
    items = []
    for item in iterable:
        items.append(item)
        if len(items) >= limit:
            break
    return items
