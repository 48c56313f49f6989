"""360Learning integration configurations: create, edit, delete remotely, mirror locally."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from integrations import providers
from integrations.clients import errors
from integrations.models import AuditEntry, Connection, Integration
from integrations.services.audit import audit_record, snapshot
from lms_cache.models import LmsUser

# The Bulk API client the registry opens (360Learning's); for the annotations only.
if TYPE_CHECKING:
    from integrations.providers.learning360 import resources

AUDITED_FIELDS = [
    "remote_id",
    "external_platform",
    "group_id",
    "author_id",
    "external_platform_logo_url",
    "external_platform_unicolor_logo_url",
    "default_completion",
    "default_progress",
    "no_group_propagation",
]
# Remote 400/404 codes and the form field each one is about (BadRequest/NotFound .code).
FIELD_OF_REMOTE_CODE = {
    "duplicateExternalPlatform": "external_platform",
    "reservedPlatformName": "external_platform",
    "groupNotFound": "group_id",
    "userNotFound": "author_id",
    "authorNotFound": "author_id",
}
UNCERTAIN_CREATE = (
    "The LMS did not answer after receiving the request; it may have created the integration. "
    "Use “Pull from 360Learning” to see what exists before trying again."
)


@dataclass(frozen=True)
class IntegrationData:
    external_platform: str
    group_id: str
    author_id: str
    external_platform_logo_url: str = ""
    external_platform_unicolor_logo_url: str = ""
    default_completion: bool | None = None
    default_progress: int | None = None
    no_group_propagation: bool | None = None

    def remote_fields(self) -> dict[str, Any]:
        """Keyword arguments for the client; empty logo URLs are left out."""
        return {k: (v or None) if k.endswith("_url") else v for k, v in asdict(self).items()}


class IntegrationRemoteError(Exception):
    """The LMS refused or could not complete a change. ``field`` names the form field it is about."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _remote_error(exc: errors.LmsError) -> IntegrationRemoteError:
    if exc.may_have_been_applied:
        return IntegrationRemoteError(UNCERTAIN_CREATE)
    return IntegrationRemoteError(exc.message, field=FIELD_OF_REMOTE_CODE.get(exc.code or ""))


def _mirror(integration: Integration, remote: resources.Integration) -> None:
    integration.remote_id = remote.id
    integration.external_platform = remote.external_platform
    integration.group_id = remote.group_id
    integration.author_id = remote.author_id
    integration.external_platform_logo_url = remote.external_platform_logo_url or ""
    integration.external_platform_unicolor_logo_url = remote.external_platform_unicolor_logo_url or ""
    integration.default_completion = remote.default_completion
    integration.default_progress = remote.default_progress
    integration.no_group_propagation = remote.no_group_propagation
    if remote.created_at is not None:
        integration.remote_created_at = remote.created_at
    integration.pulled_at = timezone.now()


def integration_create(
    *, actor, connection: Connection, data: IntegrationData, interactive: bool = False
) -> Integration:
    """Create remotely, then mirror. Raises IntegrationRemoteError."""
    try:
        with providers.bulk_client(connection, interactive=interactive) as client:
            remote = client.integration_create(**data.remote_fields())
    except errors.LmsError as exc:
        raise _remote_error(exc) from exc
    with transaction.atomic():
        integration = Integration(connection=connection)
        _mirror(integration, remote)
        integration.save()
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            instance=integration,
            after=snapshot(integration, AUDITED_FIELDS),
        )
    return integration


def integration_update(
    *, actor, integration: Integration, data: IntegrationData, interactive: bool = False
) -> Integration:
    """PATCH only what changed, then mirror. Raises IntegrationRemoteError."""
    before = snapshot(integration, AUDITED_FIELDS)
    wanted = data.remote_fields()
    current = {k: (before[k] or None) if k.endswith("_url") else before[k] for k in wanted}
    changes = {k: v for k, v in wanted.items() if v != current[k]}
    if not changes:
        return integration
    try:
        with providers.bulk_client(integration.connection, interactive=interactive) as client:
            remote = client.integration_edit(integration.remote_id, **changes)
    except errors.LmsError as exc:
        raise _remote_error(exc) from exc
    with transaction.atomic():
        _mirror(integration, remote)
        integration.save()
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            instance=integration,
            before=before,
            after=snapshot(integration, AUDITED_FIELDS),
        )
    return integration


def integration_delete(*, actor, integration: Integration, interactive: bool = False) -> None:
    """Delete remotely (an already-deleted remote counts as done), then locally."""
    try:
        with providers.bulk_client(integration.connection, interactive=interactive) as client:
            client.integration_delete(integration.remote_id)
    except errors.NotFound:
        pass
    except errors.LmsError as exc:
        raise _remote_error(exc) from exc
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            instance=integration,
            before=snapshot(integration, AUDITED_FIELDS),
        )
        if integration.import_runs.exists():
            # Import history stays readable: keep the mirror, marked as gone.
            integration.removed_remotely_at = timezone.now()
            integration.save(update_fields=["removed_remotely_at"])
        else:
            integration.delete()


@dataclass(frozen=True)
class PullResult:
    created: int
    updated: int
    removed: int


def integration_pull(*, actor, connection: Connection, interactive: bool = False) -> PullResult:
    """Adopt every remote integration configuration; mark local mirrors the remote no longer has."""
    with providers.bulk_client(connection, interactive=interactive) as client:
        remotes = list(client.integrations())  # ≤ a few hundred: the remote caps them per tenant
    created = updated = 0
    with transaction.atomic():
        existing = {i.remote_id: i for i in Integration.objects.select_for_update().filter(connection=connection)}
        for remote in remotes:
            integration = existing.pop(remote.id, None)
            is_new = integration is None
            if integration is None:
                integration = Integration(connection=connection)
            before = snapshot(integration, AUDITED_FIELDS)
            _mirror(integration, remote)
            integration.removed_remotely_at = None
            integration.save()
            if is_new:
                created += 1
                audit_record(
                    actor=actor,
                    action=AuditEntry.Action.CREATE,
                    instance=integration,
                    after=snapshot(integration, AUDITED_FIELDS),
                )
            elif audit_record(
                actor=actor,
                action=AuditEntry.Action.UPDATE,
                instance=integration,
                before=before,
                after=snapshot(integration, AUDITED_FIELDS),
            ):
                updated += 1
        gone = [i for i in existing.values() if i.removed_remotely_at is None]
        for integration in gone:
            integration.removed_remotely_at = timezone.now()
            integration.save(update_fields=["removed_remotely_at"])
    return PullResult(created=created, updated=updated, removed=len(gone))


def integration_author_label(*, connection: Connection, author_id: str) -> str:
    """ "First Last <mail>" of a 360Learning user from the synced cache, or "" when unknown."""
    if not author_id:
        return ""
    user = LmsUser.objects.filter(connection=connection, remote_id=author_id).first()
    if user is None:
        return ""
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return f"{name} <{user.mail}>" if name and user.mail else (user.mail or name)
