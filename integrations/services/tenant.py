"""Small live lookups in a 360Learning tenant, for the pickers of the integration form."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from integrations import providers
from integrations.clients import errors
from integrations.models import Connection

GROUPS_SHOWN = 2000
USERS_SCANNED = 1000  # two pages of users: enough to browse, bounded for huge tenants
USERS_SHOWN = 50


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def tenant_groups(*, connection: Connection, interactive: bool = False) -> list[Choice]:
    """Raises LmsError when the tenant cannot be read."""
    with providers.bulk_client(connection, interactive=interactive) as client:
        groups = list(islice(client.groups(), GROUPS_SHOWN))
    return sorted((Choice(g.id, g.name) for g in groups), key=lambda c: c.label.lower())


def _user_label(user) -> str:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return f"{name} <{user.mail}>" if name and user.mail else (user.mail or name or user.username or user.id)


def tenant_user_search(*, connection: Connection, query: str = "", interactive: bool = False) -> list[Choice]:
    """Users matching ``query``: an exact mail is looked up remotely; other text is matched
    against the first USERS_SCANNED users' names and mails. Raises LmsError."""
    query = query.strip()
    with providers.bulk_client(connection, interactive=interactive) as client:
        if "@" in query:
            users = list(islice(client.users(mail_eq=query), USERS_SHOWN))
        else:
            needle = query.lower()
            users = [
                u for u in islice(client.users(status_eq="active"), USERS_SCANNED) if needle in _user_label(u).lower()
            ]
    return [Choice(u.id, _user_label(u)) for u in users[:USERS_SHOWN]]


def lookup_error_message(exc: errors.LmsError) -> str:
    return f"Could not read the tenant: {exc.message}"
