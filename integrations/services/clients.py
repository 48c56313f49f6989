"""Build API clients for a connection. The only place that hands decrypted secrets to a client
(the provider packages' ``connect`` modules call ``credentials_client``).

Every client gets the current ``LMS_ALLOW_LOOPBACK``: a URL stored while it was on stops
working when it is switched off (each connection is checked against the policy of the day).
The functions holding a decrypted secret are ``sensitive_variables`` for Django's error pages.
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.views.decorators.debug import sensitive_variables

from integrations.clients.transport import DEFAULT_RETRY, CredentialsClient, RetryPolicy, user_agent
from integrations.models import Connection

USER_AGENT = user_agent(settings.LMS_ADMIN_VERSION)
C = TypeVar("C", bound=CredentialsClient)

# A person waits on the calls made inside a web request (test connection, the integration form's
# lookups, pull): one attempt and short timeouts, so a slow or failing LMS is reported well
# inside the web server's timeout (gunicorn: 60 s) instead of after minutes of retries. Workers
# and the command line keep the patient defaults (LMS_HTTP_TIMEOUT, retries with backoff).
INTERACTIVE_TIMEOUT: tuple[float, float] = (3.0, 10.0)
INTERACTIVE_RETRY = RetryPolicy(max_attempts=1)


def _patience(interactive: bool) -> dict:
    if interactive:
        return {"timeout": INTERACTIVE_TIMEOUT, "retry": INTERACTIVE_RETRY}
    return {"timeout": settings.LMS_HTTP_TIMEOUT, "retry": DEFAULT_RETRY}


class CacheTokenStore:
    """Access tokens in Django's cache, so every web process and worker shares one token per
    connection instead of each fetching its own.

    The key carries a fingerprint of the secret: a token fetched with an old secret is never
    served to a client holding a new one (or a wrong one, when an admin tests it).
    """

    @sensitive_variables("secret")
    def __init__(self, secret: str) -> None:
        self.prefix = "lms-token:" + hashlib.sha256(secret.encode()).hexdigest()[:16] + ":"

    def get(self, key: str) -> tuple[str, float] | None:
        value = cache.get(self.prefix + key)
        if not value:
            return None
        token, expires_at = value
        return token, expires_at

    def set(self, key: str, token: str, expires_at: float) -> None:
        import time

        cache.set(self.prefix + key, (token, expires_at), timeout=max(1, int(expires_at - time.time())))


@sensitive_variables("secret", "client_secret")
def credentials_client(
    cls: type[C], connection: Connection, *, client_secret: str | None = None, interactive: bool = False
) -> C:
    """A ``cls`` client (its ``provider`` is the ``Connection.provider`` it speaks to) holding
    ``connection``'s address and credentials, the shared token cache and today's address policy.
    ``client_secret`` overrides the stored one; ``interactive``: see ``INTERACTIVE_TIMEOUT``.
    Raises ``ValueError`` for a connection to another provider. A provider package builds its
    client with this."""
    if connection.provider != cls.provider:
        from integrations import providers

        raise ValueError(f"{connection.name} is not a connection to {providers.get(cls.provider).label}")
    secret = client_secret if client_secret is not None else connection.client_secret
    return cls(
        connection.base_url,
        connection.client_id,
        secret,
        token_store=CacheTokenStore(secret),
        user_agent=USER_AGENT,
        allow_loopback=settings.LMS_ALLOW_LOOPBACK,
        **_patience(interactive),
    )
