from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.forms import IntegrationForm
from integrations.management.commands.check_connection import get_connection
from integrations.services.integrations import IntegrationData, IntegrationRemoteError, integration_create


class Command(BaseCommand):
    help = "Create a 360Learning integration configuration and print its remote id."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--connection", required=True)
        parser.add_argument("--external-platform", required=True)
        parser.add_argument("--group-id", required=True)
        parser.add_argument("--author-id", required=True)
        parser.add_argument("--default-completion", action="store_true")
        parser.add_argument("--default-progress", type=int)
        parser.add_argument("--no-group-propagation", action="store_true")
        parser.add_argument("--logo-url", default="")
        parser.add_argument("--unicolor-logo-url", default="")

    def handle(self, *args, **options) -> None:
        connection = get_connection(options["connection"])
        if connection.provider_spec is None or not connection.provider_spec.integrations:
            raise CommandError(f"“{connection.name}” is not a 360Learning connection.")
        values = {
            "external_platform": options["external_platform"],
            "group_id": options["group_id"],
            "author_id": options["author_id"],
            "external_platform_logo_url": options["logo_url"],
            "external_platform_unicolor_logo_url": options["unicolor_logo_url"],
            "default_progress": options["default_progress"],
        }
        if options["default_completion"]:
            values["default_completion"] = "on"
        if options["no_group_propagation"]:
            values["no_group_propagation"] = "on"
        # The same validation as the browser form; the pickers' lists are not needed here.
        form = IntegrationForm({k: v for k, v in values.items() if v is not None})
        if not form.is_valid():
            raise CommandError("; ".join(f"--{f.replace('_', '-')}: {' '.join(e)}" for f, e in form.errors.items()))
        d = form.cleaned_data
        data = IntegrationData(
            external_platform=d["external_platform"],
            group_id=d["group_id"],
            author_id=d["author_id"],
            external_platform_logo_url=d["external_platform_logo_url"] or "",
            external_platform_unicolor_logo_url=d["external_platform_unicolor_logo_url"] or "",
            default_completion=d["default_completion"],
            default_progress=d["default_progress"],
            no_group_propagation=d["no_group_propagation"],
        )
        try:
            integration = integration_create(actor=None, connection=connection, data=data)
        except IntegrationRemoteError as exc:
            where = f" (--{exc.field.replace('_', '-')})" if exc.field else ""
            raise CommandError(f"360Learning refused the integration{where}: {exc.message}") from exc
        self.stdout.write(integration.remote_id)
