"""360Learning clients for a connection: API v2 (client credentials) and API v1 (company + key)."""

from __future__ import annotations

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from integrations.models import Connection
from integrations.providers.learning360.client import Learning360Client
from integrations.providers.learning360.client_v1 import Learning360V1Client
from integrations.services.clients import USER_AGENT, credentials_client


@sensitive_variables("client_secret")
def learning360_client(
    connection: Connection, *, client_secret: str | None = None, interactive: bool = False
) -> Learning360Client:
    """``client_secret`` overrides the stored one (to check a secret before it is saved);
    ``interactive``: a web request waits on it (one attempt, short timeouts)."""
    return credentials_client(Learning360Client, connection, client_secret=client_secret, interactive=interactive)


@sensitive_variables()
def learning360_v1_client(connection: Connection) -> Learning360V1Client | None:
    """None when the connection has no v1 credentials."""
    if not connection.has_v1_credentials:
        return None
    return Learning360V1Client(
        connection.base_url,
        connection.v1_company_id,
        connection.v1_api_key,
        user_agent=USER_AGENT,
        allow_loopback=settings.LMS_ALLOW_LOOPBACK,
    )
