"""django-q2 task wrappers for moves: they take ids and call one service."""

from __future__ import annotations

from django.db.models import Q

from lms_admin.tasks import enqueue
from moves import services
from moves.models import HistoryMove


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
