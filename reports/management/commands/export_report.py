from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q, QuerySet
from django.http import QueryDict

from integrations.models import Connection, SyncKind
from lms_cache.models import Course, LmsGroup, Path as LmsPath, PathSession
from reports import exports, vocabulary
from reports.filters import SESSION_PHASES, ReportFilters
from reports.forms import (
    AttemptFilterForm,
    LearnerFilterForm,
    LearnerReportFilterForm,
    ModuleResultFilterForm,
    PathSessionFilterForm,
)
from reports.provenance import Provenance, learners_provenance, report_provenance, session_provenance
from reports.selectors.learners import PRESENCE_CHOICES
from reports.selectors.path_sessions import path_session_find, path_session_groups

#: report → {table: what it exports}; the first table is the default.
TABLES = {
    "sessions": {"sessions": "one row per path session, with its learners per detailed status"},
    "path-session": {
        "learners": "the session's learners (needs --session)",
        "statuses": "learners per detailed status and reason, with the LMS's counts",
        "trend": "counts per detailed status after each sync",
    },
    "course-stats": {"courses": "one row per course", "attempts": "one row per course attempt"},
    "module-results": {"modules": "one row per course and module", "results": "one row per learner and module"},
    "learners": {"learners": "one row per person's learner record and item, across connections"},
}
#: command-line option → form field, per report.
OPTIONS = {
    "sessions": {"path", "phase", "status", "active_from", "active_to", "search", "sort"},
    "path-session": {"status", "reason", "group", "search", "sort"},
    "course-stats": {"course", "user", "group", "completed_from", "completed_to", "sort"},
    "module-results": {
        "user_ids",
        "course_ids",
        "module_ids",
        "user_statuses",
        "completion_statuses",
        "completed_from",
        "completed_to",
        "accessed_from",
        "accessed_to",
        "due_from",
        "due_to",
        "search",
        "sort",
    },
    "learners": {"presence", "shared_status", "search", "sort"},
}
#: Options whose flag is not their field name.
FLAGS = {
    "user_ids": "--user-id",
    "course_ids": "--course-id",
    "module_ids": "--module-id",
    "user_statuses": "--user-status",
    "completion_statuses": "--completion-status",
    "shared_status": "--shared-status",
}
#: report → the sync kind whose last completed run its numbers come from.
KINDS = {
    "sessions": SyncKind.SESSIONS,
    "course-stats": SyncKind.COURSE_STATS,
    "module-results": SyncKind.MODULE_RESULTS,
}
FORMS = {
    "sessions": PathSessionFilterForm,
    "course-stats": AttemptFilterForm,
    "module-results": ModuleResultFilterForm,
    "learners": LearnerReportFilterForm,
}


class Command(BaseCommand):
    help = (
        "Export a report from the local cache to a file, as the report pages' downloads do: CSV "
        "(UTF-8 with BOM, ISO dates, formula-safe cells) or XLSX when --output ends in .xlsx. "
        "Reports and their tables: sessions (sessions); path-session (learners, statuses, trend; "
        "needs --session, a 360Learning session id or the local id); course-stats (courses, "
        "attempts); module-results (modules, results); learners (learners: people across connections, "
        "one row per learner record and item). Filters are the pages' own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report", choices=list(TABLES), help="which report")
        parser.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")
        parser.add_argument("--table", help="which table of the report (default: its first)")
        parser.add_argument("--session", metavar="ID", help="path-session: the session's 360Learning or local id")
        parser.add_argument("--connection", metavar="NAME", help="only this connection")
        parser.add_argument("--search", help="text search, as on the page")
        parser.add_argument("--sort", help="a column key, '-' first for descending (write --sort=-completion)")
        parser.add_argument(
            "--provenance",
            action="store_true",
            help="write one row above the header: as of when, which sync runs, filters, rows (off: plain CSV)",
        )
        group = parser.add_argument_group("sessions and path-session filters")
        group.add_argument("--path", metavar="ID_OR_NAME", help="sessions of this path")
        group.add_argument("--phase", choices=list(SESSION_PHASES), help="sessions: upcoming, ongoing, ended")
        group.add_argument("--status", help="a detailed status (e.g. late, toRetake)")
        group.add_argument("--reason", help="path-session: mandatoryReplay, sessionEnded or none")
        group.add_argument("--group", metavar="ID_OR_NAME", help="learners of this LMS group")
        group.add_argument("--active-from", metavar="YYYY-MM-DD", help="sessions open on or after this day")
        group.add_argument("--active-to", metavar="YYYY-MM-DD", help="sessions open on or before this day")
        group = parser.add_argument_group("course-stats filters")
        group.add_argument("--course", metavar="ID_OR_NAME", help="attempts on this course")
        group.add_argument("--user", help="attempts of this learner (id, mail or name)")
        group.add_argument("--completed-from", metavar="YYYY-MM-DD", help="completed on or after this day")
        group.add_argument("--completed-to", metavar="YYYY-MM-DD", help="completed on or before this day")
        group = parser.add_argument_group("module-results filters (as iSpring Learn's API)")
        group.add_argument("--user-id", dest="user_ids", action="append", default=[], metavar="ID")
        group.add_argument("--course-id", dest="course_ids", action="append", default=[], metavar="ID")
        group.add_argument("--module-id", dest="module_ids", action="append", default=[], metavar="ID")
        group.add_argument("--user-status", dest="user_statuses", action="append", default=[], choices=["1", "3"])
        group.add_argument(
            "--completion-status",
            dest="completion_statuses",
            action="append",
            default=[],
            choices=vocabulary.completion_statuses(),
        )
        group.add_argument("--accessed-from", metavar="YYYY-MM-DD")
        group.add_argument("--accessed-to", metavar="YYYY-MM-DD")
        group.add_argument("--due-from", metavar="YYYY-MM-DD")
        group.add_argument("--due-to", metavar="YYYY-MM-DD")
        group = parser.add_argument_group("learners filters")
        group.add_argument("--presence", choices=list(PRESENCE_CHOICES), help="people in several LMSs, or in one only")
        group.add_argument(
            "--shared-status",
            dest="shared_status",
            choices=list(vocabulary.shared_status_labels()),
            help="people with an item in this shared status",
        )

    def handle(self, *args, **options) -> None:
        report = options["report"]
        table_name = options["table"] or next(iter(TABLES[report]))
        if table_name not in TABLES[report]:
            raise CommandError(f"{report} has the tables {', '.join(TABLES[report])}, not {table_name!r}.")
        output = Path(options["output"])
        if output.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError("--output must end in .csv or .xlsx.")
        if not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        connection = self._connection(options["connection"])
        query = self._query(report, options, connection)
        table, provenance = self._table(report, table_name, query, options, connection)
        started = time.monotonic()
        rows = exports.write_file(replace(table, provenance=provenance), output, sidecar=options["provenance"])
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {rows:,} rows to {output} ({exports.file_format(output)}, {seconds:.1f} s).")
        )
        for source in provenance.sources:
            self.stdout.write(f"Statistics of {source.describe()}{' (stale)' if source.freshness.stale else ''}.")

    # Options to the pages' query strings ------------------------------------------------------
    def _connection(self, name: str | None) -> Connection | None:
        if not name:
            return None
        connection = Connection.objects.filter(name=name).first()
        if connection is None:
            raise CommandError(f"No connection is named {name!r}.")
        return connection

    def _query(self, report: str, options: dict, connection: Connection | None) -> QueryDict:
        given = {
            name
            for name in set().union(*OPTIONS.values())
            if options.get(name) not in (None, "", []) and name not in ("search", "sort")
        }
        foreign = sorted(given - OPTIONS[report])
        if foreign:
            flags = ", ".join(FLAGS.get(name, "--" + name.replace("_", "-")) for name in foreign)
            raise CommandError(f"Not a filter of the {report} report: {flags}.")
        query = QueryDict(mutable=True)
        if connection is not None and report != "path-session":
            query["connection"] = str(connection.pk)
        for name in OPTIONS[report]:
            value = options.get(name)
            if value in (None, "", []):
                continue
            if name == "path":
                value = self._find(LmsPath.objects.current(), value, connection, "path").pk
            elif name == "group":
                value = self._find(LmsGroup.objects.current(), value, connection, "group").pk
            elif name == "course":
                value = self._find(Course.objects.current(), value, connection, "course").pk
            if isinstance(value, list):
                query.setlist(name, value if name.endswith("statuses") else [" ".join(value)])
            else:
                query[name] = str(value)
        return query

    def _find(self, objects: QuerySet, reference: str, connection: Connection | None, what: str):
        if connection is not None:
            objects = objects.filter(connection=connection)
        found = list(objects.filter(Q(remote_id=reference) | Q(name=reference))[:2])
        if not found:
            raise CommandError(f"No {what} has the id or name {reference!r}.")
        if len(found) > 1:
            raise CommandError(f"Several {what}s match {reference!r}: give its id, or --connection.")
        return found[0]

    def _form_filters(self, form) -> ReportFilters:
        if not form.is_valid():
            raise CommandError(f"Invalid filters: {form.errors_text()}")
        return form.filters()

    def _table(
        self, report: str, table: str, query: QueryDict, options: dict, connection
    ) -> tuple[exports.Table, Provenance]:
        if report == "path-session":
            return self._path_session_table(table, query, options, connection)
        if options["session"]:
            raise CommandError("--session applies to the path-session report only.")
        form = FORMS[report](query)
        filters = self._form_filters(form)
        if report == "learners":
            return exports.learners_table(filters=filters), learners_provenance(filters=filters, applied=form.applied())
        provenance = report_provenance(kind=KINDS[report], filters=filters, applied=form.applied())
        if report == "sessions":
            return exports.sessions_table(filters=filters), provenance
        if report == "course-stats":
            builder = exports.course_stats_table if table == "courses" else exports.attempts_table
        else:
            builder = exports.module_results_table if table == "modules" else exports.module_result_rows_table
        return builder(filters=filters), provenance

    def _path_session_table(
        self, table: str, query: QueryDict, options: dict, connection
    ) -> tuple[exports.Table, Provenance]:
        if not options["session"]:
            raise CommandError("The path-session report needs --session ID (the 360Learning or local session id).")
        base = ReportFilters(connection=connection)
        try:
            session = path_session_find(reference=options["session"], filters=base)
        except PathSession.DoesNotExist:
            raise CommandError(f"No path session has the id {options['session']!r}.") from None
        except PathSession.MultipleObjectsReturned:
            raise CommandError(
                f"Several connections have a session {options['session']!r}: add --connection."
            ) from None
        base = ReportFilters()
        if table == "statuses":
            return exports.path_session_breakdown_table(session=session, filters=base), session_provenance(
                session=session, filters=base
            )
        if table == "trend":
            return exports.path_session_trend_table(session=session, filters=base), session_provenance(
                session=session, filters=base
            )
        form = LearnerFilterForm(query, groups=path_session_groups(session=session, filters=base))
        filters = self._form_filters(form)
        provenance = session_provenance(session=session, filters=filters, applied=form.applied())
        return exports.path_session_learners_table(session=session, filters=filters), provenance
