"""django-q2 task wrappers for moves: they take ids and call one service."""

from __future__ import annotations

from django.db.models import Q

from integrations.imports import ImportFileError
from lms_admin.tasks import enqueue
from moves import services
from moves.models import HistoryMove, MoveState


def move_preview(move_id: int) -> str:
    """Prepare the move's preview; a move that cannot be previewed goes back to its courses,
    saying why (an unexpected error too, before it reaches the task log)."""
    move = HistoryMove.objects.select_related("preview_requested_by").get(pk=move_id)
    if move.state != MoveState.PREVIEWING:  # delivered twice, or asked again meanwhile
        return move.state
    try:
        services.move_preview(actor=move.preview_requested_by, move=move)
    except (services.MoveError, ImportFileError) as exc:
        services.move_preview_failed(move=move, error=str(exc))
    except Exception as exc:
        services.move_preview_failed(move=move, error=f"an unexpected error ({exc.__class__.__name__})")
        raise
    return move.state


def move_advance(move_id: int) -> str:
    """Take the move's next step if one is due (idempotent: see ``services.move_advance``)."""
    return services.move_advance(move_id=move_id).state


def move_advance_enqueue_for_run(run_id: int) -> None:
    """An import ended: advance the move it belongs to, if any, in the worker."""
    moves = HistoryMove.objects.filter(Q(courses_run_id=run_id) | Q(stats_run_id=run_id)).filter(
        state__in=services.SENDING
    )
    for move_id in moves.values_list("pk", flat=True):
        enqueue("moves.tasks.move_advance", move_id, name=f"move-{move_id}-advance-after-run-{run_id}")


def advance_history_moves() -> int:
    """Scheduled every minute: advance every move still sending, should a signal have been lost
    with the process that ended its import."""
    due = services.moves_to_advance()
    for move_id in due:
        services.move_advance(move_id=move_id)
    return len(due)
