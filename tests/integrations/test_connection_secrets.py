"""Secrets are encrypted at rest and never shown back: not in the database column, a page,
an audit entry, a log record or an exception."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection as db
from requests.adapters import HTTPAdapter

from integrations.models import AuditEntry, Connection
from integrations.services.connections import ConnectionData, connection_create, connection_update

SECRET = "Sup3r-Secret-Value-do-not-leak"
API_KEY = "v1-Api-Key-do-not-leak"


@pytest.fixture
def stored(db, alice) -> Connection:
    return connection_create(
        actor=alice,
        data=ConnectionData(
            name="Acme 360",
            provider="360learning",
            base_url="https://app.360learning.com",
            client_id="client-123",
            client_secret=SECRET,
            v1_company_id="acme",
            v1_api_key=API_KEY,
        ),
    )


def test_the_database_holds_no_plaintext_secret(stored):
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret_encrypted, v1_api_key_encrypted FROM integrations_connection WHERE id = %s",
            [stored.pk],
        )
        raw = " ".join(cursor.fetchone())
    assert SECRET not in raw and API_KEY not in raw
    assert stored.client_secret == SECRET
    assert Connection.objects.get(pk=stored.pk).v1_api_key == API_KEY


def test_no_page_renders_a_secret(stored, admin_client):
    for url in ["/connections/", f"/connections/{stored.pk}/", f"/connections/{stored.pk}/edit/", "/audit/", "/"]:
        html = admin_client.get(url).content.decode()
        assert SECRET not in html and API_KEY not in html, url


def test_the_audit_log_records_that_a_secret_changed_but_not_its_value(stored, alice):
    data = ConnectionData(
        name="Acme 360",
        provider="360learning",
        base_url="https://app.360learning.com",
        client_id="client-123",
        client_secret="a-brand-new-secret",
        v1_company_id="acme",
    )
    connection_update(actor=alice, connection=stored, data=data)
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.changes == {"client_secret": [None, "(changed)"]}
    assert entry.actor_name == "alice"
    everything = str(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert SECRET not in everything and "a-brand-new-secret" not in everything


def test_an_unreachable_check_mentions_no_secret_in_logs_or_messages(stored, caplog):
    from integrations.services.connections import connection_check

    stored.base_url = "http://127.0.0.1:9"  # nothing listens on the discard port
    stored.save()
    with caplog.at_level(logging.DEBUG):
        result = connection_check(connection=stored)
    assert not result.ok
    assert "could not be reached" in result.message
    for text in [result.message, caplog.text, repr(stored)]:
        assert SECRET not in text and API_KEY not in text


def test_editing_without_a_secret_keeps_the_stored_one(stored, admin_client):
    response = admin_client.post(
        f"/connections/{stored.pk}/edit/",
        {
            "name": "Acme 360 renamed",
            "provider": "360learning",
            "region": "eu",
            "base_url": "",
            "client_id": "client-123",
            "client_secret": "",
            "v1_company_id": "acme",
            "v1_api_key": "",
            "stale_after_hours": 24,
            "alert_after_failures": 3,
        },
    )
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.name == "Acme 360 renamed"
    assert stored.client_secret == SECRET and stored.v1_api_key == API_KEY


def test_rotating_the_key_re_encrypts_every_secret(stored, settings):
    from cryptography.fernet import Fernet

    from integrations.services.connections import connection_rotate_secrets

    old_token = stored.client_secret_encrypted
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEYS]
    assert connection_rotate_secrets() == 1
    stored.refresh_from_db()
    assert stored.client_secret_encrypted != old_token
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key is gone
    assert stored.client_secret == SECRET


# The DEBUG page (issue 16, finding 5) ---------------------------------------------------------
@pytest.fixture
def debug_client(admin_client, settings):
    """An admin's browser on a server with DEBUG on: errors render Django's technical page."""
    settings.DEBUG = True
    admin_client.raise_request_exception = False
    return admin_client


def test_the_debug_page_of_a_test_connection_that_blew_up_shows_no_secret(stored, debug_client):
    cache.clear()  # no token cached: the check sends the decrypted secret
    with mock.patch.object(HTTPAdapter, "send", autospec=True, side_effect=RuntimeError("unexpected")):
        response = debug_client.post(f"/connections/{stored.pk}/check/")

    page = response.content.decode()
    assert response.status_code == 500
    assert "RuntimeError" in page and "_fetch_token" in page
    assert SECRET not in page and API_KEY not in page


@pytest.mark.parametrize(
    ("url", "service"), [("/connections/new/", "connection_create"), ("edit", "connection_update")]
)
def test_the_debug_page_of_a_save_that_blew_up_shows_no_submitted_secret(stored, debug_client, url, service):
    url = f"/connections/{stored.pk}/edit/" if url == "edit" else url
    form = {
        "name": "Acme 360 bis" if service == "connection_create" else "Acme 360",
        "provider": "360learning",
        "region": "eu",
        "client_id": "client-123",
        "client_secret": "Brand-New-Secret-do-not-leak",
        "v1_company_id": "acme",
        "v1_api_key": "Brand-New-Key-do-not-leak",
        "stale_after_hours": 24,
        "alert_after_failures": 3,
    }
    with mock.patch(f"integrations.views.connections.{service}", autospec=True, side_effect=RuntimeError("unexpected")):
        response = debug_client.post(url, form)

    page = response.content.decode()
    assert response.status_code == 500
    assert "RuntimeError" in page and "client_secret" in page  # the POST fields are listed, masked
    assert "Brand-New-Secret-do-not-leak" not in page and "Brand-New-Key-do-not-leak" not in page
