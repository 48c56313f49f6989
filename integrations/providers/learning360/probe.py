"""360Learning's "Test connection": a token, then the first groups and integration configurations."""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables

from integrations.models import Connection
from integrations.providers.base import first_items
from integrations.providers.learning360.connect import learning360_client

GROUPS_SHOWN = 500
INTEGRATIONS_SHOWN = 100


@sensitive_variables("client_secret")
def probe(
    connection: Connection, *, client_secret: str | None = None, interactive: bool = False
) -> tuple[tuple[str, str], ...]:
    with learning360_client(connection, client_secret=client_secret, interactive=interactive) as client:
        groups = first_items(client.groups(), GROUPS_SHOWN)
        integrations = first_items(client.integrations(), INTEGRATIONS_SHOWN)
    facts = [
        (
            "Groups",
            f"{len(groups)}{'+' if len(groups) == GROUPS_SHOWN else ''}"
            + (f" (e.g. {groups[0].name})" if groups else ""),
        ),
        ("Integration configurations", f"{len(integrations)}{'+' if len(integrations) == INTEGRATIONS_SHOWN else ''}"),
    ]
    return tuple(facts)
