"""django-q2 task wrappers: they take ids, call one service, and own their retry policy.

Import runs need no broker retry: a run whose worker died is found by the
``resume_import_runs`` schedule once its lease lapses (see import_execution).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from integrations.services import import_execution, import_preparation
from lms_admin.brokers import async_task_at
from lms_admin.tasks import enqueue, enqueue_on_commit


def import_run_execute(run_id: int, owner: str | None = None, step: int | None = None) -> bool:
    """One step of the run (send a chunk, poll an operation, fetch results); the next step is
    queued for when it is due, and the worker is free meanwhile. Returns True when finished.

    Held back in the broker (lms_admin.brokers explains why not a sleep or a Schedule): if that
    task is lost, the run's lease lapses a little after the step was due and the minute
    schedule (``resume_import_runs``) starts the run again.
    """
    outcome = import_execution.import_run_step(run_id=run_id, owner=owner, step=step)
    if outcome.due_at is not None:
        due_at, owner, step = outcome.due_at, outcome.owner, outcome.step
        transaction.on_commit(
            lambda: async_task_at(
                due_at,
                "integrations.tasks.import_run_execute",
                run_id,
                owner,
                step,
                task_name=f"import-run-{run_id}-step-{step + 1}",
                timeout=settings.Q_CLUSTER["timeout"],
                # Hundreds of steps per run: keep the task history for failures and other tasks.
                save=False,
            )
        )
    return outcome.finished


def import_run_enqueue(run_id: int) -> None:
    """Execute the run in the worker once the launching transaction has committed."""
    enqueue_on_commit("integrations.tasks.import_run_execute", run_id, name=f"import-run-{run_id}")


def import_run_read(run_id: int) -> bool:
    return import_preparation.import_run_read(run_id=run_id)


def import_run_read_enqueue(run_id: int) -> None:
    """Read a draft's file in the worker once the upload's transaction has committed."""
    enqueue_on_commit("integrations.tasks.import_run_read", run_id, name=f"import-read-{run_id}")


def resume_import_runs() -> int:
    """Scheduled every minute: restart runs (and drafts being read) whose worker is gone,
    and forget refused drafts whose reason has been shown long enough."""
    for run_id in import_preparation.import_drafts_due():
        enqueue("integrations.tasks.import_run_read", run_id, name=f"import-read-{run_id}-resume")
    import_preparation.import_drafts_purge()
    due = import_execution.import_runs_due()
    for run_id in due:
        enqueue("integrations.tasks.import_run_execute", run_id, name=f"import-run-{run_id}-resume")
    return len(due)


def alerts_evaluate() -> int:
    """Scheduled every minute."""
    from integrations.services.alerts import alerts_evaluate as evaluate

    return len(evaluate())
