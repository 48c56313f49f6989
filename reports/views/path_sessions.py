"""The sessions overview and one path session's report (detailed-status breakdown, trend,
learner table), with their exports. Managers and admins.

Both pages work without JavaScript (links and GET forms); with htmx, filters, sorting and
pages swap only the table region (``#pathsession-table``, ``#learner-table``), and a count in
the breakdown swaps the learner section (``#learners``: its filters and table) to show the
learners in that status.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET

from integrations.models import SyncKind
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import reports_required
from lms_cache.models import PathSession
from reports import exports, selectors, vocabulary
from reports.forms import LearnerFilterForm, PathSessionFilterForm
from reports.models import ReportExport
from reports.provenance import session_provenance
from reports.scopes import WHOLE_SESSION_HIDDEN
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


@reports_required
@require_GET
def pathsession_list(request: HtmxHttpRequest) -> HttpResponse:
    form = PathSessionFilterForm(request.GET)
    filters = form.filters(reader_filters(request))
    page = Paginator(selectors.path_session_list(filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))

    def rows() -> list[dict]:
        sessions = list(page.object_list)
        counts = selectors.path_session_status_counts(sessions=sessions, filters=filters)
        return [
            {
                "session": session,
                "counts": counts[session.pk],
                "phase": selectors.SESSION_PHASES[selectors.path_session_phase(session)],
                "freshness": selectors.session_freshness(session),
            }
            for session in sessions
        ]

    version = selectors.report_data_version()
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
        "sort": filters.sort or selectors.SESSION_DEFAULT_SORT,
        "sort_param": filters.sort,
        "legend": selectors.status_legend(),
    }
    context["freshness"] = selectors.report_freshness(filters=filters, kind=SyncKind.SESSIONS)
    if fragment(request) is not None:
        return render_report(request, LIST_TEMPLATE + "#table", {**context, "freshness_oob": True})
    return render_report(request, LIST_TEMPLATE, context)


@reports_required
@require_GET
def pathsession_export(request: HtmxHttpRequest, file_format: str) -> HttpResponse:
    return report_export(request, report=Report.SESSIONS, file_format=file_format)


def _session(request: HtmxHttpRequest, pk: int) -> PathSession:
    try:
        return selectors.path_session_get(pk=pk, filters=reader_filters(request))
    except PathSession.DoesNotExist:
        raise Http404("No such path session.") from None


@reports_required
@require_GET
def pathsession_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    base = reader_filters(request)
    form = LearnerFilterForm(request.GET, groups=selectors.path_session_groups(session=session, filters=base))
    filters = form.filters(base)
    # The breakdown (from the counts the sync stored, or one pass over the learners) gives the
    # table's row count whenever only a status, reason or group filters it.
    breakdown = selectors.path_session_breakdown(session=session, filters=base)
    paginator = Paginator(selectors.path_session_learners(session=session, filters=filters), PAGE_SIZE)
    count = selectors.path_session_learner_count(session=session, breakdown=breakdown, filters=filters)
    if count is not None:
        paginator.count = count
    page = paginator.get_page(request.GET.get("page"))
    # The sections the template caches per sync (``fragment_key``) read their rows lazily, so a
    # cached fragment costs no query.
    version = selectors.report_data_version(connection_id=session.connection_id)
    context = {
        "session": session,
        # Never cached before a sync: there is no version to tell those rows from later ones.
        "fragment_seconds": FRAGMENT_SECONDS if version else 0,
        "sections_key": fragment_key(request, version=version, query=False),
        "table_key": fragment_key(request, version=version, query=True),
        "filter_form": form,
        "page_obj": page,
        "custom_fields": SimpleLazyObject(lambda: selectors.custom_field_names(page.object_list)),
        "query": query_without_page(request),
        "sort": filters.sort or selectors.LEARNER_DEFAULT_SORT,
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
        trend=SimpleLazyObject(lambda: selectors.path_session_trend(session=session, filters=base)),
        freshness=selectors.session_freshness(session),
        phase=selectors.SESSION_PHASES[selectors.path_session_phase(session)],
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
