"""The sessions overview and one path session's report (detailed-status breakdown, trend,
learner table), with their exports. Managers and admins.

Both pages work without JavaScript (links and GET forms); with htmx, filters, sorting and
pages swap only the table region (``#pathsession-table``, ``#learner-table``), and a count in
the breakdown swaps the learner section (``#learners``: its filters and table) to show the
learners in that status.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET

from integrations.models import SyncKind
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import reports_required
from lms_cache.models import PathSession
from reports import exports, vocabulary
from reports.charts import StatusCounts, status_legend
from reports.filters import SESSION_PHASES
from reports.forms import LearnerFilterForm, PathSessionFilterForm
from reports.freshness import Freshness, report_data_version, report_freshness, session_freshness
from reports.models import ReportExport
from reports.provenance import session_provenance
from reports.scopes import WHOLE_SESSION_HIDDEN
from reports.selectors.path_sessions import (
    LEARNER_DEFAULT_SORT,
    SESSION_DEFAULT_SORT,
    learner_table,
    path_session_breakdown,
    path_session_get,
    path_session_groups,
    path_session_learner_count,
    path_session_learners,
    path_session_list,
    path_session_phase,
    path_session_status_counts,
    path_session_trend,
)
from reports.views.helpers import (
    FRAGMENT_SECONDS,
    PAGE_SIZE,
    export_response,
    fragment,
    fragment_key,
    query_without_page,
    reader_filters,
    render_report,
    report_export,
)

LIST_TEMPLATE = "reports/pathsession_list.html"
DETAIL_TEMPLATE = "reports/pathsession_detail.html"
Report = ReportExport.Report


@dataclass(frozen=True)
class SessionRow:
    """One session of the overview's table."""

    session: PathSession
    counts: StatusCounts
    phase: str  # in words (``SESSION_PHASES``)
    freshness: Freshness


@reports_required
@require_GET
def pathsession_list(request: HtmxHttpRequest) -> HttpResponse:
    form = PathSessionFilterForm(request.GET)
    filters = form.filters(reader_filters(request))
    page = Paginator(path_session_list(filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))

    def rows() -> list[SessionRow]:
        sessions = list(page.object_list)
        counts = path_session_status_counts(sessions=sessions, filters=filters)
        return [
            SessionRow(
                session=session,
                counts=counts[session.pk],
                phase=SESSION_PHASES[path_session_phase(session)],
                freshness=session_freshness(session),
            )
            for session in sessions
        ]

    version = report_data_version()
    context = {
        "filter_form": form,
        "applied": form.applied(),
        "scope": filters.scope,
        "page_obj": page,
        # Read only when the table is not cached for this sync, scope and query (``fragment_key``).
        "rows": SimpleLazyObject(rows),
        "fragment_seconds": FRAGMENT_SECONDS if version else 0,
        "table_key": fragment_key(request, version=version, query=True),
        "query": query_without_page(request),
        "sort": filters.sort or SESSION_DEFAULT_SORT,
        "sort_param": filters.sort,
        "legend": status_legend(),
    }
    context["freshness"] = report_freshness(filters=filters, kind=SyncKind.SESSIONS)
    if fragment(request) is not None:
        return render_report(request, LIST_TEMPLATE + "#table", {**context, "freshness_oob": True})
    return render_report(request, LIST_TEMPLATE, context)


@reports_required
@require_GET
def pathsession_export(request: HtmxHttpRequest, file_format: str) -> HttpResponse:
    return report_export(request, report=Report.SESSIONS, file_format=file_format)


def _session(request: HtmxHttpRequest, pk: int) -> PathSession:
    try:
        return path_session_get(pk=pk, filters=reader_filters(request))
    except PathSession.DoesNotExist:
        raise Http404("No such path session.") from None


@reports_required
@require_GET
def pathsession_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    base = reader_filters(request)
    form = LearnerFilterForm(request.GET, groups=path_session_groups(session=session, filters=base))
    filters = form.filters(base)
    # The breakdown (from the counts the sync stored, or one pass over the learners) gives the
    # table's row count whenever only a status, reason or group filters it.
    breakdown = path_session_breakdown(session=session, filters=base)
    paginator = Paginator(path_session_learners(session=session, filters=filters), PAGE_SIZE)
    count = path_session_learner_count(session=session, breakdown=breakdown, filters=filters)
    if count is not None:
        paginator.count = count
    page = paginator.get_page(request.GET.get("page"))
    # The sections the template caches per sync (``fragment_key``) read their rows lazily, so a
    # cached fragment costs no query.
    version = report_data_version(connection_id=session.connection_id)
    context = {
        "session": session,
        # Never cached before a sync: there is no version to tell those rows from later ones.
        "fragment_seconds": FRAGMENT_SECONDS if version else 0,
        "sections_key": fragment_key(request, version=version, query=False),
        "table_key": fragment_key(request, version=version, query=True),
        "filter_form": form,
        "page_obj": page,
        # The page of learners as rows, with the custom-field columns they fill.
        "learners": SimpleLazyObject(lambda: learner_table(page.object_list)),
        "query": query_without_page(request),
        "sort": filters.sort or LEARNER_DEFAULT_SORT,
        "sort_param": filters.sort,
        "filtered": any(form.valid_data().get(name) for name in ("status", "reason", "group", "search")),
        "applied": form.applied(),
        "scope": base.scope,
    }
    target = fragment(request)
    if target == "learner-table":
        return render_report(request, DETAIL_TEMPLATE + "#learner_table", context)
    if target is not None:
        return render_report(request, DETAIL_TEMPLATE + "#learners", context)
    context.update(
        breakdown=breakdown,
        segments=breakdown.segments(),
        trend=SimpleLazyObject(lambda: path_session_trend(session=session, filters=base)),
        freshness=session_freshness(session),
        phase=SESSION_PHASES[path_session_phase(session)],
        status_definitions=[
            (status, vocabulary.status_label(status), text) for status, text in vocabulary.status_definitions().items()
        ],
        reason_definitions=[
            (reason, vocabulary.reason_label(reason), text) for reason, text in vocabulary.reason_definitions().items()
        ],
        whole_session_hidden=WHOLE_SESSION_HIDDEN if base.scope is not None else "",
    )
    return render_report(request, DETAIL_TEMPLATE, context)


@reports_required
@require_GET
def pathsession_learner_export(request: HtmxHttpRequest, pk: int, file_format: str) -> HttpResponse:
    return report_export(
        request, report=Report.PATH_SESSION_LEARNERS, file_format=file_format, session=_session(request, pk)
    )


@reports_required
@require_GET
def pathsession_breakdown_export(request: HtmxHttpRequest, pk: int, file_format: str) -> HttpResponse:
    session = _session(request, pk)
    filters = reader_filters(request)
    table = exports.path_session_breakdown_table(session=session, filters=filters)
    return export_response(request, table, file_format, provenance=session_provenance(session=session, filters=filters))


@reports_required
@require_GET
def pathsession_trend_export(request: HtmxHttpRequest, pk: int, file_format: str) -> HttpResponse:
    session = _session(request, pk)
    filters = reader_filters(request)
    if filters.scope is not None:
        # Snapshots count every learner of the session: refuse rather than hand over an empty file.
        return HttpResponseForbidden(WHOLE_SESSION_HIDDEN, content_type="text/plain; charset=utf-8")
    table = exports.path_session_trend_table(session=session, filters=filters)
    return export_response(request, table, file_format, provenance=session_provenance(session=session, filters=filters))
