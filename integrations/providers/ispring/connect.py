"""The iSpring Learn client for a connection."""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables

from integrations.models import Connection
from integrations.providers.ispring.client import ISpringClient
from integrations.services.clients import credentials_client


@sensitive_variables("client_secret")
def ispring_client(
    connection: Connection, *, client_secret: str | None = None, interactive: bool = False
) -> ISpringClient:
    """``client_secret`` overrides the stored one (to check a secret before it is saved);
    ``interactive``: a web request waits on it (one attempt, short timeouts)."""
    return credentials_client(ISpringClient, connection, client_secret=client_secret, interactive=interactive)
