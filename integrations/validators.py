"""Where a connection may point: https LMS tenants only, never the internal network.

A connection form is an SSRF vector: whoever can add one makes the server send requests.
The policy lives with the clients (``integrations/clients/addresses.py``), which apply it
at every connection they open; this module runs the same checks when a URL is typed, so
the admin reads the reason on the form instead of at the first sync.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from integrations.clients.addresses import check_target, parse_base_url, resolve
from integrations.clients.errors import AddressRefused


def validate_lms_base_url(url: str, *, allow_loopback: bool | None = None) -> str:
    """Return the URL without a trailing slash, or raise ValidationError saying why not.

    ``allow_loopback`` defaults to ``settings.LMS_ALLOW_LOOPBACK``.
    """
    if allow_loopback is None:
        allow_loopback = settings.LMS_ALLOW_LOOPBACK
    try:
        target = parse_base_url(url)
        try:
            addresses = resolve(target.host, target.port)
        except OSError:
            # Does not resolve now: nothing can be reached through it now either, and every
            # connection resolves and checks again (the check says when it is unreachable).
            addresses = []
        check_target(
            scheme=target.scheme,
            host=target.host,
            port=target.port,
            addresses=addresses,
            allow_loopback=allow_loopback,
        )
    except AddressRefused as exc:
        raise ValidationError(exc.message, code=exc.code) from None
    return url.strip().rstrip("/")
