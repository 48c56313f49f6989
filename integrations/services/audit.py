"""The audit log of connections and integrations. Secret values never reach it."""

from __future__ import annotations

from typing import Any

from django.db import models

from integrations.models import AuditEntry

SECRET_CHANGED = "(changed)"


def _actor_name(actor) -> str:
    return actor.get_username() if actor is not None else "command line"


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def audit_record(
    *,
    actor,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    secrets_changed: list[str] | None = None,
) -> AuditEntry | None:
    """Record one change. For updates, only fields whose value differs are kept; an update
    that changed nothing is not recorded."""
    before, after = before or {}, after or {}
    changes: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    for name in secrets_changed or []:
        changes[name] = [None, SECRET_CHANGED]
    if action == AuditEntry.Action.UPDATE and not changes:
        return None
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=_actor_name(actor),
        action=action,
        object_type=str(instance._meta.verbose_name),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes,
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
