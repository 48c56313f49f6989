"""django-q2 task wrappers: they take ids, call one service, and own their retry policy.

Import runs need no broker retry: a run whose worker died is found by the
``resume_import_runs`` schedule once its lease lapses (see import_execution).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from integrations.services import import_execution, import_preparation


def import_run_execute(run_id: int) -> bool:
    return import_execution.import_run_execute(run_id=run_id, max_seconds=settings.Q_CLUSTER["timeout"] - 60)


def import_run_enqueue(run_id: int) -> None:
    """Execute the run in the worker once the launching transaction has committed."""
    _enqueue_on_commit("integrations.tasks.import_run_execute", run_id, name=f"import-run-{run_id}")


def import_run_read(run_id: int) -> bool:
    return import_preparation.import_run_read(run_id=run_id)


def import_run_read_enqueue(run_id: int) -> None:
    """Read a draft's file in the worker once the upload's transaction has committed."""
    _enqueue_on_commit("integrations.tasks.import_run_read", run_id, name=f"import-read-{run_id}")


def _enqueue_on_commit(task: str, run_id: int, *, name: str) -> None:
    # After the commit: the worker must see the row the task names.
    transaction.on_commit(lambda: async_task(task, run_id, task_name=name, timeout=settings.Q_CLUSTER["timeout"]))


def resume_import_runs() -> int:
    """Scheduled every minute: restart runs (and drafts being read) whose worker is gone,
    and forget refused drafts whose reason has been shown long enough."""
    for run_id in import_preparation.import_drafts_due():
        async_task(
            "integrations.tasks.import_run_read",
            run_id,
            task_name=f"import-read-{run_id}-resume",
            timeout=settings.Q_CLUSTER["timeout"],
        )
    import_preparation.import_drafts_purge()
    due = import_execution.import_runs_due()
    for run_id in due:
        async_task(
            "integrations.tasks.import_run_execute",
            run_id,
            task_name=f"import-run-{run_id}-resume",
            timeout=settings.Q_CLUSTER["timeout"],
        )
    return len(due)


def alerts_evaluate() -> int:
    """Scheduled every minute."""
    from integrations.services.alerts import alerts_evaluate as evaluate

    return len(evaluate())
