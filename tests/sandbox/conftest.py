"""Fixtures for the sandbox LMS tests.

The actors:
- the demo tenant (client ``sandbox-client``), seeded small and deterministically per test;
- ``api``: a 360Learning v2 client over Django's test client that checks every answer against
  the response schema of the vendor's document for its status;
- ``http``: the same over real HTTP (``requests`` against ``live_server``), for the flows that
  must cross a socket.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

from sandbox import constants as c, seeding, spec
from sandbox.seeding import SeedSummary

ANCHOR = datetime(2025, 6, 1, tzinfo=UTC)
SMALL = {"users": 40, "paths": 3, "sessions": 6, "courses": 20, "attempts": 600, "seed": 5, "anchor": ANCHOR}


@pytest.fixture(autouse=True)
def _sandbox_only_urls(settings):
    settings.ROOT_URLCONF = "tests.sandbox.urls"


@pytest.fixture
def seeded(db) -> SeedSummary:
    """The demo tenant with a small deterministic data set."""
    return seeding.seed(**SMALL)


def spec_errors(method: str, path: str, status: int, content_type: str, content: bytes) -> list[str]:
    """Why an answer breaks the documented response for its status ([] when it conforms)."""
    template, _ = spec.find_operation(method, path)
    body = json.loads(content) if content and content_type.startswith("application/json") else None
    return spec.response_errors(method, template, status, body)


class Api:
    """A minimal 360Learning v2 client over Django's test client; every answer is spec-checked."""

    def __init__(
        self, client: Client, *, client_id: str = c.DEFAULT_CLIENT_ID, client_secret: str = c.DEFAULT_CLIENT_SECRET
    ) -> None:
        self.client = client
        self.client_id = client_id
        self.client_secret = client_secret
        self.token = ""

    def authenticate(self) -> Api:
        response = self.client.post(
            f"{c.URL_PREFIX_360}/api/v2/oauth2/token",
            data=json.dumps(
                {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
            ),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        self.token = response.json()["access_token"]
        return self

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        check: bool = True,
        **query: Any,
    ):
        url = path if path.startswith("/") and path.startswith(c.URL_PREFIX) else f"{c.URL_PREFIX_360}{path}"
        all_headers = {"Authorization": f"Bearer {self.token}", c.API_VERSION_HEADER: c.API_VERSION}
        all_headers.update(headers or {})
        all_headers = {k: v for k, v in all_headers.items() if v is not None}
        kwargs: dict[str, Any] = {"headers": all_headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif query:
            kwargs["data"] = query
        response = (
            getattr(self.client, method.lower())(url, **kwargs)
            if method != "GET"
            else self.client.get(url, query or None, headers=all_headers)
        )
        if check:
            errors = spec_errors(method, url, response.status_code, response.get("Content-Type", ""), response.content)
            assert errors == [], (method, url, response.status_code, errors)
        return response

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def all_pages(self, path: str, **query: Any) -> list[dict[str, Any]]:
        """Follow Link rel="next" headers to the end, checking each page."""
        rows: list[dict[str, Any]] = []
        response = self.get(path, **query)
        while True:
            assert response.status_code == 200, response.content
            rows.extend(response.json())
            link = response.get("Link")
            if not link:
                return rows
            next_url = urlsplit(link[link.index("<") + 1 : link.index(">")])
            response = self.get(f"{next_url.path}?{next_url.query}")


@pytest.fixture
def api(seeded, client) -> Api:
    return Api(client).authenticate()


class Http:
    """The same over real HTTP, for live_server tests."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.headers[c.API_VERSION_HEADER] = c.API_VERSION

    def authenticate(
        self, *, client_id: str = c.DEFAULT_CLIENT_ID, client_secret: str = c.DEFAULT_CLIENT_SECRET
    ) -> Http:
        response = self.session.post(
            f"{self.base}/api/v2/oauth2/token",
            json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return self

    def call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if not url.startswith("http"):
            url = f"{self.base}{url}"
        response = self.session.request(method, url, timeout=10, **kwargs)
        errors = spec_errors(
            method, url, response.status_code, response.headers.get("Content-Type", ""), response.content
        )
        assert errors == [], (method, url, response.status_code, errors)
        return response
