"""The provider registry: what each LMS vendor brings, keyed by ``Connection.provider``.

One package per provider (``learning360/``, ``ispring/``) holds everything that knows that
vendor: its client, the probe behind "Test connection", its sync kinds, its connection-form
specifics and its status words; its ``provider.py`` defines one ``ProviderSpec``. The rest of
the code asks this registry (``get``, ``all``, ``with_kind``…) and never compares provider
values itself. ``docs/adding-a-provider.md`` says how to add one.

Providers come from ``BUILTIN_PROVIDERS`` plus the ``LMS_EXTRA_PROVIDERS`` setting (dotted
paths to ``ProviderSpec`` objects), loaded on first use, once Django is set up, and again
after the setting changes (``override_settings`` in tests). This module imports no Django at
import time: the clients in the provider packages must stay importable without it.
"""

from __future__ import annotations

from typing import Any

from integrations.providers.base import ProviderSpec, Region, SandboxTenant

__all__ = [
    "BUILTIN_PROVIDERS",
    "ProviderSpec",
    "Region",
    "SandboxTenant",
    "NoBulkApi",
    "UnknownProvider",
    "all",
    "bulk_client",
    "choices",
    "get",
    "get_or_none",
    "reload",
    "vocabulary",
    "with_integrations",
    "with_kind",
]

BUILTIN_PROVIDERS = (
    "integrations.providers.learning360.provider.PROVIDER",
    "integrations.providers.ispring.provider.PROVIDER",
)
UNKNOWN_PROVIDER = "No LMS provider “{value}” is installed (BUILTIN_PROVIDERS, LMS_EXTRA_PROVIDERS)."
DUPLICATE_PROVIDER = "Two provider specs claim the value “{value}”: {first} and {second}."
NOT_A_SPEC = "{path} is not a ProviderSpec."
BAD_VALUE = "{path}: a provider's value is 1 to {limit} characters (Connection.provider)."
#: ``Connection.provider``'s max_length.
VALUE_MAX_LENGTH = 20

_specs: dict[str, ProviderSpec] | None = None


class UnknownProvider(LookupError):
    """No installed provider has this value (e.g. its package left ``LMS_EXTRA_PROVIDERS``)."""


class NoBulkApi(LookupError):
    """The connection's provider has no integrations to import into (``ProviderSpec.bulk_client``)."""


def _load() -> dict[str, ProviderSpec]:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    specs: dict[str, ProviderSpec] = {}
    origin: dict[str, str] = {}
    for path in (*BUILTIN_PROVIDERS, *getattr(settings, "LMS_EXTRA_PROVIDERS", ())):
        spec = import_string(path)
        if not isinstance(spec, ProviderSpec):
            raise ImproperlyConfigured(NOT_A_SPEC.format(path=path))
        if not 0 < len(spec.value) <= VALUE_MAX_LENGTH:
            raise ImproperlyConfigured(BAD_VALUE.format(path=path, limit=VALUE_MAX_LENGTH))
        if spec.value in specs:
            raise ImproperlyConfigured(
                DUPLICATE_PROVIDER.format(value=spec.value, first=origin[spec.value], second=path)
            )
        specs[spec.value] = spec
        origin[spec.value] = path
    return specs


def _registry() -> dict[str, ProviderSpec]:
    global _specs
    if _specs is None:
        _specs = _load()
    return _specs


def reload() -> None:
    """Forget the loaded specs; the next call reads the settings again."""
    global _specs
    _specs = None


def all() -> list[ProviderSpec]:  # shadows the builtin on purpose: providers.all()
    """Every installed provider, built-ins first, in registration order."""
    return list(_registry().values())


def get(value: str) -> ProviderSpec:
    """The spec of ``value`` (a ``Connection.provider``); raises ``UnknownProvider``."""
    try:
        return _registry()[value]
    except KeyError:
        raise UnknownProvider(UNKNOWN_PROVIDER.format(value=value)) from None


def get_or_none(value: str) -> ProviderSpec | None:
    return _registry().get(value)


def choices() -> list[tuple[str, str]]:
    """``(value, label)`` of every provider: ``Connection.provider``'s choices (a callable, so a
    new provider needs no migration) and the connection form's."""
    return [(spec.value, spec.label) for spec in _registry().values()]


def with_kind(kind: str) -> list[str]:
    """The provider values that sync ``kind``: the connections a report fed by it reads."""
    return [spec.value for spec in _registry().values() if kind in spec.kinds]


def with_integrations() -> list[str]:
    """The provider values that have integration configurations (and imports into them)."""
    return [spec.value for spec in _registry().values() if spec.integrations]


def vocabulary(kind: str) -> Any:
    """The status words of the first installed provider that syncs ``kind``: the report pages
    of that kind explain its raw statuses with them. Raises ``UnknownProvider`` when none does."""
    for spec in _registry().values():
        if kind in spec.kinds and spec.vocabulary is not None:
            return spec.vocabulary
    raise UnknownProvider(f"No installed LMS provider syncs {kind!r} with status words.")


def bulk_client(connection: Any, **options: Any) -> Any:
    """The Bulk API client of ``connection``'s provider (``ProviderSpec.bulk_client``; options
    such as ``interactive`` pass through). Raises ``NoBulkApi`` when the provider has none."""
    spec = get(connection.provider)
    if spec.bulk_client is None:
        raise NoBulkApi(f"{spec.label} has no integrations to import into.")
    return spec.bulk_client(connection, **options)
