"""Where the clients may connect (``integrations/clients/addresses.py``), checked at every
connection: the host is resolved, every address checked, and the socket opened to a checked
address, while TLS and the Host header keep the name.

Who is who:
- ``dns`` answers for ``lms.example.test`` (and other names a test gives it); the test
  decides, at each step, which address that is.
- ``server`` is a counting HTTP server on 127.0.0.1: a refused request must never reach it.
"""

from __future__ import annotations

import ipaddress

import pytest

from integrations.clients.addresses import (
    HOST_INVALID,
    HTTP_NOT_ALLOWED,
    IPV4_IN_IPV6,
    LOOPBACK_NOT_ALLOWED,
    PORT_INVALID,
    PORT_NOT_ALLOWED,
    PRIVATE_NOT_ALLOWED,
    URL_MALFORMED,
    check_target,
    parse_base_url,
    resolve,
)
from integrations.clients.errors import AddressRefused, LmsError, RemoteUnavailable
from integrations.clients.transport import RetryPolicy, Transport
from integrations.providers.ispring.client import ISpringClient
from integrations.providers.learning360.client import Learning360Client
from integrations.providers.learning360.client_v1 import Learning360V1Client
from tests.support.network import PUBLIC_NAME as NAME, CountingServer, tls_context_for

NO_RETRY = RetryPolicy(max_attempts=1)


def _360(base_url: str, allow_loopback: bool):
    return Learning360Client(base_url, "cid", "client-secret-x", retry=NO_RETRY, allow_loopback=allow_loopback)


def _ispring(base_url: str, allow_loopback: bool):
    return ISpringClient(base_url, "cid", "client-secret-x", retry=NO_RETRY, allow_loopback=allow_loopback)


def _v1(base_url: str, allow_loopback: bool):
    return Learning360V1Client(base_url, "company", "api-key-x", retry=NO_RETRY, allow_loopback=allow_loopback)


CALLS = {
    "360Learning": (_360, lambda client: list(client.groups())),
    "iSpring": (_ispring, lambda client: list(client.module_results())),
    "360Learning v1": (_v1, lambda client: client.path_session_stats("0" * 24)),
}


# At request time ---------------------------------------------------------------------------
@pytest.mark.parametrize("api", CALLS)
def test_a_host_resolving_to_loopback_at_request_time_is_refused_and_nothing_is_sent(api, dns, server):
    build, call = CALLS[api]
    client = build(f"http://{NAME}:{server.port}", False)
    dns.answers[NAME] = "127.0.0.1"  # the name now points at this machine

    with pytest.raises(AddressRefused) as caught:
        call(client)

    assert caught.value.message == LOOPBACK_NOT_ALLOWED.format(host=NAME, address="127.0.0.1")
    assert caught.value.permanent
    assert NAME in dns.lookups
    assert server.connections == 0 and server.requests == []


def test_the_same_request_reaches_the_loopback_server_when_loopback_is_allowed(dns, server):
    # The control for the test above: it is the check, not the set-up, that sends nothing.
    dns.answers[NAME] = "127.0.0.1"
    transport = Transport(f"http://{NAME}:{server.port}", name="t", allow_loopback=True)

    assert transport.request("GET", transport.url("/ping"), idempotent=True).status_code == 200
    assert server.connections == 1
    assert server.requests == [("GET", "/ping", f"{NAME}:{server.port}")]  # the Host header keeps the name


def test_a_rebinding_name_is_checked_again_at_each_connection(dns, server):
    transport = Transport(f"http://{NAME}:{server.port}", name="t", allow_loopback=False)
    dns.answers[NAME] = "10.0.0.7"
    with pytest.raises(AddressRefused, match="10.0.0.7, a private"):
        transport.request("GET", transport.url("/a"), idempotent=True)
    dns.answers[NAME] = "169.254.169.254"
    with pytest.raises(AddressRefused, match="169.254.169.254, a private"):
        transport.request("GET", transport.url("/b"), idempotent=True)
    assert dns.lookups == [NAME, NAME]
    assert server.connections == 0


@pytest.mark.parametrize("address", ["::127.0.0.1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1"])
def test_ipv6_forms_wrapping_ipv4_are_refused_at_request_time_even_with_loopback_allowed(address, dns, server):
    dns.answers[NAME] = address
    transport = Transport(f"http://{NAME}:{server.port}", name="t", allow_loopback=True)

    with pytest.raises(AddressRefused) as caught:
        transport.request("GET", transport.url("/x"), idempotent=True)

    assert caught.value.message == IPV4_IN_IPV6.format(host=NAME, address=ipaddress.ip_address(address))
    assert server.connections == 0


def test_a_public_name_on_another_port_or_over_http_is_refused(dns):
    with pytest.raises(AddressRefused, match="port 443"):
        Transport(f"https://{NAME}:22", name="t").request("GET", f"https://{NAME}:22/x", idempotent=True)
    with pytest.raises(AddressRefused, match="Use https"):
        Transport(f"http://{NAME}", name="t").request("GET", f"http://{NAME}/x", idempotent=True)


def test_an_unresolvable_name_is_still_an_unreachable_remote(dns):
    dns.answers.clear()
    transport = Transport("https://does-not-exist.invalid", name="t", retry=NO_RETRY)

    with pytest.raises(RemoteUnavailable, match="could not connect") as caught:
        transport.request("GET", transport.url("/x"), idempotent=True)

    assert not isinstance(caught.value, AddressRefused)


@pytest.mark.parametrize(("cert_name", "verified"), [(NAME, True), ("other.example.test", False)])
def test_https_to_the_checked_address_keeps_the_name_for_sni_and_certificate(cert_name, verified, dns, tmp_path):
    context, cert_path = tls_context_for(cert_name, tmp_path)
    dns.answers[NAME] = "127.0.0.1"
    with CountingServer(context) as server:
        transport = Transport(f"https://{NAME}:{server.port}", name="t", allow_loopback=True, retry=NO_RETRY)
        transport.session.verify = str(cert_path)  # trust the test certificate, and only it
        if verified:
            assert transport.request("GET", transport.url("/tls"), idempotent=True).status_code == 200
            assert server.requests == [("GET", "/tls", f"{NAME}:{server.port}")]
        else:
            # The certificate is checked against the name typed, not against 127.0.0.1.
            with pytest.raises(RemoteUnavailable, match="SSLError"):
                transport.request("GET", transport.url("/tls"), idempotent=True)
            assert server.requests == []
    assert server.server_names == [NAME]


# The policy --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::",
        "2001:db8::1",
    ],
)
@pytest.mark.parametrize("allow_loopback", [False, True])
def test_private_and_reserved_addresses_are_refused_whatever_the_loopback_setting(address, allow_loopback):
    with pytest.raises(AddressRefused) as caught:
        check_target(
            scheme="https",
            host=NAME,
            port=443,
            addresses=[ipaddress.ip_address(address)],
            allow_loopback=allow_loopback,
        )
    assert caught.value.message == PRIVATE_NOT_ALLOWED.format(host=NAME, address=ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["::7f00:1", "::a00:1", "::ffff:a00:1", "64:ff9b::a00:1", "64:ff9b:1::a00:1", "2002:a00:1::", "2001::1"]
)
def test_ipv6_addresses_embedding_ipv4_are_refused(address):
    with pytest.raises(AddressRefused) as caught:
        check_target(
            scheme="https", host=NAME, port=443, addresses=[ipaddress.ip_address(address)], allow_loopback=True
        )
    assert caught.value.code == "ipv4-in-ipv6"


def test_one_bad_address_among_good_ones_refuses_the_host():
    addresses = [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.1")]
    with pytest.raises(AddressRefused, match="10.0.0.1"):
        check_target(scheme="https", host=NAME, port=443, addresses=addresses, allow_loopback=False)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1"])
def test_loopback_is_refused_unless_allowed_and_then_any_port_and_http_are_fine(address):
    loopback = [ipaddress.ip_address(address)]
    with pytest.raises(AddressRefused) as caught:
        check_target(scheme="https", host="h", port=443, addresses=loopback, allow_loopback=False)
    assert caught.value.message == LOOPBACK_NOT_ALLOWED.format(host="h", address=address)
    check_target(scheme="http", host="h", port=8000, addresses=loopback, allow_loopback=True)


def test_public_addresses_take_https_on_port_443_only():
    public = [ipaddress.ip_address("93.184.215.14")]
    check_target(scheme="https", host=NAME, port=443, addresses=public, allow_loopback=False)
    with pytest.raises(AddressRefused) as port:
        check_target(scheme="https", host=NAME, port=8443, addresses=public, allow_loopback=True)
    with pytest.raises(AddressRefused) as http:
        check_target(scheme="http", host=NAME, port=80, addresses=public, allow_loopback=True)
    assert (port.value.message, http.value.message) == (PORT_NOT_ALLOWED, HTTP_NOT_ALLOWED)


@pytest.mark.parametrize("host", ["localhost", "localhost.", "LocalHost.", "app.localhost", "app.localhost."])
def test_localhost_names_are_loopback_with_or_without_a_trailing_dot(host):
    addresses = resolve(host, 443)
    assert addresses and all(a.is_loopback for a in addresses)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://[::1", URL_MALFORMED),
        ("https://[abc]/", URL_MALFORMED),
        ("https://[v1.fe]/", URL_MALFORMED),
        (f"https://{'a' * 70}.example.com", HOST_INVALID.format(host=f"{'a' * 70}.example.com")),
        ("https://a..example.com", HOST_INVALID.format(host="a..example.com")),
        ("https://exa mple.com", HOST_INVALID.format(host="exa mple.com")),
        ("https://app.example.com:abc", PORT_INVALID),
        ("https://app.example.com:99999", PORT_INVALID),
        ("https://app.example.com:0", PORT_INVALID),
    ],
)
def test_malformed_base_urls_are_an_lms_error_before_anything_is_built(url, message):
    with pytest.raises(AddressRefused) as caught:
        Learning360Client(url, "cid", "secret")
    assert isinstance(caught.value, LmsError) and isinstance(caught.value, ValueError)
    assert caught.value.message == message


def test_parse_base_url_gives_the_default_port_and_the_bare_ipv6_host():
    assert parse_base_url("https://Tenant.Example.com/").port == 443
    assert parse_base_url("http://[::1]:8000/sandbox").host == "::1"
