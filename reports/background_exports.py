"""Report exports: which table each export link gives, and the big ones written by a worker.

Every export link of a report page asks for one ``ReportExport.Report`` in CSV or XLSX, with the
page's filters in its query string. ``report_table`` turns that into the ``exports.Table``,
validated by the page's own form and narrowed to the reader's scope, named after its
provenance: the view streams it when it is small, and the worker builds it again the same way
for a big one, so a file holds exactly what the link would have given.

An export of more than ``EXPORT_BACKGROUND_ROWS`` rows is a **background export**
(``ReportExport``), because the web timeout would kill the request writing it:

1. **Requested** (``report_export_request``): a row per owner and request; a double click, a
   reload or the same link a few minutes later joins the active or just finished export rather
   than starting another (a partial unique constraint settles two requests that race).
2. **Written** (``report_export_run``, in a django-q2 task): the worker takes the export's lease
   with a conditional UPDATE, re-builds the table from the stored query under the owner's scope
   *now* (a manager whose scope shrank meanwhile gets the smaller file), writes it to a
   temporary file, updating its progress and renewing the lease every
   ``EXPORT_PROGRESS_ROWS`` rows, and renames the file into place only once complete. A file
   is never served half-written: the download view serves only ``done`` exports.
3. **Restarted** when the worker died (``report_exports_resume``, every minute): the lease
   lapses and the export is written again from row 0, into a new temporary file; after
   ``MAX_ATTEMPTS`` starts it fails with a reason instead of crashing workers for ever.
4. **Kept** ``EXPORT_KEEP_DAYS`` days in ``EXPORT_FILES_DIR`` (private: never static or media),
   then deleted by ``report_exports_purge`` (hourly), which marks the export expired.

The owner is e-mailed a link to the export's page when it is ready (or failed), when they have
an address.
"""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection as db_connection, connections, transaction
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncKind
from lms_admin.roles import can_view_reports
from lms_admin.tasks import enqueue_on_commit, worker_identity
from lms_cache.models import PathSession
from reports import exports
from reports.filters import ReportFilters
from reports.forms import (
    AttemptFilterForm,
    LearnerFilterForm,
    LearnerReportFilterForm,
    ModuleResultFilterForm,
    PathSessionFilterForm,
    ReportForm,
)
from reports.models import ReportExport
from reports.provenance import (
    EVERY_LEARNER,
    PROVENANCE_PARAM,
    learners_provenance,
    report_provenance,
    session_provenance,
)
from reports.scopes import reader_scope
from reports.selectors.path_sessions import path_session_get, path_session_groups

logger = logging.getLogger(__name__)

Report = ReportExport.Report
State = ReportExport.State
ACTIVE = (State.QUEUED, State.RUNNING)
#: A finished export with the same request and the same provenance is handed out again this long.
REUSE_WINDOW = timedelta(minutes=15)
#: Starts after which an export whose worker keeps dying fails instead.
MAX_ATTEMPTS = 3
#: A queued export nobody took this long after it was enqueued is enqueued again (a lost task).
REQUEUE_AFTER = timedelta(minutes=10)
#: Temporary files older than this that no worker finished are swept by the purge.
ORPHAN_AGE = timedelta(days=1)
#: Query-string parameters that are not filters.
NOT_FILTERS = ("page", PROVENANCE_PARAM)

INVALID_FILTERS = "These filters are not valid, so nothing was exported: {errors}"
SESSION_GONE = "This path session is no longer in your reports, so nothing was exported."
NO_LONGER_A_READER = "You no longer have access to reports, so nothing was exported."
WRITE_FAILED = (
    "The file could not be written (the error was logged for your administrator). "
    "Export again; if it fails again, ask your administrator."
)
TOO_MANY_ATTEMPTS = (
    "The worker writing this export stopped {attempts} times before the end, so it was given up. "
    "Export again with narrower filters, or ask your administrator."
)


# Which table each export is -------------------------------------------------------------------
@dataclass(frozen=True)
class ReportSpec:
    form: type[ReportForm]
    table: Callable[..., exports.Table]
    #: The sync kind its provenance names; "" for a path session's table (its own freshness).
    kind: str
    #: The URL name of the export link (with ``file_format``, and ``pk`` for a session's).
    url_name: str


REPORTS: dict[str, ReportSpec] = {
    Report.SESSIONS: ReportSpec(PathSessionFilterForm, exports.sessions_table, SyncKind.SESSIONS, "pathsession-export"),
    Report.PATH_SESSION_LEARNERS: ReportSpec(
        LearnerFilterForm, exports.path_session_learners_table, "", "pathsession-learner-export"
    ),
    Report.COURSE_STATS: ReportSpec(
        AttemptFilterForm, exports.course_stats_table, SyncKind.COURSE_STATS, "course-stats-export"
    ),
    Report.ATTEMPTS: ReportSpec(AttemptFilterForm, exports.attempts_table, SyncKind.COURSE_STATS, "attempt-export"),
    Report.MODULE_RESULTS: ReportSpec(
        ModuleResultFilterForm, exports.module_results_table, SyncKind.MODULE_RESULTS, "module-results-export"
    ),
    Report.MODULE_RESULT_ROWS: ReportSpec(
        ModuleResultFilterForm, exports.module_result_rows_table, SyncKind.MODULE_RESULTS, "module-result-rows-export"
    ),
    # Its provenance names several kinds of sync per connection (``learners_provenance``).
    Report.LEARNERS: ReportSpec(LearnerReportFilterForm, exports.learners_table, "", "learner-export"),
}


class InvalidFilters(Exception):
    """The query's filters do not validate: the form says why (``form.errors_text()``)."""

    def __init__(self, form: ReportForm) -> None:
        super().__init__(form.errors_text())
        self.form = form


@dataclass(frozen=True)
class ReportTable:
    table: exports.Table  # with its provenance
    form: ReportForm
    filters: ReportFilters


def report_table(
    *, report: str, base: ReportFilters, query: QueryDict, session: PathSession | None = None
) -> ReportTable:
    """The table an export link of ``report`` gives a reader whose own filters are ``base``
    (their scope), for the filters in ``query``, named after its provenance.

    ``session`` is the path session of a session's report, already checked to be the reader's.
    Raises ``InvalidFilters`` rather than export more than was asked for."""
    spec = REPORTS[report]
    if report == Report.PATH_SESSION_LEARNERS:
        form = spec.form(query, groups=path_session_groups(session=session, filters=base))
    else:
        form = spec.form(query)
    if not form.is_valid():
        raise InvalidFilters(form)
    filters = form.filters(base)
    if session is not None:
        table = spec.table(session=session, filters=filters)
        provenance = session_provenance(session=session, filters=filters, applied=form.applied())
    elif report == Report.LEARNERS:
        table = spec.table(filters=filters)
        provenance = learners_provenance(filters=filters, applied=form.applied())
    else:
        table = spec.table(filters=filters)
        provenance = report_provenance(kind=spec.kind, filters=filters, applied=form.applied())
    return ReportTable(replace(table, provenance=provenance), form, filters)


def goes_to_background(*, rows: int) -> bool:
    """Whether a web request should hand a table of ``rows`` rows to a worker rather than write it."""
    return rows > settings.EXPORT_BACKGROUND_ROWS


# Requesting -----------------------------------------------------------------------------------
def filters_query(query: QueryDict) -> str:
    """The filters of an export link's query string, in a fixed order (no page, no sidecar switch)."""
    items = sorted((key, value) for key, values in query.lists() if key not in NOT_FILTERS for value in values)
    copy = QueryDict(mutable=True)
    for key, value in items:
        copy.appendlist(key, value)
    return copy.urlencode()


def _request_key(
    *, report: str, file_format: str, session: PathSession | None, query: str, sidecar: bool, scope: str
) -> str:
    text = "\n".join([report, file_format, str(session.pk if session else ""), query, str(sidecar), scope])
    return hashlib.sha256(text.encode()).hexdigest()


def report_export_request(
    *,
    owner,
    report: str,
    file_format: str,
    query: QueryDict,
    built: ReportTable,
    rows: int,
    session: PathSession | None = None,
) -> tuple[ReportExport, bool]:
    """The background export of ``built`` (a ``report_table`` of ``owner``'s, ``rows`` long) for ``owner``:
    the one already queued or being written for the same request, or one finished from the
    same data (same provenance) within ``REUSE_WINDOW``, else a new one, enqueued once this
    transaction commits. Returns ``(export, created)``."""
    stored_query = filters_query(query)
    sidecar = query.get(PROVENANCE_PARAM) == "1"
    scope = built.filters.scope.description if built.filters.scope is not None else EVERY_LEARNER
    key = _request_key(
        report=report, file_format=file_format, session=session, query=stored_query, sidecar=sidecar, scope=scope
    )
    file_name = built.table.filename(file_format)
    existing = _reusable(owner=owner, key=key, file_name=file_name)
    if existing is not None:
        return existing, False
    applied = "; ".join(f"{label}: {value}" for label, value in built.form.applied())
    try:
        with transaction.atomic():
            export = ReportExport.objects.create(
                owner=owner,
                report=report,
                file_format=file_format,
                query=stored_query,
                sidecar=sidecar,
                session=session,
                request_key=key,
                filters_text=applied,
                file_name=file_name,
                rows_total=rows,
                enqueued_at=timezone.now(),
            )
    except IntegrityError:
        # Another request (the second click) created it between our look and our insert.
        existing = ReportExport.objects.filter(owner=owner, request_key=key, state__in=ACTIVE).first()
        if existing is None:
            raise
        return existing, False
    enqueue_on_commit("reports.tasks.report_export_run", export.pk, name=f"report-export-{export.pk}")
    return export, True


def _reusable(*, owner, key: str, file_name: str) -> ReportExport | None:
    recent = timezone.now() - REUSE_WINDOW
    return (
        ReportExport.objects.filter(owner=owner, request_key=key)
        .filter(Q(state__in=ACTIVE) | Q(state=State.DONE, file_name=file_name, finished_at__gte=recent))
        .order_by("-created_at")
        .first()
    )


# Reading (the owner's only) --------------------------------------------------------------------
def report_export_list(*, owner) -> QuerySet[ReportExport]:
    """``owner``'s exports, newest first."""
    return ReportExport.objects.filter(owner=owner).select_related("session").order_by("-created_at", "-pk")


def report_export_get(*, owner, pk: int) -> ReportExport:
    """``owner``'s export ``pk``; raises ``ReportExport.DoesNotExist`` for anyone else's."""
    return report_export_list(owner=owner).get(pk=pk)


def export_file(export: ReportExport) -> Path:
    """Where a finished export's file is (only ``done`` exports have one)."""
    return Path(settings.EXPORT_FILES_DIR) / export.file_path


def export_link(export: ReportExport) -> str:
    """The report's own export link for the same request (to export again)."""
    spec = REPORTS[export.report]
    args = [export.file_format]
    if export.report == Report.PATH_SESSION_LEARNERS:
        args.insert(0, export.session_id)
    query = QueryDict(export.query, mutable=True)
    if export.sidecar:
        query[PROVENANCE_PARAM] = "1"
    return reverse(spec.url_name, args=args) + (f"?{query.urlencode()}" if query else "")


# Writing (the worker) -------------------------------------------------------------------------
class _LeaseLost(Exception):
    """Another worker took the export over (this one was presumed dead): stop writing."""


class _Refused(Exception):
    """The export cannot be written as asked (the reason is for the owner)."""


def _lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=settings.EXPORT_LEASE_SECONDS)


def _claim(export_id: int, owner: str) -> bool:
    now = timezone.now()
    return (
        ReportExport.objects.filter(pk=export_id, state__in=ACTIVE, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now) | Q(lease_owner=owner))
        .update(
            state=State.RUNNING,
            lease_owner=owner,
            lease_expires_at=_lease_until(),
            started_at=now,
            attempts=F("attempts") + 1,
            rows_written=0,
        )
        == 1
    )


def _mine(export_id: int, owner: str) -> QuerySet[ReportExport]:
    return ReportExport.objects.filter(pk=export_id, state=State.RUNNING, lease_owner=owner)


def report_export_run(*, export_id: int, owner: str | None = None) -> bool:
    """Write export ``export_id`` from its first row, if no live worker holds it.

    Returns False when it is not waiting to be written or another worker holds it. Never
    raises for what the owner can fix or a broken write: the export fails with the reason."""
    owner = owner or worker_identity()
    if not _claim(export_id, owner):
        return False
    export = ReportExport.objects.select_related("owner", "session").get(pk=export_id)
    _remove_partial_files(export)
    try:
        rows, size, file_name = _write(export, owner)
    except _LeaseLost:
        return False
    except _Refused as refused:
        _fail(export, owner, str(refused))
        return True
    except Exception:
        # A bug, the disk, the database: the owner gets a plain answer; the traceback goes to the log.
        logger.exception("Writing report export #%s failed", export_id)
        _fail(export, owner, WRITE_FAILED)
        return True
    now = timezone.now()
    finished = _mine(export_id, owner).update(
        state=State.DONE,
        rows_written=rows,
        rows_total=rows,
        file_path=_final_name(export),
        file_size=size,
        file_name=file_name,
        finished_at=now,
        expires_at=now + timedelta(days=settings.EXPORT_KEEP_DAYS),
        lease_owner="",
        lease_expires_at=None,
        error="",
    )
    if finished:
        export.refresh_from_db()
        _notify(export)
    return bool(finished)


def _owner_table(export: ReportExport) -> ReportTable:
    """The export's table as its owner would get it now: their scope, the page's form."""
    user = export.owner
    if not user.is_active or not can_view_reports(user):
        raise _Refused(NO_LONGER_A_READER)
    base = ReportFilters(scope=reader_scope(user=user))
    session = None
    if export.report == Report.PATH_SESSION_LEARNERS:
        if export.session_id is None:
            raise _Refused(SESSION_GONE)
        try:
            session = path_session_get(pk=export.session_id, filters=base)
        except PathSession.DoesNotExist:
            raise _Refused(SESSION_GONE) from None
    try:
        return report_table(report=export.report, base=base, query=QueryDict(export.query), session=session)
    except InvalidFilters as invalid:
        raise _Refused(INVALID_FILTERS.format(errors=invalid.form.errors_text())) from None


def _final_name(export: ReportExport) -> str:
    return f"export-{export.pk}.{export.file_format}"


def _remove_partial_files(export: ReportExport) -> None:
    """What a dead worker left of this export: its temporary files, never served."""
    directory = Path(settings.EXPORT_FILES_DIR)
    for path in directory.glob(f"export-{export.pk}-*.part"):
        path.unlink(missing_ok=True)


class _Progress:
    """The run's progress and lease writes, made while the rows are still being read.

    Outside a transaction (a worker's task) they go through a connection of their own, a
    helper thread's: on SQLite, a connection whose read of the rows is still open cannot write
    once another process has written meanwhile ("database is locked", whatever the busy
    timeout), so the rows' connection only reads until the last row. Inside a caller's
    transaction, reads and writes share it and that cannot happen."""

    def __init__(self, export_id: int, owner: str) -> None:
        self.export_id, self.owner = export_id, owner
        self.executor = None
        if not db_connection.in_atomic_block:
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"report-export-{export_id}")

    def _update(self, rows: int) -> int:
        return _mine(self.export_id, self.owner).update(rows_written=rows, lease_expires_at=_lease_until())

    def step(self, rows: int) -> None:
        """Record ``rows`` written and renew the lease; raises ``_LeaseLost`` when it is not ours any more."""
        done = self.executor.submit(self._update, rows).result() if self.executor else self._update(rows)
        if not done:
            raise _LeaseLost

    def close(self) -> None:
        if self.executor is not None:
            self.executor.submit(connections.close_all).result()  # the helper thread's connection
            self.executor.shutdown()


def _write(export: ReportExport, owner: str) -> tuple[int, int, str]:
    """Write the file to a temporary name, then rename it into place. Returns (rows, bytes, download name)."""
    built = _owner_table(export)
    table = built.table
    total = table.row_count()
    if not _mine(export.pk, owner).update(rows_total=total, lease_expires_at=_lease_until()):
        raise _LeaseLost
    every = settings.EXPORT_PROGRESS_ROWS
    written = 0
    progress = _Progress(export.pk, owner)

    def rows() -> Iterator[tuple]:
        nonlocal written
        source = table.rows()
        try:
            for row in source:
                yield row
                written += 1
                if written % every == 0:
                    progress.step(written)
        finally:
            source.close()  # and with it the database cursor, before anything else is written

    directory = Path(settings.EXPORT_FILES_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f"export-{export.pk}-", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as fh:
            counted = replace(table, rows=rows)
            if export.file_format == exports.XLSX:
                exports.xlsx_write(counted, fh, sidecar=export.sidecar)
            else:
                for chunk in exports.csv_chunks(counted, sidecar=export.sidecar):
                    fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        size = os.path.getsize(temporary)
        if not _mine(export.pk, owner).exists():
            raise _LeaseLost
        # Atomic on one file system: the final name holds a whole file or nothing.
        os.replace(temporary, directory / _final_name(export))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        progress.close()
    return written, size, table.filename(export.file_format)


def _fail(export: ReportExport, owner: str, reason: str) -> None:
    if _mine(export.pk, owner).update(
        state=State.FAILED, error=reason, finished_at=timezone.now(), lease_owner="", lease_expires_at=None
    ):
        export.refresh_from_db()
        _notify(export)


# Schedules ------------------------------------------------------------------------------------
def report_exports_due(*, now: datetime | None = None) -> list[int]:
    """Exports to enqueue again: being written by a worker whose lease lapsed (it died), or
    queued and never taken long after their task was enqueued. Those whose worker died
    ``MAX_ATTEMPTS`` times fail instead, with the reason."""
    now = now or timezone.now()
    lapsed = Q(state=State.RUNNING, lease_expires_at__lt=now)
    for export in ReportExport.objects.filter(lapsed, attempts__gte=MAX_ATTEMPTS).select_related("owner"):
        if ReportExport.objects.filter(lapsed, pk=export.pk).update(
            state=State.FAILED,
            error=TOO_MANY_ATTEMPTS.format(attempts=export.attempts),
            finished_at=now,
            lease_owner="",
            lease_expires_at=None,
        ):
            export.refresh_from_db()
            _notify(export)
    lost = Q(state=State.QUEUED, enqueued_at__lt=now - REQUEUE_AFTER)
    due = list(ReportExport.objects.filter(lapsed | lost).order_by("pk").values_list("pk", flat=True))
    ReportExport.objects.filter(pk__in=due).update(enqueued_at=now)
    return due


def report_exports_purge(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their ``expires_at`` and mark them expired, and sweep
    temporary files no worker finished. Returns how many exports expired."""
    now = now or timezone.now()
    expired = 0
    for export in ReportExport.objects.filter(state=State.DONE, expires_at__lte=now).order_by("pk"):
        if export.file_path:
            export_file(export).unlink(missing_ok=True)
        expired += ReportExport.objects.filter(pk=export.pk, state=State.DONE).update(state=State.EXPIRED, file_path="")
    directory = Path(settings.EXPORT_FILES_DIR)
    if directory.is_dir():
        cutoff = time.time() - ORPHAN_AGE.total_seconds()
        for path in directory.glob("export-*.part"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
    return expired


# Mail -----------------------------------------------------------------------------------------
def _notify(export: ReportExport) -> None:
    """Tell the owner their export is ready (or why it failed), when they have an address.
    A mail server that refuses is logged, never fails the export: its page says the same."""
    if not export.owner.email:
        return
    context = {
        "export": export,
        "url": settings.LMS_PUBLIC_URL + reverse("report-export-detail", args=[export.pk]),
        "keep_days": settings.EXPORT_KEEP_DAYS,
    }
    what = f"{export.get_report_display()} ({export.get_file_format_display()})"
    subject = (
        f"[LMS Admin] Your export is ready: {what}"
        if export.state == State.DONE
        else (f"[LMS Admin] Your export failed: {what}")
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("reports/email/export_ready.txt", context),
        to=[export.owner.email],
    )
    message.attach_alternative(render_to_string("reports/email/export_ready.html", context), "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Report export #%s: e-mail not sent (%s)", export.pk, exc.__class__.__name__)
