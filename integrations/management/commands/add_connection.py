from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from integrations import providers
from integrations.forms import ConnectionForm
from integrations.models import Connection
from integrations.services.connections import ConnectionData, connection_create


class Command(BaseCommand):
    help = (
        "Add an LMS connection. The client secret comes from --client-secret or, to keep it out "
        "of the shell history, from the LMS_CLIENT_SECRET environment variable."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--provider", required=True, choices=[value for value, _ in providers.choices()])
        parser.add_argument("--base-url", required=True, help="e.g. https://app.360learning.com")
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", help="default: $LMS_CLIENT_SECRET")
        parser.add_argument("--company-id", default="", help="360Learning v1 company id (optional)")
        parser.add_argument("--api-key", default="", help="360Learning v1 API key (optional)")

    def handle(self, *args, **options) -> None:
        secret = options["client_secret"] or os.environ.get("LMS_CLIENT_SECRET", "")
        if not secret:
            raise CommandError("Give the client secret with --client-secret or the LMS_CLIENT_SECRET variable.")
        if Connection.objects.filter(name__iexact=options["name"]).exists():
            raise CommandError(f"A connection named “{options['name']}” already exists.")
        form = ConnectionForm(
            {
                "name": options["name"],
                "provider": options["provider"],
                "region": "custom",
                "base_url": options["base_url"],
                "client_id": options["client_id"],
                "client_secret": secret,
                "v1_company_id": options["company_id"],
                "v1_api_key": options["api_key"],
                "stale_after_hours": 24,
                "alert_after_failures": 3,
            }
        )
        if not form.is_valid():
            problems = "; ".join(
                f"{'--' + field.replace('_', '-') if field != '__all__' else 'input'}: {' '.join(errors)}"
                for field, errors in form.errors.items()
            )
            raise CommandError(problems.replace("--v1-company-id", "--company-id").replace("--v1-api-key", "--api-key"))
        d = form.cleaned_data
        connection = connection_create(
            actor=None,
            data=ConnectionData(
                name=d["name"],
                provider=d["provider"],
                base_url=d["base_url"],
                client_id=d["client_id"],
                client_secret=secret,
                v1_company_id=d["v1_company_id"],
                v1_api_key=d["v1_api_key"],
            ),
        )
        self.stdout.write(
            self.style.SUCCESS(f"Added connection “{connection.name}” (id {connection.pk}) to {connection.base_url}.")
        )
