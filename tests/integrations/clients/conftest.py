"""Fixtures for client edge-case tests stubbed at the HTTP seam with ``responses``.

Who is who:
- ``mocked`` is the remote LMS: register answers on it, then read ``mocked.calls`` to see
  exactly what the client sent (and that nothing was sent when nothing should be).
- ``sleeper`` stands in for ``time.sleep``: it records each wait instead of waiting.
- ``clock`` stands in for ``time.time``: tests move it forward to expire tokens.
- ``client`` / ``v1_client`` / ``ispring_client`` talk to ``https://lms.example.test``
  with credentials that tests search for in errors and logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from integrations.clients.transport import RetryPolicy
from integrations.providers.ispring.client import ISpringClient
from integrations.providers.learning360.client import Learning360Client
from integrations.providers.learning360.client_v1 import Learning360V1Client

ROOT = Path(__file__).resolve().parents[3]
BASE = "https://lms.example.test"
CLIENT_ID = "client-id-0001"
CLIENT_SECRET = "client-secret-DO-NOT-LEAK-7f3a"
COMPANY_ID = "company-0001"
API_KEY = "api-key-DO-NOT-LEAK-91c2"
TOKEN_URL = f"{BASE}/api/v2/oauth2/token"
ISPRING_TOKEN_URL = f"{BASE}/api/v3/token"
RETRY = RetryPolicy(max_attempts=4, backoff_base=0.5, backoff_cap=20.0, retry_after_cap=60.0)


def oid(n: int) -> str:
    """A valid 24-hex-digit ObjectId numbered ``n``."""
    return f"{n:024x}"


class Sleeper:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sent:
    """What the client put on the wire for one call."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes | None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode() if isinstance(self.body, bytes) else self.body or ""))


def sent(call: responses.Call) -> Sent:
    request = call.request
    parts = urlsplit(request.url)
    body = request.body
    if isinstance(body, str):
        body = body.encode()
    return Sent(
        method=request.method,
        path=parts.path,
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=dict(request.headers),
        body=body,
    )


def calls_to(mocked: responses.RequestsMock, path: str) -> list[Sent]:
    return [s for s in (sent(c) for c in mocked.calls) if s.path == path]


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def token_body(token: str = "token-1", expires_in: float = 3600) -> dict[str, Any]:
    return {"token_type": "Bearer", "access_token": token, "expires_in": expires_in}


def add_token(mocked: responses.RequestsMock, *tokens: str, expires_in: float = 3600) -> None:
    """Register one token answer per ``tokens`` entry, handed out in order."""
    for token in tokens or ("token-1",):
        mocked.add(responses.POST, TOKEN_URL, json=token_body(token, expires_in))


@pytest.fixture
def client(sleeper: Sleeper, clock: Clock) -> Iterator[Learning360Client]:
    with Learning360Client(
        BASE, CLIENT_ID, CLIENT_SECRET, sleep=sleeper, clock=clock, retry=RETRY, user_agent="lms-admin/9.9.9"
    ) as c:
        yield c


@pytest.fixture
def v1_client(sleeper: Sleeper) -> Iterator[Learning360V1Client]:
    with Learning360V1Client(BASE, COMPANY_ID, API_KEY, sleep=sleeper, retry=RETRY) as c:
        yield c


@pytest.fixture
def ispring_client(sleeper: Sleeper, clock: Clock) -> Iterator[ISpringClient]:
    with ISpringClient(BASE, CLIENT_ID, CLIENT_SECRET, sleep=sleeper, clock=clock, retry=RETRY) as c:
        yield c


@pytest.fixture
def ispring_xml_client(sleeper: Sleeper, clock: Clock) -> Iterator[ISpringClient]:
    with ISpringClient(
        BASE, CLIENT_ID, CLIENT_SECRET, sleep=sleeper, clock=clock, retry=RETRY, response_format="xml"
    ) as c:
        yield c
