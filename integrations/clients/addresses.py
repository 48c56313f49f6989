"""Where the clients may connect: public https on port 443, never the internal network.

Whoever can add a connection makes this server send requests to the URL they typed (SSRF).
Checking the typed URL once, when it is saved, is not enough: a name may not resolve then,
may resolve elsewhere later (DNS rebinding), and the policy itself may change
(``LMS_ALLOW_LOOPBACK`` switched off after a loopback sandbox URL was stored). So the
check runs at every connection the transport opens (``CheckedAdapter``): resolve the
host, check every address, connect to one of the checked addresses. TLS still runs on the
name (SNI, certificate verification) and the Host header still carries it.

The policy, in one place (``check_target``):

- every address the host resolves to must be public (``PRIVATE_NOT_ALLOWED``), and no
  IPv6 address may wrap an IPv4 one (NAT64, 6to4, Teredo, IPv4-mapped or -compatible:
  ``IPV4_IN_IPV6``), since the IPv4 inside is what the packets reach;
- loopback addresses only when the caller allows them (demo and tests run the sandbox
  LMS on this machine); ``localhost`` names, trailing dot or not, are loopback;
- https on port 443 only, except to an allowed loopback sandbox (http, any port).

The Django form runs the same checks (``integrations/validators.py``), so the admin sees
the reason when saving; the transport's check is the one that holds.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from integrations.clients.errors import AddressRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Messages for the L&D admin who typed the URL (the form shows them; checks and syncs too).
URL_MALFORMED = "This is not a valid web address: check the spelling, and the square brackets around an IPv6 address."
SCHEME_NOT_ALLOWED = "Use an https:// address: the LMS is only reached over TLS."
HTTP_NOT_ALLOWED = "Use https://. Plain http:// is allowed only for a loopback sandbox when LMS_ALLOW_LOOPBACK is on."
CREDENTIALS_IN_URL = "Remove the user name or password from the address; credentials go in their own fields."
QUERY_IN_URL = "The base URL takes no query string or fragment."
NO_HOST = "The address has no host name."
HOST_INVALID = (
    "{host} is not a valid host name: each part between dots is 1 to 63 letters, digits or hyphens, "
    "253 characters in all."
)
PORT_INVALID = "The port must be a number from 1 to 65535."
PORT_NOT_ALLOWED = (
    "Leave the port out (or use 443): LMS Admin only connects to https on port 443. "
    "Other ports are allowed only for a loopback sandbox when LMS_ALLOW_LOOPBACK is on."
)
LOOPBACK_NOT_ALLOWED = (
    "The address {host} points to {address}, a loopback address of this server; "
    "LMS Admin connects to those only for a demo sandbox, when LMS_ALLOW_LOOPBACK is on (it is off)."
)
PRIVATE_NOT_ALLOWED = (
    "The address {host} points to {address}, a private or local network address; "
    "LMS Admin only connects to public https addresses."
)
IPV4_IN_IPV6 = (
    "The address {host} points to {address}, an IPv6 address that wraps an IPv4 address "
    "(NAT64, 6to4, Teredo, IPv4-mapped or -compatible); LMS Admin only connects to public https addresses."
)

# IPv6 prefixes whose packets end up at an IPv4 address taken from the address itself:
# checking the IPv6 address would not say where they go, so they are refused outright.
_IPV4_IN_IPV6_NETWORKS = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # IPv4-compatible (deprecated), e.g. [::127.0.0.1]
        "::ffff:0:0/96",  # IPv4-mapped, e.g. [::ffff:10.0.0.1]
        "64:ff9b::/96",  # NAT64, well-known prefix
        "64:ff9b:1::/48",  # NAT64, local-use prefix
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
    )
)
# One DNS label once IDNA-encoded (underscores occur in real host names, so they pass).
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")


@dataclass(frozen=True)
class BaseUrl:
    """A syntactically valid base URL: ``host`` lower-case, without IPv6 brackets;
    ``port`` explicit or the scheme's default."""

    scheme: str
    host: str
    port: int


def parse_base_url(url: str) -> BaseUrl:
    """Check what can be checked without the network: scheme, host name syntax, port.

    Raises ``AddressRefused`` (never a bare ``ValueError`` from ``urlsplit``).
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:  # "Invalid IPv6 URL", "[abc]", other bracket errors
        raise AddressRefused(URL_MALFORMED, code="malformed") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused(SCHEME_NOT_ALLOWED, code="scheme")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused(CREDENTIALS_IN_URL, code="credentials")
    if parts.query or parts.fragment:
        raise AddressRefused(QUERY_IN_URL, code="query")
    if not host:
        raise AddressRefused(NO_HOST, code="host")
    try:
        port = parts.port
    except ValueError:  # ":abc", ":99999"
        raise AddressRefused(PORT_INVALID, code="port") from None
    if port == 0:
        raise AddressRefused(PORT_INVALID, code="port")
    if "[" in parts.netloc:
        # Brackets hold an IPv6 address and nothing else (urlsplit lets "[v1.x]" through).
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise AddressRefused(URL_MALFORMED, code="malformed") from None
    elif not _is_ip(host):
        _check_host_name(host)
    return BaseUrl(scheme=parts.scheme, host=host, port=port or (443 if parts.scheme == "https" else 80))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_host_name(host: str) -> None:
    try:
        # The codec refuses empty labels and labels over 63 characters; requests and
        # urllib3 would fail on them only when connecting, with errors nobody catches.
        encoded = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressRefused(HOST_INVALID.format(host=host), code="host") from None
    name = encoded.removesuffix(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise AddressRefused(HOST_INVALID.format(host=host), code="host")


#: What ``localhost`` names resolve to, without asking any resolver (RFC 6761).
LOCALHOST_ADDRESSES: tuple[IPAddress, ...] = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order; an IP literal as is.

    ``localhost`` and ``*.localhost``, with a trailing dot or not, are loopback whatever a
    DNS server or the hosts file would say (the system resolver does not even know
    ``localhost.``). Raises ``socket.gaierror``.
    """
    host = host.strip("[]")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return list(LOCALHOST_ADDRESSES)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    return addresses


def _refusal(address: IPAddress, *, allow_loopback: bool) -> tuple[str, str] | None:
    """``(message, code)`` when ``address`` may not be connected to, else ``None``."""
    if address.is_loopback:
        return None if allow_loopback else (LOOPBACK_NOT_ALLOWED, "loopback")
    if (
        isinstance(address, ipaddress.IPv6Address)
        and not address.is_unspecified
        and any(address in network for network in _IPV4_IN_IPV6_NETWORKS)
    ):
        return IPV4_IN_IPV6, "ipv4-in-ipv6"
    if (
        not address.is_global
        or address.is_private
        or address.is_multicast  # is_global is true for some multicast ranges
        or address.is_reserved
        or address.is_link_local
        or address.is_unspecified
    ):
        return PRIVATE_NOT_ALLOWED, "private"
    return None


def check_target(*, scheme: str, host: str, port: int, addresses: list[IPAddress], allow_loopback: bool) -> None:
    """Raise ``AddressRefused`` unless ``scheme://host:port``, resolved to ``addresses``,
    is somewhere the policy in the module docstring allows.

    ``addresses`` may be empty (a name that does not resolve when a form is saved): then
    only the scheme and port are checked, and the connection checks the addresses later.
    """
    for address in addresses:
        if refusal := _refusal(address, allow_loopback=allow_loopback):
            message, code = refusal
            raise AddressRefused(message.format(host=host, address=address), code=code)
    if addresses and all(a.is_loopback for a in addresses):
        # Only reachable when loopback is allowed: the sandbox, over http on any port.
        return
    if scheme != "https":
        raise AddressRefused(HTTP_NOT_ALLOWED, code="http")
    if port != 443:
        raise AddressRefused(PORT_NOT_ALLOWED, code="port")


# Enforcing the policy at connection time -----------------------------------------------------
class _CheckedHTTPConnection(HTTPConnection):
    """An urllib3 connection that resolves its host itself, checks every address and then
    opens the socket to a checked address, never letting a second DNS answer choose.

    Only ``_new_conn`` (the TCP connect) changes: ``self.host`` stays the name, so
    ``HTTPSConnection.connect`` still sends it as SNI and verifies the certificate for it.
    """

    checked_scheme = "http"

    def __init__(self, *args: Any, allow_loopback: bool, **kwargs: Any) -> None:
        self.allow_loopback = allow_loopback
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        # Errors as urllib3's own _new_conn raises them, so the transport still tells
        # "never sent" (DNS failure, refused, connect timeout) from "may have been sent".
        try:
            addresses = resolve(self._dns_host, self.port)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        # Before any socket exists: a refused address receives nothing at all.
        check_target(
            scheme=self.checked_scheme,
            host=self.host,
            port=self.port,
            addresses=addresses,
            allow_loopback=self.allow_loopback,
        )
        error: Exception | None = None
        for address in addresses:  # like socket.create_connection: the first that answers
            try:
                sock = create_connection(
                    (str(address), self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError:
                error = ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                )
            except OSError as e:
                error = NewConnectionError(self, f"Failed to establish a new connection: {e}")
            else:
                sys.audit("http.client.connect", self, self.host, self.port)
                return sock
        assert error is not None
        raise error


class _CheckedHTTPSConnection(_CheckedHTTPConnection, HTTPSConnection):
    checked_scheme = "https"


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedPoolManager(PoolManager):
    """Pools whose connections check addresses; ``allow_loopback`` reaches each connection
    through the pool's connection keyword arguments."""

    def __init__(self, *args: Any, allow_loopback: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_loopback = allow_loopback
        self.pool_classes_by_scheme = {"http": _CheckedHTTPConnectionPool, "https": _CheckedHTTPSConnectionPool}

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        context = dict(self.connection_pool_kw if request_context is None else request_context)
        context["allow_loopback"] = self.allow_loopback
        return super()._new_pool(scheme, host, port, context)


class CheckedAdapter(HTTPAdapter):
    """A requests adapter whose every connection applies ``check_target`` to the addresses
    it is about to connect to (see ``_CheckedHTTPConnection``).

    Refusals raise ``AddressRefused`` out of ``Session.request`` untouched (it is not an
    ``OSError``, so neither urllib3 nor requests wraps it). Not for use with proxies: a
    proxy would resolve the name itself (the transport disables them).
    """

    def __init__(self, *, allow_loopback: bool, **kwargs: Any) -> None:
        self.allow_loopback = allow_loopback  # before super().__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs: Any
    ) -> None:
        self._pool_connections, self._pool_maxsize, self._pool_block = connections, maxsize, block
        self.poolmanager = _CheckedPoolManager(
            num_pools=connections, maxsize=maxsize, block=block, allow_loopback=self.allow_loopback, **pool_kwargs
        )
