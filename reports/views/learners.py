"""The Learners report: people across connections, each with their path sessions, course
attempts and iSpring module results per connection (raw status beside the shared one); one
person's page; its export. Managers (in their scope) and admins; linking and unlinking learner
records by hand is for admins."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required, is_admin, reports_required
from people.models import Person, PersonRecord
from people.services import learner_link_decide, learner_link_forget, learner_record_separate
from reports import vocabulary
from reports.forms import LearnerReportFilterForm
from reports.freshness import learner_freshness
from reports.learner_forms import LearnerLinkForm, LearnerLinkUndoForm, LearnerSeparateForm
from reports.models import ReportExport
from reports.selectors.learners import (
    LEARNER_DEFAULT_SORT,
    learner_get,
    learner_link_candidates,
    learner_links,
    learner_list,
    learner_record,
    learner_rows,
)
from reports.views.helpers import PAGE_SIZE, fragment, query_without_page, reader_filters, render_report, report_export

LIST_TEMPLATE = "reports/learner_list.html"
DETAIL_TEMPLATE = "reports/learner_detail.html"


@reports_required
@require_GET
def learner_list_view(request: HtmxHttpRequest) -> HttpResponse:
    form = LearnerReportFilterForm(request.GET)
    filters = form.filters(reader_filters(request))
    page = Paginator(learner_list(filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter_form": form,
        "applied": form.applied(),
        "scope": filters.scope,
        "page_obj": page,
        "rows": learner_rows(page.object_list),
        "shared_sources": vocabulary.shared_status_sources(),
        "query": query_without_page(request),
        "sort": filters.sort or LEARNER_DEFAULT_SORT,
        "sort_param": filters.sort,
        "stamps": learner_freshness(filters=filters),
    }
    if fragment(request) is not None:
        return render_report(request, LIST_TEMPLATE + "#table", context)
    return render_report(request, LIST_TEMPLATE, context)


def _person(request: HtmxHttpRequest, pk: int) -> Person:
    try:
        return learner_get(pk=pk, filters=reader_filters(request))
    except Person.DoesNotExist:
        raise Http404("No such learner in your reports.") from None


def _detail_context(request: HtmxHttpRequest, person: Person, **forms: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "person": person,
        "row": learner_record(person),
        "shared_sources": vocabulary.shared_status_sources(),
        "scope": reader_filters(request).scope,
    }
    if is_admin(request.user):
        search = request.GET.get("q", "")[:200]
        context |= {
            "search": search,
            "candidates": learner_link_candidates(person=person, search=search),
            "links": learner_links(person),
            "link_form": forms.get("link_form") or LearnerLinkForm(person=person),
            "action_error": forms.get("action_error", ""),
        }
    return context


@reports_required
@require_GET
def learner_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    context = _detail_context(request, person)
    if fragment(request) == "link-candidates" and is_admin(request.user):
        return render_report(request, DETAIL_TEMPLATE + "#candidates", context)
    return render_report(request, DETAIL_TEMPLATE, context)


def _after(record_user_id: int) -> HttpResponse:
    """The page of the person ``record_user_id``'s record belongs to after the rematch."""
    return redirect("learner-detail", PersonRecord.objects.get(user_id=record_user_id).person_id)


def _refused(request: HtmxHttpRequest, person: Person, message: str, **forms: Any) -> HttpResponse:
    context = _detail_context(request, person, action_error=message, **forms)
    response = render_report(request, DETAIL_TEMPLATE, context)
    response.status_code = 400
    return response


@admin_required
@require_POST
def learner_link(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = LearnerLinkForm(request.POST, person=person)
    if not form.is_valid():
        return _refused(request, person, form.errors["record"][0], link_form=form)
    anchor = PersonRecord.objects.filter(person=person).select_related("user__connection").order_by("user_id").first()
    if anchor is None:
        raise Http404("This person has no learner record any more.")
    try:
        learner_link_decide(actor=request.user, first=anchor.user, second=form.cleaned_data["record"], same_person=True)
    except ValueError as refused:
        return _refused(request, person, str(refused), link_form=form)
    return _after(anchor.user_id)


@admin_required
@require_POST
def learner_separate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = LearnerSeparateForm(request.POST, person=person)
    if not form.is_valid():
        return _refused(request, person, form.errors["record"][0])
    user = form.cleaned_data["record"]
    try:
        learner_record_separate(actor=request.user, user=user)
    except ValueError as refused:
        return _refused(request, person, str(refused))
    # The page of the rest of the person: what the admin was looking at.
    rest = PersonRecord.objects.filter(person=person).exclude(user=user).order_by("user_id").first()
    return _after(rest.user_id if rest else user.pk)


@admin_required
@require_POST
def learner_link_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = LearnerLinkUndoForm(request.POST, person=person)
    if not form.is_valid():
        return _refused(request, person, form.errors["link"][0])
    link = form.cleaned_data["link"]
    mine = PersonRecord.objects.filter(person=person, user_id__in=(link.first_id, link.second_id)).order_by("user_id")
    anchor = mine.values_list("user_id", flat=True).first()
    learner_link_forget(actor=request.user, link=link)
    return _after(anchor if anchor is not None else link.first_id)


@reports_required
@require_GET
def learner_export(request: HtmxHttpRequest, file_format: str) -> HttpResponse:
    return report_export(request, report=ReportExport.Report.LEARNERS, file_format=file_format)
