from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations import providers
from integrations.models import Connection, SyncKind, SyncState
from integrations.sync import messages, services
from lms_admin.tasks import worker_identity

ALL = "all"


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # from the installed providers
        order = "; ".join(f"{spec.label}: {', '.join(spec.kinds)}" for spec in providers.all())
        incremental = sorted({kind for spec in providers.all() for kind in spec.incremental_kinds})
        return (
            "Sync the local cache of LMS statistics from one connection, now, in this process, and print "
            "the rows written per kind (inserted / updated / removed). 'all' runs every kind of the "
            f"connection's provider in order ({order}). {', '.join(incremental)} are incremental since "
            "the last completed sync unless --full is given. Exits non-zero if any kind fails; the "
            "cache keeps the data of the last completed sync of that kind."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[*SyncKind.values, ALL], help="what to sync")
        parser.add_argument("--connection", required=True, metavar="NAME", help="the connection's name")
        parser.add_argument("--full", action="store_true", help="list everything, even where incremental is possible")

    def handle(self, *args, **options) -> None:
        connection = Connection.objects.filter(name=options["connection"]).first()
        if connection is None:
            raise CommandError(messages.CONNECTION_NOT_FOUND.format(name=options["connection"]))
        kinds = services.sync_kinds_for(connection=connection) if options["kind"] == ALL else [options["kind"]]
        owner = f"command line ({worker_identity()})"
        failures: list[str] = []
        for kind in kinds:
            try:
                run, created = services.sync_run_create(connection=connection, kind=kind, full_refresh=options["full"])
            except services.SyncNotAllowed as exc:
                raise CommandError(str(exc)) from None
            if not created:
                failures.append(
                    messages.ALREADY_ACTIVE.format(
                        kind=kind, connection=connection.name, state=run.get_state_display().lower(), run_id=run.pk
                    )
                )
                self.stderr.write(failures[-1])
                continue
            started = time.monotonic()
            run = services.sync_run_execute(run_id=run.pk, owner=owner)
            seconds = time.monotonic() - started
            line = (
                f"{kind}: {run.rows_inserted:,} inserted, {run.rows_updated:,} updated, {run.rows_removed:,} removed "
                f"({run.pages:,} pages, {'full' if run.full_refresh else 'incremental'}, {seconds:.1f} s, sync #{run.pk})"
            )
            if run.state == SyncState.COMPLETED:
                self.stdout.write(self.style.SUCCESS(line))
                if run.progress_note:
                    self.stdout.write(f"  {run.progress_note}")
                for session in run.reconciliation.values():
                    differences = ", ".join(
                        f"{name} {d['local']} here vs {d['lms']} in the LMS"
                        for name, d in session["differences"].items()
                    )
                    self.stdout.write(self.style.WARNING(f"  {session['session']}: {differences}"))
            else:
                self.stderr.write(self.style.ERROR(f"{line}: {run.error}"))
                failures.append(f"{kind}: {run.error}")
        if failures:
            raise CommandError(" | ".join(failures))
