from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Connection
from integrations.services.connections import connection_check


def get_connection(name: str) -> Connection:
    try:
        return Connection.objects.get(name=name)
    except Connection.DoesNotExist:
        known = ", ".join(Connection.objects.values_list("name", flat=True)) or "none yet"
        raise CommandError(f"No connection named “{name}” (known: {known}).") from None


class Command(BaseCommand):
    help = "Fetch a token and one small listing from the LMS; exit non-zero when it refuses or is unreachable."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")

    def handle(self, *args, **options) -> None:
        connection = get_connection(options["name"])
        result = connection_check(connection=connection)
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(self.style.SUCCESS(result.message))
        for label, value in result.facts:
            self.stdout.write(f"  {label}: {value}")
