"""Import screens: upload, map columns, preview, launch, watch progress, results, re-run."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect, trigger_client_event

from integrations import selectors
from integrations.forms import ImportFilterForm, ImportResultsForm, ImportUploadForm, MappingForm
from integrations.imports import ImportFileError, Kind
from integrations.imports.guide import CONTENT_TYPES, column_guide, template_file, template_filename
from integrations.imports.kinds import KIND_CHOICES
from integrations.models import ImportRun, ImportState, Preparation
from integrations.services import import_evidence, import_files, import_runs
from integrations.services.import_predictions import CANNOT_PREDICT, import_run_prediction_report
from integrations.services.import_records import import_record_rows
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required
from lms_admin.uploads import oversized_fields

PREVIEW_ROWS = 20
RESULTS_PAGE_SIZE = 25
RUN_FINISHED_EVENT = "importrun-finished"
INVALID_ROWS_SHOWN = 500


@admin_required
@require_http_methods(["GET", "POST"])
def import_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ImportUploadForm(
        request.POST or None, request.FILES or None, initial=request.GET.dict(), oversized=oversized_fields(request)
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            run = import_runs.import_run_create(
                actor=request.user,
                integration=d["integration"],
                kind=d["kind"],
                uploaded=d["file"],
                v1_defaults=form.v1_defaults(),
            )
        except ImportFileError as exc:
            form.add_error("file", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        else:
            return redirect("importrun-detail", pk=run.pk)
    max_upload_mb = settings.IMPORT_MAX_UPLOAD_BYTES // 1_000_000
    guides = [(kind, label, column_guide(kind)) for kind, label in KIND_CHOICES]
    return render(
        request,
        "integrations/importrun_form.html",
        {"form": form, "max_upload_mb": max_upload_mb, "guides": guides},
    )


@admin_required
@require_GET
def import_template(request: HtmxHttpRequest, kind: str, fmt: str) -> HttpResponse:
    """A file of ``kind`` with every column and one example row that passes validation."""
    if kind not in {k.value for k in Kind} or fmt not in CONTENT_TYPES:
        raise Http404("No such template.")
    response = HttpResponse(template_file(kind, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{template_filename(kind, fmt)}"'
    return response


@admin_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        ImportRun.objects.select_related("integration"),
        pk=pk,
        state=ImportState.DRAFT,
        preparation__in=[Preparation.NEEDS_MAPPING, Preparation.READY],
    )
    headers, suggestion = import_runs.import_run_headers(run=run)
    form = MappingForm(request.POST or None, kind=run.kind, headers=headers, initial=suggestion)
    if request.method == "POST" and form.is_valid():
        import_runs.import_run_apply_mapping(run=run, mapping=form.mapping())
        return redirect("importrun-detail", pk=run.pk)
    return render(request, "integrations/importrun_mapping.html", {"run": run, "form": form})


@admin_required
@require_GET
def import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        ImportRun.objects.select_related("integration__connection", "launched_by", "retry_of"), pk=pk
    )
    if run.state == ImportState.DRAFT:
        response = _draft(request, run)
        # Never from the browser's cache: Back after Send must show the run, not a stale Send button.
        patch_cache_control(response, no_store=True)
        return response
    if request.htmx and request.htmx.target == "run-results":
        return render(request, "integrations/importrun_detail.html#results", {"run": run, **_results(request, run)})
    context = {"run": run, **selectors.import_run_progress(run=run)}
    if run.is_finished:
        context["prediction"] = import_run_prediction_report(run=run)
    if request.htmx and request.htmx.target == "run-progress":
        response = render(request, "integrations/importrun_detail.html#progress", context)
        if run.is_finished:
            response.status_code = HTMX_STOP_POLLING
            # The records list below shows the final results without a reload.
            trigger_client_event(response, RUN_FINISHED_EVENT)
        return response
    return render(request, "integrations/importrun_detail.html", {**context, **_results(request, run)})


def _results(request: HtmxHttpRequest, run: ImportRun) -> dict:
    """One page of the run's records, filtered by result and search text, names shown."""
    # Always bound, "All" by default, so the radio group has one choice ticked.
    form = ImportResultsForm({"status": "", "q": "", **request.GET.dict()})
    filters = form.cleaned_data if form.is_valid() else {}
    records = selectors.import_run_results(run=run, status=filters.get("status", ""), query=filters.get("q", ""))
    page = Paginator(records, RESULTS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "results_form": form,
        "results_page": page,
        "result_rows": import_record_rows(run=run, records=list(page.object_list)),
        "results_query": query.urlencode(),
    }


def _draft(request: HtmxHttpRequest, run: ImportRun) -> HttpResponse:
    """A draft's page is where its file is: being read (progress), waiting for a mapping,
    refused (why), or ready (the preview)."""
    if run.preparation == Preparation.READING:
        if request.htmx and request.htmx.target == "read-progress":
            return render(request, "integrations/importrun_reading.html#progress", {"run": run})
        return render(request, "integrations/importrun_reading.html", {"run": run})
    if request.htmx and request.htmx.target == "read-progress":
        # The poll of a page whose file has just been read: open what comes next.
        return HttpResponseClientRedirect(request.path)
    if run.preparation == Preparation.NEEDS_MAPPING:
        return redirect("importrun-mapping", pk=run.pk)
    if run.preparation == Preparation.REFUSED:
        return render(request, "integrations/importrun_refused.html", {"run": run})
    context = {
        "run": run,
        "preview": import_record_rows(run=run, records=selectors.import_run_preview(run=run, limit=PREVIEW_ROWS)),
        "invalid": selectors.import_run_invalid_records(run=run)[:INVALID_ROWS_SHOWN],
        "notes": selectors.import_run_notes(run=run),
        "duplicate_of": import_runs.import_run_recent_duplicate(run=run),
        "imported_recently": import_runs.import_run_recently_imported(run=run),
        "cannot_predict": sum(
            count for effect, count in run.predicted_effects.items() if effect.startswith(CANNOT_PREDICT)
        ),
        "already_imported": import_runs.import_run_already_imported(run=run),
        "integration_names": (
            selectors.integration_list()
            .filter(pk=run.integration_id)
            .values("group_name", "author_name", "author_mail")
            .first()
            if run.kind == Kind.COURSES
            else None
        ),
    }
    return render(request, "integrations/importrun_preview.html", context)


@admin_required
@require_POST
def import_launch(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    try:
        launched = import_runs.import_run_launch(
            actor=request.user,
            run=run,
            skip_already_imported=request.POST.get("skip_already_imported") == "on",
            send_again=request.POST.get("send_again") == "1",
        )
    except import_runs.AlreadyImportedRecently as exc:
        messages.warning(request, str(exc))
        return redirect("importrun-detail", pk=run.pk)
    except ValueError as exc:
        messages.error(request, str(exc))
        if str(exc) == import_runs.DRAFT_GONE:
            return redirect("importrun-list")
        return redirect("importrun-detail", pk=run.pk)
    if launched.pk != run.pk:
        messages.warning(request, f"The same file is already being imported as run #{launched.pk}; showing that run.")
    return redirect("importrun-detail", pk=launched.pk)


@admin_required
@require_POST
def import_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    summary = import_runs.import_run_cancel(run=run)
    messages.info(request, summary)
    if summary == import_runs.DRAFT_DISCARDED:
        return redirect(f"{reverse('importrun-create')}?integration={run.integration_id}&kind={run.kind}")
    return redirect("importrun-detail", pk=run.pk)


@admin_required
@require_POST
def import_retry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    retry = import_runs.import_run_retry_failed(actor=request.user, run=run)
    if retry is None:
        messages.info(request, "Nothing to re-run: no record of this run failed.")
        return redirect("importrun-detail", pk=run.pk)
    messages.success(request, f"Re-running the {retry.total_records} failed record(s) as run #{retry.pk}.")
    return redirect("importrun-detail", pk=retry.pk)


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin_required
@require_GET
def import_invalid_csv(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    return _csv_response(import_files.import_run_invalid_csv(run=run), f"import-{run.pk}-invalid-rows.csv")


@admin_required
@require_GET
def import_errors_csv(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    return _csv_response(import_files.import_run_errors_csv(run=run), f"import-{run.pk}-errors.csv")


@admin_required
@require_GET
def import_evidence_pack(request: HtmxHttpRequest, pk: int) -> FileResponse:
    run = get_object_or_404(ImportRun.objects.select_related("integration__connection", "launched_by"), pk=pk)
    return FileResponse(
        import_evidence.import_run_evidence_pack(run=run),
        as_attachment=True,
        filename=f"import-{run.pk}-evidence.zip",
        content_type="application/zip",
    )


@admin_required
@require_GET
def import_list(request: HtmxHttpRequest) -> HttpResponse:
    form = ImportFilterForm(request.GET or None)
    runs = selectors.import_run_list(**(form.cleaned_data if form.is_valid() else {}))
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    template = "integrations/importrun_list.html" + ("#table" if request.htmx else "")
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template, {"page_obj": page, "filter_form": form, "query": query.urlencode()})
