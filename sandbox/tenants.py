"""Sandbox tenants (one per fake LMS account) and the bearer tokens they are issued."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.utils import timezone

from sandbox import constants as c
from sandbox.models import AccessToken, Tenant

TENANT_SETTINGS = (
    "name",
    "scopes",
    "token_ttl_seconds",
    "bulk_api_enabled",
    "bulk_concurrency_limit",
    "bulk_batch_size",
    "bulk_min_state_seconds",
)


def tenant_default() -> Tenant:
    """The demo tenant with the credentials in ``sandbox.constants``, created on first use."""
    tenant, _ = Tenant.objects.get_or_create(
        client_id=c.DEFAULT_CLIENT_ID,
        defaults={
            "name": c.DEFAULT_TENANT_NAME,
            "client_secret": c.DEFAULT_CLIENT_SECRET,
            "company_id": c.DEFAULT_COMPANY_ID,
            "api_key": c.DEFAULT_API_KEY,
            "ispring_client_id": c.DEFAULT_ISPRING_CLIENT_ID,
            "ispring_client_secret": c.DEFAULT_ISPRING_CLIENT_SECRET,
        },
    )
    return tenant


def tenant_create(
    *,
    name: str,
    client_id: str,
    client_secret: str,
    company_id: str,
    api_key: str,
    ispring_client_id: str,
    ispring_client_secret: str,
    **settings: Any,
) -> Tenant:
    """Another tenant, so several connections can point at the sandbox with their own data."""
    unknown = set(settings) - set(TENANT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown tenant settings: {sorted(unknown)}")
    return Tenant.objects.create(
        name=name,
        client_id=client_id,
        client_secret=client_secret,
        company_id=company_id,
        api_key=api_key,
        ispring_client_id=ispring_client_id,
        ispring_client_secret=ispring_client_secret,
        **settings,
    )


def tenant_update(*, client_id: str, **settings: Any) -> Tenant:
    """Change a tenant's behaviour (scopes, token lifetime, bulk limits and pacing, bulk API on/off).

    Raises ``Tenant.DoesNotExist`` and ``ValueError`` for settings not in ``TENANT_SETTINGS``.
    """
    unknown = set(settings) - set(TENANT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown tenant settings: {sorted(unknown)}")
    tenant = Tenant.objects.get(client_id=client_id)
    for key, value in settings.items():
        setattr(tenant, key, value)
    tenant.save(update_fields=list(settings))
    return tenant


# --- tokens -----------------------------------------------------------------------------------
def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(*, tenant: Tenant, api: str) -> tuple[str, int]:
    """A new bearer token for ``api`` (``API_360`` or ``API_ISPRING``) and its lifetime in seconds."""
    ttl = tenant.token_ttl_seconds if api == c.API_360 else c.ISPRING_TOKEN_TTL_SECONDS
    raw = secrets.token_urlsafe(32)
    client_id = tenant.client_id if api == c.API_360 else tenant.ispring_client_id
    AccessToken.objects.create(
        tenant=tenant,
        api=api,
        client_id=client_id,
        token_sha256=_sha256(raw),
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    return raw, ttl


def token_find(*, raw: str, api: str) -> AccessToken | None:
    """The token record for a presented bearer token, expired or not (None when unknown)."""
    if not raw:
        return None
    return AccessToken.objects.select_related("tenant").filter(token_sha256=_sha256(raw), api=api).first()


def token_expire(*, token: AccessToken | None = None, client_id: str | None = None) -> int:
    """Expire one token, or every token of a client; returns how many were live."""
    now = timezone.now()
    tokens = AccessToken.objects.filter(expires_at__gt=now)
    if token is not None:
        tokens = tokens.filter(pk=token.pk)
    elif client_id is not None:
        tokens = tokens.filter(client_id=client_id)
    else:
        raise ValueError("token or client_id is required")
    return tokens.update(expires_at=now - timedelta(seconds=1))
