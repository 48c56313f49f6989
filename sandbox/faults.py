"""Fault knobs: make the next calls of a client misbehave (429, 5xx, slow, expired token, …)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F

from sandbox import constants as c
from sandbox.models import FaultRule


def fault_add(
    *,
    client_id: str,
    kind: str,
    count: int = 1,
    path_prefix: str = "",
    method: str = "",
    status: int | None = None,
    retry_after: int | None = None,
    delay_seconds: float | None = None,
) -> FaultRule:
    """Make the next ``count`` calls of ``client_id`` misbehave.

    ``client_id`` is the 360Learning client id (also used for its v1 calls) or the iSpring one.
    Kinds (``constants.FAULT_*``): ``rate_limit`` (429 + Retry-After, default 1 s),
    ``server_error`` (``status`` 500/502/503/504, default 503), ``slow`` (wait
    ``delay_seconds``, default 1.0, then answer normally), ``expired_token`` (the presented token
    expires: 401), ``malformed_body`` (200 with a truncated body; nothing applied),
    ``bulk_error`` (the bulk operation the call creates ends in status ``error``).
    ``path_prefix`` matches the vendor path (``/api/v2/bulk/``, ``/learners/``), not the mount.
    Raises ``ValueError`` on an unknown kind or status.
    """
    if kind not in c.FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(c.FAULT_KINDS)}")
    if count < 1:
        raise ValueError("count must be at least 1")
    if kind == c.FAULT_SERVER_ERROR:
        status = status or 503
        if status not in c.SERVER_ERROR_STATUSES:
            raise ValueError(f"server_error status must be one of {c.SERVER_ERROR_STATUSES}")
    elif status is not None:
        raise ValueError("status only applies to server_error")
    if kind == c.FAULT_RATE_LIMIT and retry_after is None:
        retry_after = c.RETRY_AFTER_SECONDS
    if kind == c.FAULT_SLOW and delay_seconds is None:
        delay_seconds = 1.0
    return FaultRule.objects.create(
        client_id=client_id,
        kind=kind,
        remaining=count,
        path_prefix=path_prefix,
        method=method.upper(),
        status=status,
        retry_after=retry_after,
        delay_seconds=delay_seconds or 0.0,
    )


def fault_clear(*, client_id: str | None = None) -> int:
    """Remove the fault rules of one client (or all); returns how many were removed."""
    rules = FaultRule.objects.all() if client_id is None else FaultRule.objects.filter(client_id=client_id)
    return rules.delete()[0]


def fault_consume(*, client_id: str, method: str, path: str, kinds: Iterable[str]) -> FaultRule | None:
    """Take one use of the oldest rule matching this call, or None.

    The decrement is a conditional UPDATE, so two processes never both spend the last use.
    """
    if not client_id:
        return None
    kinds = tuple(kinds)
    for rule in FaultRule.objects.filter(client_id=client_id, remaining__gt=0, kind__in=kinds).order_by("pk"):
        if rule.method and rule.method != method.upper():
            continue
        if rule.path_prefix and not path.startswith(rule.path_prefix):
            continue
        if FaultRule.objects.filter(pk=rule.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return rule
    return None
