"""E-mail digests (``reports.digests``): a reader's subscriptions, following sessions and courses,
and the unsubscribe link of the mails, which needs no login. Managers and admins; everyone
sees and changes only their own subscriptions."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import public, reports_required
from reports.digest_forms import DigestForm
from reports.digests import schedule, subscriptions
from reports.models import DigestSubscription
from reports.selectors.courses import course_choices
from reports.selectors.path_sessions import path_session_list
from reports.views.helpers import reader_filters

FORM_TEMPLATE = "reports/digest_form.html"
DIGEST_CREATED = "Digest created: {schedule}, when something changed. The first one lists what changes from now on."
DIGEST_SAVED = "Digest saved: {schedule}."
DIGEST_DELETED = "Digest deleted: no more mail from it."


def _form(request: HtmxHttpRequest, **kwargs) -> DigestForm:
    sessions = (
        path_session_list(filters=reader_filters(request).but(sort="-start"))
        .select_related("connection")
        .order_by("-start_date", "name")
    )
    courses = course_choices().select_related("connection")
    return DigestForm(request.POST or None, user=request.user, sessions=sessions, courses=courses, **kwargs)


def _own(request: HtmxHttpRequest, pk: int) -> DigestSubscription:
    return get_object_or_404(DigestSubscription, pk=pk, user=request.user)


@reports_required
@require_GET
def digest_list(request: HtmxHttpRequest) -> HttpResponse:
    rows = [
        {"subscription": s, "schedule": schedule.describe_schedule(s)}
        for s in subscriptions.digest_list(user=request.user)
    ]
    return render(request, "reports/digest_list.html", {"rows": rows})


@reports_required
@require_http_methods(["GET", "POST"])
def digest_create(request: HtmxHttpRequest) -> HttpResponse:
    initial = {}
    if request.method == "GET" and request.GET.get("session", "").isdigit():
        initial["sessions"] = [int(request.GET["session"])]
    if request.method == "GET" and request.GET.get("course", "").isdigit():
        initial["courses"] = [int(request.GET["course"])]
    form = _form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        subscription = subscriptions.digest_create(user=request.user, data=form.digest_data())
        messages.success(request, DIGEST_CREATED.format(schedule=schedule.describe_schedule(subscription)))
        return redirect("digest-list")
    return render(request, FORM_TEMPLATE, {"form": form})


@reports_required
@require_http_methods(["GET", "POST"])
def digest_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    subscription = _own(request, pk)
    if not subscription.active:
        raise Http404("This digest was unsubscribed: follow the sessions again with a new digest.")
    form = _form(request, initial=DigestForm.initial_from(subscription))
    if request.method == "POST" and form.is_valid():
        subscriptions.digest_update(subscription=subscription, data=form.digest_data())
        messages.success(request, DIGEST_SAVED.format(schedule=schedule.describe_schedule(subscription)))
        return redirect("digest-list")
    return render(request, FORM_TEMPLATE, {"form": form, "subscription": subscription})


@reports_required
@require_http_methods(["GET", "POST"])
def digest_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    subscription = _own(request, pk)
    if request.method == "POST":
        subscriptions.digest_delete(subscription=subscription)
        messages.success(request, DIGEST_DELETED)
        return redirect("digest-list")
    return render(
        request,
        "reports/digest_confirm_delete.html",
        {"subscription": subscription, "schedule": schedule.describe_schedule(subscription)},
    )


@public
@csrf_exempt  # the signed token is the credential; mail clients POST here for one-click unsubscribe
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """GET shows what the link stops, with one button (link scanners in mail gateways follow GETs
    and must not unsubscribe anyone); POST, from that button or a mail client's one-click
    ``List-Unsubscribe-Post``, stops it."""
    subscription = subscriptions.subscription_from_token(token)
    if subscription is None:
        return render(request, "reports/digest_unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        subscriptions.digest_unsubscribe(subscription=subscription, now=timezone.now())
        done = True
    context = {
        "subscription": subscription,
        "schedule": schedule.describe_schedule(subscription),
        "done": done or not subscription.active,
        "token": token,
    }
    return render(request, "reports/digest_unsubscribe.html", context)
