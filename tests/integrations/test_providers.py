"""The provider registry: built-ins in order, extras from ``LMS_EXTRA_PROVIDERS``, bad settings
refused, connections to a provider no longer installed still handled, and no provider
branching left outside the provider packages."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations import providers
from integrations.models import Connection
from integrations.services.connections import connection_check
from integrations.sync.services import sync_kinds_for

ROOT = Path(__file__).resolve().parents[2]
NOT_A_SPEC = object()
#: Specs a bad setting names (never probed nor synced: loading refuses them).
SAME_VALUE = providers.ProviderSpec(value="360learning", label="Again", probe=connection_check, sync_kinds=())
LONG_VALUE = replace(SAME_VALUE, value="a-provider-value-over-20")


def test_the_built_in_providers_in_order():
    assert providers.choices() == [("360learning", "360Learning"), ("ispring", "iSpring Learn")]
    assert providers.get("360learning").kinds == ("users", "courses", "paths", "sessions", "course-stats")
    assert providers.get("ispring").kinds == ("users", "module-results")
    assert providers.with_kind("course-stats") == ["360learning"]
    assert providers.with_integrations() == ["360learning"]


def test_an_unknown_value_is_refused_by_get_and_none_for_get_or_none():
    with pytest.raises(providers.UnknownProvider, match="No LMS provider “nope” is installed"):
        providers.get("nope")
    assert providers.get_or_none("nope") is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("tests.integrations.test_providers.NOT_A_SPEC", "is not a ProviderSpec"),
        ("tests.integrations.test_providers.SAME_VALUE", "Two provider specs claim the value “360learning”"),
        ("tests.integrations.test_providers.LONG_VALUE", "a provider's value is 1 to 20 characters"),
    ],
)
def test_a_bad_extra_provider_is_refused_on_first_use(settings, extra, message):
    settings.LMS_EXTRA_PROVIDERS = [extra]
    with pytest.raises(ImproperlyConfigured, match=message):
        providers.all()


def test_a_connection_whose_provider_is_no_longer_installed_is_still_handled(db):
    connection = Connection.objects.create(
        name="Gone", provider="gonelms", base_url="https://gone.example", client_id="x"
    )

    result = connection_check(connection=connection)

    assert result.ok is False
    assert result.message == providers.UNKNOWN_PROVIDER.format(value="gonelms")
    assert sync_kinds_for(connection=connection) == ()
    assert connection.get_provider_display() == "gonelms"
    assert connection.provider_spec is None


#: ``Provider.X`` or a comparison with a provider value, in code or templates.
BRANCHING = re.compile(r"\bProvider\.[A-Z]|provider\s*[!=]=\s*[\"']|[\"'](360learning|ispring)[\"']\s*(==|!=|in\b)")


def test_no_provider_branching_outside_the_provider_packages_and_the_registry():
    allowed = {ROOT / "integrations" / "models.py"}
    found = []
    for folder in ("integrations", "lms_cache", "reports", "lms_admin", "sandbox", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".html") or "migrations" in path.parts or path in allowed:
                continue
            if path.is_relative_to(ROOT / "integrations" / "providers"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if BRANCHING.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
