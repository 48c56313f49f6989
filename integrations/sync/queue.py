"""Putting sync runs on the django-q2 queue.

Tasks are named by dotted path, so this module imports neither the task wrappers
(``integrations.sync.tasks``) nor the services they call: services enqueue through it,
and the tasks import the services, without a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_chain, async_task

EXECUTE = "integrations.sync.tasks.sync_run_execute"
#: A run may take as long as the cluster lets a task run (``retry`` is longer, per settings).
TIMEOUT = settings.Q_CLUSTER["timeout"]


def _options(run_id: int) -> dict:
    return {"q_options": {"timeout": TIMEOUT, "task_name": f"sync-run-{run_id}"}}


def sync_run_enqueue_now(run_id: int) -> None:
    """Enqueue one run at once (the caller's transaction, if any, has committed it)."""
    async_task(EXECUTE, run_id, **_options(run_id))


def sync_runs_enqueue(run_ids: Sequence[int]) -> None:
    """Enqueue runs once the launching transaction commits (the worker must see them).

    Several runs go as one django-q chain, so they execute one after the other in the given
    order (users before the statistics that name them), each as its own task.
    """
    run_ids = list(run_ids)
    if not run_ids:
        return
    if len(run_ids) == 1:
        transaction.on_commit(lambda: sync_run_enqueue_now(run_ids[0]))
    else:
        transaction.on_commit(lambda: async_chain([(EXECUTE, (run_id,), _options(run_id)) for run_id in run_ids]))
