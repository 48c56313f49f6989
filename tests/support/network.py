"""Network stand-ins for the address-policy tests: a DNS that tests control and a server
that counts everything reaching it.

- ``FakeDns`` answers ``socket.getaddrinfo`` for a few names (the test may change an answer
  between two lookups, as a rebinding DNS server does); other names go to the real resolver.
- ``CountingServer`` is an HTTP (or HTTPS) server on 127.0.0.1 that answers 200 ``{}`` and
  counts the TCP connections it accepts: where a refused request must never arrive.
"""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

#: A name the tests resolve with ``FakeDns``, to a public address unless told otherwise.
PUBLIC_NAME = "lms.example.test"
PUBLIC_ADDRESS = "93.184.215.14"


class FakeDns:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, answers: dict[str, str]) -> None:
        self.answers = answers
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0):
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.answers:
                return real(host, port, family, type, proto, flags)
            self.lookups.append(name)
            address, port = self.answers[name], int(port or 0)
            if ":" in address:
                return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))]
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class CountingServer:
    """Use as a context manager; ``port`` is known at once, the server runs inside ``with``."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.connections = 0
        self.requests: list[tuple[str, str, str]] = []  # (method, path, Host header)
        self.server_names: list[str | None] = []  # TLS SNI
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                outer.requests.append((self.command, self.path, self.headers.get("Host", "")))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = answer

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                sock, address = super().get_request()
                outer.connections += 1
                if ssl_context is not None:
                    sock = ssl_context.wrap_socket(sock, server_side=True)
                return sock, address

        if ssl_context is not None:
            ssl_context.sni_callback = lambda _sock, name, _ctx: outer.server_names.append(name)
        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        # shutdown() waits for serve_forever's next poll: 0.5 s by default, at the end of every test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> CountingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def tls_context_for(name: str, directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a self-signed certificate for ``name``, and the certificate's
    path (for a client to trust it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
