"""Connections: create, change, delete (each audited) and check against the remote LMS."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations import crypto, providers
from integrations.models import AuditEntry, Connection
from integrations.services.audit import audit_record, snapshot

AUDITED_FIELDS = [
    "name",
    "provider",
    "base_url",
    "client_id",
    "v1_company_id",
    "stale_after_hours",
    "alert_after_failures",
]


@dataclass(frozen=True)
class ConnectionData:
    """What a form or the command line gives for a connection. Empty secrets mean "keep"."""

    name: str
    provider: str
    base_url: str
    client_id: str
    client_secret: str = ""
    v1_company_id: str = ""
    v1_api_key: str = ""
    stale_after_hours: int = 24
    alert_after_failures: int = 3


def _apply(connection: Connection, data: ConnectionData) -> list[str]:
    connection.name = data.name
    connection.provider = data.provider
    connection.base_url = data.base_url
    connection.client_id = data.client_id
    connection.v1_company_id = data.v1_company_id
    connection.stale_after_hours = data.stale_after_hours
    connection.alert_after_failures = data.alert_after_failures
    secrets_changed = []
    if data.client_secret:
        connection.client_secret = data.client_secret
        secrets_changed.append("client_secret")
    if data.v1_api_key:
        connection.v1_api_key = data.v1_api_key
        secrets_changed.append("v1_api_key")
    if not data.v1_company_id and connection.v1_api_key_encrypted:
        # Removing the company id removes the v1 access altogether.
        connection.v1_api_key_encrypted = ""
        secrets_changed.append("v1_api_key")
    return secrets_changed


@transaction.atomic
def connection_create(*, actor, data: ConnectionData) -> Connection:
    connection = Connection()
    secrets_changed = _apply(connection, data)
    connection.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=connection,
        after=snapshot(connection, AUDITED_FIELDS),
        secrets_changed=secrets_changed,
    )
    return connection


@transaction.atomic
def connection_update(*, actor, connection: Connection, data: ConnectionData) -> Connection:
    before = snapshot(connection, AUDITED_FIELDS)
    secrets_changed = _apply(connection, data)
    credentials_changed = (
        bool(secrets_changed) or before["client_id"] != data.client_id or before["base_url"] != data.base_url
    )
    if credentials_changed:
        # The last check speaks of the old credentials; it says nothing of the new ones.
        connection.last_check_ok = None
        connection.last_checked_at = None
        connection.last_error = ""
    connection.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        instance=connection,
        before=before,
        after=snapshot(connection, AUDITED_FIELDS),
        secrets_changed=secrets_changed,
    )
    return connection


@transaction.atomic
def connection_delete(*, actor, connection: Connection) -> None:
    audit_record(
        actor=actor, action=AuditEntry.Action.DELETE, instance=connection, before=snapshot(connection, AUDITED_FIELDS)
    )
    connection.delete()


def connection_rotate_secrets() -> int:
    """Re-encrypt every stored secret with the newest FIELD_ENCRYPTION_KEY. Returns rows changed."""
    changed = 0
    with transaction.atomic():
        for connection in Connection.objects.select_for_update():
            connection.client_secret_encrypted = crypto.rotate(connection.client_secret_encrypted)
            connection.v1_api_key_encrypted = crypto.rotate(connection.v1_api_key_encrypted)
            connection.save(update_fields=["client_secret_encrypted", "v1_api_key_encrypted"])
            changed += 1
    return changed


def connection_sandbox_hint(*, server_url: str) -> list[tuple[str, providers.SandboxTenant]] | None:
    """Per provider the embedded sandbox LMS emulates, its label and what to type to connect it
    on this server (``server_url``, e.g. ``http://127.0.0.1:8000``); None when the sandbox is off
    (production) or emulates none of the installed providers."""
    if not settings.SANDBOX_ENABLED:
        return None
    root = server_url.rstrip("/")
    return [(spec.label, spec.sandbox(root)) for spec in providers.all() if spec.sandbox is not None] or None


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    facts: tuple[tuple[str, str], ...] = ()


def connection_health_record(*, connection_id: int, ok: bool, error: str = "") -> None:
    """Store what the latest contact with the LMS says of a connection's health.

    A "Test connection", and also every sync that completes (the credentials and the address
    worked just now) or that the LMS refused: an admin should never read "Unchecked" next to a
    sync that succeeded a minute ago.
    """
    Connection.objects.filter(pk=connection_id).update(
        last_checked_at=timezone.now(), last_check_ok=ok, last_error="" if ok else error[:2000]
    )


def _record_check(connection: Connection, result: CheckResult) -> None:
    connection_health_record(connection_id=connection.pk, ok=result.ok, error=result.message)
    connection.refresh_from_db(fields=["last_checked_at", "last_check_ok", "last_error"])


CHECK_AUTH = "The LMS refused the credentials: check the client id and secret, and the region. ({detail})"
CHECK_SCOPE = "The credentials work but lack a permission this product needs. ({detail})"
CHECK_NOT_FOUND = "This address does not serve the {provider} API: check the base URL or region. ({detail})"
CHECK_UNAVAILABLE = "The LMS could not be reached or is unavailable right now. ({detail})"
CHECK_BAD_RESPONSE = "The address answered, but not as the {provider} API does. ({detail})"
CHECK_RATE_LIMITED = "The LMS is rate-limiting this client; try again in a minute. ({detail})"
CHECK_BAD_REQUEST = "The LMS rejected the check request. ({detail})"
CHECK_ADDRESS_REFUSED = "{detail} Nothing was sent: edit the connection to change its base URL."


@sensitive_variables("client_secret")
def connection_check(
    *, connection: Connection, client_secret: str | None = None, record: bool = True, interactive: bool = False
) -> CheckResult:
    """Fetch a token and one small listing; say what the tenant looks like or exactly why not.

    ``client_secret`` checks a secret before it is saved. The outcome is stored as the
    connection's health unless ``record`` is false. ``interactive``: a web request waits on it
    (one attempt, short timeouts). Never raises for remote faults.
    """
    from integrations.clients import errors

    spec = providers.get_or_none(connection.provider)
    if spec is None:
        result = CheckResult(ok=False, message=providers.UNKNOWN_PROVIDER.format(value=connection.provider))
        if record and connection.pk:
            _record_check(connection, result)
        return result
    provider = spec.label
    try:
        facts = spec.probe(connection, client_secret=client_secret, interactive=interactive)
        result = CheckResult(ok=True, message=f"Connected to {provider} at {connection.base_url}.", facts=facts)
    except errors.AddressRefused as exc:
        # A stored URL the policy refuses today (loopback switched off, a name now pointing
        # inside, a URL saved before the rules tightened): nothing was sent.
        result = CheckResult(ok=False, message=CHECK_ADDRESS_REFUSED.format(detail=exc.message))
    except errors.AuthError as exc:
        result = CheckResult(ok=False, message=CHECK_AUTH.format(detail=exc.message))
    except errors.PermissionDenied as exc:
        result = CheckResult(ok=False, message=CHECK_SCOPE.format(detail=exc.message))
    except errors.NotFound as exc:
        result = CheckResult(ok=False, message=CHECK_NOT_FOUND.format(provider=provider, detail=exc.message))
    except errors.RateLimited as exc:
        result = CheckResult(ok=False, message=CHECK_RATE_LIMITED.format(detail=exc.message))
    except errors.RemoteUnavailable as exc:
        result = CheckResult(ok=False, message=CHECK_UNAVAILABLE.format(detail=exc.message))
    except errors.BadResponse as exc:
        result = CheckResult(ok=False, message=CHECK_BAD_RESPONSE.format(provider=provider, detail=exc.message))
    except errors.BadRequest as exc:
        result = CheckResult(ok=False, message=CHECK_BAD_REQUEST.format(detail=exc.message))
    except errors.LmsError as exc:
        result = CheckResult(ok=False, message=f"The check failed: {exc.message}")
    if record and connection.pk:
        _record_check(connection, result)
    return result
