"""The guided move: choose → proposed courses → preview → send → progress → results."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRefresh

from integrations.services.import_predictions import CANNOT_PREDICT
from lms_admin.http import HtmxHttpRequest
from lms_admin.roles import admin_required
from moves import selectors, services
from moves.forms import CoursesForm, MoveForm
from moves.models import HistoryMove, MoveState

LEFT_OUT_SHOWN = 500
INVALID_SHOWN = 200


@admin_required
@require_http_methods(["GET", "POST"])
def move_create(request: HtmxHttpRequest) -> HttpResponse:
    form = MoveForm(request.POST or None, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            move = services.move_propose(
                actor=request.user,
                source=d["source"],
                integration=d["integration"],
                default_lang=d["default_lang"],
                launch_url=d["launch_url"],
            )
        except services.MoveError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("move-detail", pk=move.pk)
    return render(request, "moves/move_form.html", {"form": form, "moves": selectors.recent_moves()})


def _move(pk: int) -> HistoryMove:
    return get_object_or_404(
        HistoryMove.objects.select_related("source", "integration__connection", "courses_run", "stats_run"), pk=pk
    )


@admin_required
@require_http_methods(["GET", "POST"])
def move_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The proposed courses (POST: apply them and preview), the preview, or the progress and results."""
    move = _move(pk)
    if move.state == MoveState.PREVIEWING:
        if request.htmx and request.htmx.target == "move-previewing":
            return render(request, "moves/move_detail.html#previewing", {"move": move})
        return _no_store(render(request, "moves/move_detail.html", {"move": move}))
    if move.state in (MoveState.PROPOSED, MoveState.PREVIEWED):
        if request.htmx and request.htmx.target == "move-previewing":
            return HttpResponseClientRefresh()  # the preview is ready (or failed): show it
        form = CoursesForm(request.POST or None, move=move)
        if request.method == "POST" and form.is_valid():
            try:
                services.move_courses_update(move=move, choices=form.choices())
                services.move_preview_request(actor=request.user, move=_move(pk))
            except services.MoveError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("move-detail", pk=pk)
        return render(request, "moves/move_detail.html", {"move": move, "form": form, **_preview(move)})
    context = {"move": move, **_progress(move)}
    if request.htmx and request.htmx.target == "move-progress":
        response = render(request, "moves/move_detail.html#progress", context)
        if move.state == MoveState.DONE:
            response.status_code = HTMX_STOP_POLLING
        return response
    return _no_store(render(request, "moves/move_detail.html", context))


def _no_store(response: HttpResponse) -> HttpResponse:
    # Never from the browser's cache: Back after Preview or Send must show where the move is now.
    patch_cache_control(response, no_store=True)
    return response


def _preview(move: HistoryMove) -> dict:
    if move.state != MoveState.PREVIEWED:
        return {}
    effects: dict[str, int] = {}
    for run in move.runs:
        for effect, count in run.predicted_effects.items():
            effects[effect] = effects.get(effect, 0) + count
    return {
        "effects": effects,
        "cannot_predict": sum(n for effect, n in effects.items() if effect.startswith(CANNOT_PREDICT)),
        "already": services.move_already_imported(move=move),
        "left_out": move.left_out.all()[:LEFT_OUT_SHOWN],
        "invalid": [(run, selectors.invalid_records(run=run)[:INVALID_SHOWN]) for run in move.runs],
    }


def _progress(move: HistoryMove) -> dict:
    runs = move.runs
    to_send = sum(run.records_to_send for run in runs)
    done = sum(run.done_records for run in runs if run.launched_at)
    return {
        "to_send": to_send,
        "done": done,
        "percent": int(100 * done / to_send) if to_send else 100,
        "succeeded": sum(run.succeeded_records for run in runs),
        "failed": sum(run.failed_records for run in runs),
        "skipped": sum(run.skipped_records for run in runs),
    }


@admin_required
@require_POST
def move_launch(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Send the previewed move; a second click (or a second tab) lands on the same progress page."""
    move = _move(pk)
    try:
        services.move_launch(actor=request.user, move=move)
    except services.MoveError as exc:
        messages.error(request, str(exc))
    return redirect("move-detail", pk=pk)
