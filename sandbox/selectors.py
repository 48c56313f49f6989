"""Reads of the sandbox's own bookkeeping, for tests and the demo."""

from __future__ import annotations

from django.db.models import QuerySet

from sandbox.models import BulkOperation, FaultRule, RequestLog


def request_log_list(
    *,
    client_id: str | None = None,
    api: str | None = None,
    method: str | None = None,
    path_prefix: str | None = None,
    status: int | None = None,
) -> QuerySet[RequestLog]:
    """Calls the sandbox answered, oldest first.

    ``path_prefix`` matches the vendor path (``/api/v2/bulk/integrations/``), without the mount.
    Useful to assert that a client sent each chunk exactly once: group by ``body_sha256``.
    """
    calls = RequestLog.objects.all()
    if client_id is not None:
        calls = calls.filter(client_id=client_id)
    if api is not None:
        calls = calls.filter(api=api)
    if method is not None:
        calls = calls.filter(method=method.upper())
    if path_prefix is not None:
        calls = calls.filter(path__startswith=path_prefix)
    if status is not None:
        calls = calls.filter(status=status)
    return calls.order_by("pk")


def fault_rule_list(*, client_id: str | None = None, active_only: bool = True) -> QuerySet[FaultRule]:
    rules = FaultRule.objects.all()
    if client_id is not None:
        rules = rules.filter(client_id=client_id)
    if active_only:
        rules = rules.filter(remaining__gt=0)
    return rules.order_by("pk")


def bulk_operation_list(*, client_id: str | None = None, integration_oid: str | None = None) -> QuerySet[BulkOperation]:
    operations = BulkOperation.objects.all()
    if client_id is not None:
        operations = operations.filter(tenant__client_id=client_id)
    if integration_oid is not None:
        operations = operations.filter(integration_oid=integration_oid)
    return operations.order_by("pk")
