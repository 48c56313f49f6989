from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from integrations.imports import ColumnMapping, ImportFileError, V1Defaults
from integrations.models import ImportRun, Integration, Preparation, RecordStatus
from integrations.services import import_runs
from integrations.services.import_execution import import_run_execute

INVALID_SHOWN = 200


class Command(BaseCommand):
    help = (
        "Import external courses, course archivals or learner statistics into a 360Learning integration. "
        "FILE is CSV, JSON, XLSX or a v1-format JSON payload. Prints the validation report and the run id; "
        "--dry-run sends nothing; --wait runs the import to the end and prints the final counts. "
        "Exit status 0 only when every record succeeded."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=["courses", "archive-courses", "stats"])
        parser.add_argument("file")
        parser.add_argument("--integration", required=True, help="the integration's remote id")
        parser.add_argument("--dry-run", action="store_true", help="validate and report; send nothing")
        parser.add_argument("--wait", action="store_true", help="run the import now and wait for its outcome")
        parser.add_argument(
            "--send-again", action="store_true", help="send a file imported a few minutes ago again (not a mistake)"
        )
        parser.add_argument(
            "--mapping", help='JSON {"file column": "field"} when the headers differ from the field names'
        )
        parser.add_argument("--v1-progress", type=int, help="v1 files: progress for rows that have none")
        parser.add_argument("--v1-time-spent-ms", type=int, help="v1 files: time spent for rows that have none")

    def handle(self, *args, **options) -> None:
        integration = self._integration(options["integration"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            defaults = V1Defaults(progress=options["v1_progress"], time_spent_ms=options["v1_time_spent_ms"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        with path.open("rb") as fh:
            try:
                run = import_runs.import_run_prepare(
                    actor=None,
                    integration=integration,
                    kind=options["kind"],
                    uploaded=File(fh, name=path.name),
                    v1_defaults=defaults,
                )
            except ImportFileError as exc:
                raise CommandError(f"{path.name}: {exc}") from exc
        if options["mapping"]:
            run = self._apply_mapping(run, options["mapping"])
        if run.preparation == Preparation.REFUSED:
            message = run.last_error
            import_runs.import_run_discard(run=run)
            raise CommandError(f"{path.name}: {message}")
        if run.preparation == Preparation.NEEDS_MAPPING:
            missing = ", ".join(run.missing_columns)
            import_runs.import_run_discard(run=run)
            raise CommandError(
                f"{path.name}: no column for {missing}. Columns in the file: {', '.join(run.source_columns)}. "
                'Give --mapping \'{"file column": "field", …}\'.'
            )
        self._report(run)
        if options["dry_run"]:
            invalid = run.invalid_records
            import_runs.import_run_discard(run=run)
            self.stdout.write("Dry run: nothing was sent.")
            if invalid:
                raise CommandError(f"{invalid} invalid record(s).")
            return
        if not run.valid_records:
            import_runs.import_run_discard(run=run)
            raise CommandError("No valid record to send.")
        try:
            launched = import_runs.import_run_launch(
                actor=None, run=run, enqueue=not options["wait"], send_again=options["send_again"]
            )
        except import_runs.AlreadyImportedRecently as exc:
            import_runs.import_run_discard(run=run)
            raise CommandError(f"{exc} Give --send-again to send it again.") from exc
        if launched.pk != run.pk:
            self.stdout.write(f"The same file is already being imported as run {launched.pk}.")
        self.stdout.write(f"Run {launched.pk}")
        if not options["wait"]:
            self.stdout.write("Queued for the background worker (manage.py qcluster).")
            return
        self._wait(launched)

    def _integration(self, remote_id: str) -> Integration:
        matches = list(Integration.objects.filter(remote_id=remote_id, removed_remotely_at__isnull=True))
        if not matches:
            raise CommandError(f"No integration with remote id {remote_id}: run pull_integrations first.")
        if len(matches) > 1:
            raise CommandError(f"Several connections have an integration {remote_id}; remove the duplicate connection.")
        return matches[0]

    def _apply_mapping(self, run: ImportRun, raw: str) -> ImportRun:
        try:
            mapping = ColumnMapping.from_json(json.loads(raw), kind=run.kind)
        except (ValueError, AttributeError) as exc:
            import_runs.import_run_discard(run=run)
            raise CommandError(f"--mapping: {exc}") from exc
        return import_runs.import_run_apply_mapping(run=run, mapping=mapping, enqueue=False)

    def _report(self, run: ImportRun) -> None:
        unit = run.line_unit
        self.stdout.write(
            f"{run.total_records} record(s) read: {run.valid_records} valid, {run.invalid_records} invalid."
        )
        for note in run.file_notes:
            self.stdout.write(f"  note: {note}")
        notes = run.records.exclude(note="").values_list("note", flat=True).distinct()[:10]
        for note in notes:
            self.stdout.write(f"  converted: {note}")
        invalid = run.records.filter(status=RecordStatus.INVALID).order_by("source_line")
        for record in invalid[:INVALID_SHOWN]:
            self.stdout.write(f"  {unit} {record.source_line}: {record.field}: {record.message}")
        if run.invalid_records > INVALID_SHOWN:
            self.stdout.write(f"  … and {run.invalid_records - INVALID_SHOWN} more.")

    def _wait(self, run: ImportRun) -> None:
        # Executed here (holding the run's lease); if a worker holds it already, follow its progress.
        while not import_run_execute(run_id=run.pk):
            time.sleep(1)
            run.refresh_from_db()
            if run.ended_at:
                break
        run.refresh_from_db()
        self.stdout.write(
            f"{run.get_state_display()}: {run.succeeded_records} succeeded, {run.failed_records} failed, "
            f"{run.invalid_records} invalid (not sent)."
        )
        for record in run.records.filter(status=RecordStatus.ERROR).order_by("source_line")[:INVALID_SHOWN]:
            self.stdout.write(f"  line {record.source_line}: {record.message}")
        if run.failed_records or run.invalid_records or run.state != "completed":
            raise CommandError("Not every record succeeded.")
        self.stdout.write(self.style.SUCCESS("Every record succeeded."))
