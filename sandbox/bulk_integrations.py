"""360Learning Bulk API v2 integrations (the configurations external courses belong to)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from sandbox import constants as c
from sandbox.errors import SandboxError
from sandbox.models import KIND_INTEGRATION, Course, Group, Integration, Tenant, User


def _integration(tenant: Tenant, oid: str) -> Integration:
    integration = (
        Integration.objects.filter(tenant=tenant, oid=oid, deleted_at__isnull=True)
        .select_related("group", "author")
        .first()
    )
    if integration is None:
        raise SandboxError(404, c.ERROR_INTEGRATION_NOT_FOUND, f"No integration has the id {oid!r}.")
    return integration


def _check_platform(tenant: Tenant, *, platform: str, group: Group, exclude_pk: int | None = None) -> None:
    if platform.lower() in {name.lower() for name in c.RESERVED_PLATFORM_NAMES}:
        raise SandboxError(400, c.ERROR_RESERVED_PLATFORM_NAME, f"{platform!r} is a reserved platform name.")
    duplicates = Integration.objects.filter(
        tenant=tenant, group=group, external_platform=platform, deleted_at__isnull=True
    )
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    if duplicates.exists():
        raise SandboxError(
            400, c.ERROR_DUPLICATE_EXTERNAL_PLATFORM, f"{platform!r} already has an integration in this group."
        )


def _group(tenant: Tenant, oid: str) -> Group:
    group = Group.objects.filter(tenant=tenant, oid=oid).first()
    if group is None:
        raise SandboxError(404, c.ERROR_GROUP_NOT_FOUND, f"No group has the id {oid!r}.")
    return group


def _author(tenant: Tenant, oid: str) -> User:
    user = User.objects.filter(tenant=tenant, oid=oid).exclude(status="deleted").first()
    if user is None:
        raise SandboxError(404, c.ERROR_USER_NOT_FOUND, f"No user has the id {oid!r}.")
    return user


_INTEGRATION_FIELDS = {
    "externalPlatformLogoUrl": "external_platform_logo_url",
    "externalPlatformUnicolorLogoUrl": "external_platform_unicolor_logo_url",
    "defaultCompletion": "default_completion",
    "defaultProgress": "default_progress",
    "noGroupPropagation": "no_group_propagation",
}


def integration_create(*, tenant: Tenant, data: dict[str, Any]) -> Integration:
    """POST /api/v2/integrations with a body already valid against BaseIntegrationDTO."""
    group = _group(tenant, data["groupId"])
    author = _author(tenant, data["authorId"])
    _check_platform(tenant, platform=data["externalPlatform"], group=group)
    integration = Integration(
        tenant=tenant,
        oid=tenant.object_id(KIND_INTEGRATION),
        external_platform=data["externalPlatform"],
        group=group,
        author=author,
        created_at=timezone.now(),
    )
    for key, field in _INTEGRATION_FIELDS.items():
        if key in data:
            setattr(integration, field, data[key])
    integration.save()
    return integration


def integration_update(*, tenant: Tenant, oid: str, data: dict[str, Any]) -> Integration:
    """PATCH /api/v2/integrations/{id}: fields not in ``data`` stay as they are."""
    integration = _integration(tenant, oid)
    if "groupId" in data:
        integration.group = _group(tenant, data["groupId"])
    if "authorId" in data:
        integration.author = _author(tenant, data["authorId"])
    platform = data.get("externalPlatform", integration.external_platform)
    if "externalPlatform" in data or "groupId" in data:
        _check_platform(tenant, platform=platform, group=integration.group, exclude_pk=integration.pk)
    integration.external_platform = platform
    for key, field in _INTEGRATION_FIELDS.items():
        if key in data:
            setattr(integration, field, data[key])
    integration.save()
    return integration


def integration_delete(*, tenant: Tenant, oid: str) -> None:
    """DELETE /api/v2/integrations/{id}: the configuration goes and its courses are archived."""
    integration = _integration(tenant, oid)
    with transaction.atomic():
        Course.objects.filter(integration=integration).update(status="archived")
        integration.deleted_at = timezone.now()
        integration.save(update_fields=["deleted_at"])
