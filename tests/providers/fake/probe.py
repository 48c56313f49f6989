"""Fake LMS's "Test connection": a token, then the first page of courses."""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables

from integrations.models import Connection
from integrations.providers.base import first_items
from integrations.services.clients import credentials_client
from tests.providers.fake.client import FakeLmsClient

COURSES_SHOWN = 100


@sensitive_variables("client_secret")
def probe(
    connection: Connection, *, client_secret: str | None = None, interactive: bool = False
) -> tuple[tuple[str, str], ...]:
    with credentials_client(FakeLmsClient, connection, client_secret=client_secret, interactive=interactive) as client:
        courses = first_items(client.courses(), COURSES_SHOWN)
    return (("Courses", f"{len(courses)}{'+' if len(courses) == COURSES_SHOWN else ''}"),)
