"""The log of answered calls that tests read, with credentials redacted."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_plus

from django.utils import timezone

from sandbox.models import RequestLog

SECRET_QUERY_PARAMS = frozenset({"apikey"})
#: What the request log keeps instead of a credential's value.
REDACTED = "***"


def redact_query(query: str) -> str:
    """``query`` with the values of ``SECRET_QUERY_PARAMS`` replaced by ``***``; every other
    pair is kept byte for byte (tests read their exact encoding)."""
    pairs = query.split("&") if query else []
    for i, pair in enumerate(pairs):
        name = pair.partition("=")[0]
        if unquote_plus(name).lower() in SECRET_QUERY_PARAMS:
            pairs[i] = f"{name}={REDACTED}"
    return "&".join(pairs)


def request_log_record(
    *,
    api: str,
    method: str,
    path: str,
    query: str,
    client_id: str,
    status: int,
    body: bytes,
    fault: str = "",
    bulk_operation_oid: str = "",
) -> RequestLog:
    """Log one answered call. Credentials are never stored: bodies (client secrets) only as a
    hash, and the v1 ``apiKey`` in the query string as ``***``."""
    return RequestLog.objects.create(
        api=api,
        method=method,
        path=path,
        query=redact_query(query),
        client_id=client_id,
        status=status,
        body_sha256=hashlib.sha256(body).hexdigest() if body else "",
        fault=fault,
        bulk_operation_oid=bulk_operation_oid,
        received_at=timezone.now(),
    )


def request_log_clear(*, client_id: str | None = None) -> int:
    """Forget the logged calls of one client (or all), e.g. between two phases of a test."""
    calls = RequestLog.objects.all() if client_id is None else RequestLog.objects.filter(client_id=client_id)
    return calls.delete()[0]
