"""Fixtures for the sync tests: the sandbox demo tenant (``connection_360``, with v1
credentials, and ``connection_ispring``) reached over real HTTP through ``live_server``.

- ``sync(connection, kind)`` launches a run and executes it in this process, as a worker would.
- ``tenant`` is the sandbox's demo tenant, whose rows the tests change "remotely".
"""

from __future__ import annotations

import pytest

from integrations.models import SyncRun
from integrations.sync import services


def run_sync(connection, kind: str, *, full_refresh: bool = False) -> SyncRun:
    run, created = services.sync_run_create(connection=connection, kind=kind, full_refresh=full_refresh)
    assert created, f"a {kind} run was already active"
    return services.sync_run_execute(run_id=run.pk)


@pytest.fixture(autouse=True)
def fresh_tokens(transactional_db, live_server):
    """Forget the sandbox tokens an earlier test cached (the cache table outlives the flush),
    so each test's request log starts with its own token call."""
    from django.core.cache import cache

    from integrations.clients.transport import token_cache_key
    from integrations.services.clients import CacheTokenStore
    from sandbox import constants as c

    cache.delete_many(
        [
            CacheTokenStore(c.DEFAULT_CLIENT_SECRET).prefix
            + token_cache_key("360learning", f"{live_server.url}/sandbox/360", c.DEFAULT_CLIENT_ID),
            CacheTokenStore(c.DEFAULT_ISPRING_CLIENT_SECRET).prefix
            + token_cache_key("ispring", f"{live_server.url}/sandbox/ispring", c.DEFAULT_ISPRING_CLIENT_ID),
        ]
    )


@pytest.fixture
def sync():
    return run_sync


@pytest.fixture
def tenant(sandbox):
    return sandbox.tenant


@pytest.fixture
def connection_360_without_v1(sandbox, live_server):
    """The same tenant, reached without API v1 credentials: v2 and the users cache fill everything."""
    from integrations.services.connections import ConnectionData, connection_create
    from sandbox import constants as c

    return connection_create(
        actor=None,
        data=ConnectionData(
            name="Sandbox 360 (v2 only)",
            provider="360learning",
            base_url=f"{live_server.url}/sandbox/360",
            client_id=c.DEFAULT_CLIENT_ID,
            client_secret=c.DEFAULT_CLIENT_SECRET,
        ),
    )
