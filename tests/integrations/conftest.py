"""Fixtures of the tests that reach remote addresses: a resolver they control and a server
that counts the connections it accepts (tests/support/network.py)."""

from __future__ import annotations

import pytest

from tests.support.network import PUBLIC_ADDRESS, PUBLIC_NAME, CountingServer, FakeDns


@pytest.fixture
def dns(monkeypatch) -> FakeDns:
    """``PUBLIC_NAME`` resolves to a public address until a test points it elsewhere."""
    return FakeDns(monkeypatch, {PUBLIC_NAME: PUBLIC_ADDRESS})


@pytest.fixture
def server():
    with CountingServer() as server:
        yield server
