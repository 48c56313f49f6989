from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.imports.kinds import LANGS
from integrations.models import Connection, ImportRun, Integration
from integrations.services.import_execution import import_run_execute
from integrations.services.import_runs import import_run_discard
from moves import selectors, services
from moves.models import HistoryMove, MoveState

ROWS_SHOWN = 2000


class Command(BaseCommand):
    help = (
        "Move iSpring Learn's learning history, as cached (sync_lms users and module-results first), into a "
        "360Learning integration: one external course per iSpring course (its id as the external id, a name "
        "from its modules' titles), then one learner statistic per learner and course, for learners matched by "
        "e-mail. Prints every row with what 360Learning is predicted to do (--dry-run: nothing is sent) or, "
        "with --wait, what it did; then the rows left out (line, field, reason) and the counts. Running it "
        "again sends only what changed. Exit status 0 only when every sent record succeeded: rows left out "
        "(a learner 360Learning does not have, a course never started) are reported, not failures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, metavar="ISPRING_CONNECTION", help="its name")
        parser.add_argument("--integration", required=True, metavar="REMOTE_ID", help="the integration's remote id")
        parser.add_argument("--dry-run", action="store_true", help="predict and report; send nothing")
        parser.add_argument("--wait", action="store_true", help="send now, in this process, and wait for the outcome")
        parser.add_argument("--launch-url", default="", help="the courses' launch URL (default: the iSpring site)")
        parser.add_argument("--lang", default="en", choices=LANGS, metavar="LANG", help="the courses' language (en)")

    def handle(self, *args, **options) -> None:
        source = Connection.objects.filter(name=options["source"]).first()
        if source is None:
            raise CommandError(f"No connection named {options['source']!r}.")
        integration = self._integration(options["integration"])
        try:
            move = services.move_propose(
                actor=None,
                source=source,
                integration=integration,
                default_lang=options["lang"],
                launch_url=options["launch_url"],
            )
            move = services.move_preview(actor=None, move=move)
        except services.MoveError as exc:
            raise CommandError(str(exc)) from exc
        if options["dry_run"]:
            self._report(move, predicted=True)
            invalid = sum(run.invalid_records for run in move.runs)
            for run in (move.stats_run, move.courses_run):
                if run is not None:
                    import_run_discard(run=run)
            move.delete()
            self.stdout.write("Dry run: nothing was sent.")
            if invalid:
                raise CommandError(f"{invalid} invalid record(s).")
            return
        try:
            move = services.move_launch(actor=None, move=move, enqueue=not options["wait"])
        except services.MoveError as exc:
            self._report(move, predicted=True)
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Move {move.pk}")
        if not options["wait"]:
            self.stdout.write("Queued for the background worker (manage.py qcluster).")
            return
        move = self._wait(move)
        self._report(move, predicted=False)
        if move.message:
            self.stdout.write(move.message)
        failed = sum(run.failed_records + run.invalid_records for run in move.runs if run.launched_at)
        if failed or any(run.state != "completed" for run in move.runs if run.launched_at):
            raise CommandError("Not every record succeeded.")
        self.stdout.write(self.style.SUCCESS("Every sent record succeeded."))

    def _integration(self, remote_id: str) -> Integration:
        matches = list(Integration.objects.filter(remote_id=remote_id, removed_remotely_at__isnull=True))
        if not matches:
            raise CommandError(f"No integration with remote id {remote_id}: run pull_integrations first.")
        if len(matches) > 1:
            raise CommandError(f"Several connections have an integration {remote_id}; remove the duplicate connection.")
        return matches[0]

    def _wait(self, move: HistoryMove) -> HistoryMove:
        # Each import is executed here (holding its lease); if a worker holds it already, follow it.
        while move.state != MoveState.DONE:
            run = move.stats_run if move.state == MoveState.SENDING_STATS else move.courses_run
            if run is not None and run.launched_at and not run.ended_at:
                self._execute(run)
            move = services.move_advance(move_id=move.pk, enqueue=False)
        return move

    def _execute(self, run: ImportRun) -> None:
        while not import_run_execute(run_id=run.pk):
            time.sleep(1)
            run.refresh_from_db()
            if run.ended_at:
                break

    def _report(self, move: HistoryMove, *, predicted: bool) -> None:
        heading = "predicted" if predicted else "outcome"
        for shown, row in enumerate(selectors.move_rows(move=move)):
            if shown == ROWS_SHOWN:
                self.stdout.write("  …")
                break
            what = row.predicted if predicted else _outcome(row)
            who = f" | {row.learner}" if row.learner else ""
            self.stdout.write(f"  {row.file} line {row.line}: {row.course}{who} | {heading}: {what}")
        for run in move.runs:
            for record in selectors.invalid_records(run=run)[:ROWS_SHOWN]:
                self.stdout.write(f"  invalid: {run.kind} line {record.source_line}: {record.field}: {record.message}")
        left_out = move.left_out.all()
        if left_out:
            self.stdout.write(f"Left out ({move.left_out_rows}):")
        for row in left_out[:ROWS_SHOWN]:
            self.stdout.write(f"  {row.file} line {row.line}: {row.field}: {row.reason} [{row.course} | {row.learner}]")
        self.stdout.write(
            f"{move.course_rows} course(s), {move.stat_rows} statistic(s) to send, {move.left_out_rows} left out."
        )
        for run in move.runs:
            counts = ", ".join(f"{n} {effect}" for effect, n in run.predicted_effects.items())
            self.stdout.write(f"  {run.get_kind_display()} (import {run.pk}) predicted: {counts or 'nothing'}")
            if run.launched_at:
                self.stdout.write(
                    f"  {run.get_kind_display()} (import {run.pk}): {run.get_state_display()}, "
                    f"{run.succeeded_records} succeeded, {run.failed_records} failed, "
                    f"{run.skipped_records} already in 360Learning (not sent)."
                )


def _outcome(row: selectors.MoveRow) -> str:
    verdict = "" if row.matches is None else (" (as predicted)" if row.matches else f" (predicted: {row.predicted})")
    return f"{row.outcome or 'pending'}{verdict}{f' — {row.message}' if row.message else ''}"
