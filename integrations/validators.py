"""Where a connection may point: https LMS tenants only, never the internal network.

A connection form is an SSRF vector: whoever can add one makes the server send requests.
Production allows https to public addresses only; ``LMS_ALLOW_LOOPBACK`` (demo, tests)
additionally allows http and https to loopback addresses, where the sandbox LMS runs.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SCHEME_NOT_ALLOWED = "Use an https:// address: the LMS is only reached over TLS."
HTTP_NOT_ALLOWED = "Use https://. Plain http:// is allowed only for a loopback sandbox when LMS_ALLOW_LOOPBACK is on."
LOOPBACK_NOT_ALLOWED = "Loopback addresses ({host}) are not allowed: LMS_ALLOW_LOOPBACK is off."
PRIVATE_NOT_ALLOWED = (
    "{host} is a private or reserved network address ({address}); an LMS tenant must be on the public internet."
)
CREDENTIALS_IN_URL = "Remove the user name or password from the address; credentials go in their own fields."
QUERY_IN_URL = "The base URL takes no query string or fragment."
NO_HOST = "The address has no host name."


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1")]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        # Unresolvable now: nothing internal can be reached through it either; the
        # connection check will say the host is unreachable.
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def validate_lms_base_url(url: str, *, allow_loopback: bool | None = None) -> str:
    """Return the URL without a trailing slash, or raise ValidationError saying why not."""
    if allow_loopback is None:
        allow_loopback = settings.LMS_ALLOW_LOOPBACK
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ValidationError(SCHEME_NOT_ALLOWED, code="scheme")
    if parts.username or parts.password:
        raise ValidationError(CREDENTIALS_IN_URL, code="credentials")
    if parts.query or parts.fragment:
        raise ValidationError(QUERY_IN_URL, code="query")
    host = parts.hostname or ""
    if not host:
        raise ValidationError(NO_HOST, code="host")
    addresses = _addresses(host)
    loopback = bool(addresses) and all(a.is_loopback for a in addresses)
    if loopback:
        if not allow_loopback:
            raise ValidationError(LOOPBACK_NOT_ALLOWED.format(host=host), code="loopback")
    else:
        for address in addresses:
            if not address.is_global or address.is_multicast:
                raise ValidationError(PRIVATE_NOT_ALLOWED.format(host=host, address=address), code="private")
        if parts.scheme == "http":
            raise ValidationError(HTTP_NOT_ALLOWED, code="http")
    return url.strip().rstrip("/")
