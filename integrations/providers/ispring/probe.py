"""iSpring Learn's "Test connection": a token, then one module result (or none)."""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables

from integrations.models import Connection
from integrations.providers.base import first_items
from integrations.providers.ispring.connect import ispring_client


@sensitive_variables("client_secret")
def probe(
    connection: Connection, *, client_secret: str | None = None, interactive: bool = False
) -> tuple[tuple[str, str], ...]:
    with ispring_client(connection, client_secret=client_secret, interactive=interactive) as client:
        results = first_items(client.module_results(page_size=1), 1)
    return (("Module results readable", "yes" if results else "yes (none yet)"),)
