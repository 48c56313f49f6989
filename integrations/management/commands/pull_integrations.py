from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.clients.errors import LmsError
from integrations.management.commands.check_connection import get_connection
from integrations.services.integrations import integration_pull


class Command(BaseCommand):
    help = "Adopt the integration configurations that exist in the 360Learning tenant."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--connection", required=True)

    def handle(self, *args, **options) -> None:
        connection = get_connection(options["connection"])
        if connection.provider_spec is None or not connection.provider_spec.integrations:
            raise CommandError(f"“{connection.name}” is not a 360Learning connection.")
        try:
            result = integration_pull(actor=None, connection=connection)
        except LmsError as exc:
            raise CommandError(f"Could not read the integrations: {exc.message}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.created} new, {result.updated} changed, {result.removed} no longer on the LMS."
            )
        )
        for integration in connection.integrations.filter(removed_remotely_at__isnull=True):
            self.stdout.write(f"  {integration.remote_id}  {integration.external_platform}")
