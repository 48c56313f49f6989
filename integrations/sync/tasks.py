"""django-q2 task wrappers for syncs: ids in, one service call, explicit timeouts.

Runs are not retried by the broker: a run whose worker died is marked failed by the
``recover-sync-runs`` schedule (every minute) and the next run starts over; a task delivered
twice finds its run already claimed and returns at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_chain, async_task

from integrations.models import Connection
from integrations.sync import services

logger = logging.getLogger("integrations.sync")

EXECUTE = "integrations.sync.tasks.sync_run_execute"
#: A run may take as long as the cluster lets a task run (``retry`` is longer, per settings).
TIMEOUT = settings.Q_CLUSTER["timeout"]


def sync_run_execute(run_id: int) -> str:
    return services.sync_run_execute(run_id=run_id).state


def _options(run_id: int) -> dict:
    return {"q_options": {"timeout": TIMEOUT, "task_name": f"sync-run-{run_id}"}}


def sync_runs_enqueue(run_ids: Sequence[int]) -> None:
    """Enqueue runs once the launching transaction commits (the worker must see them).

    Several runs go as one django-q chain, so they execute one after the other in the given
    order (users before the statistics that name them), each as its own task.
    """
    run_ids = list(run_ids)
    if not run_ids:
        return
    if len(run_ids) == 1:
        transaction.on_commit(lambda: async_task(EXECUTE, run_ids[0], **_options(run_ids[0])))
    else:
        transaction.on_commit(lambda: async_chain([(EXECUTE, (run_id,), _options(run_id)) for run_id in run_ids]))


def sync_scheduled(connection_id: int, kind: str, full_refresh: bool = False) -> int | None:
    """What a ``sync:<connection id>:<kind>`` schedule runs: launch a run (or join the active one)."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        services.sync_schedules_remove(connection_id=connection_id)
        return None
    runs = services.sync_run_launch(connection=connection, kinds=[kind], full_refresh=full_refresh)
    return runs[0].pk


def sync_runs_recover() -> dict:
    """Scheduled every minute (``recover-sync-runs``): see ``services.sync_runs_recover``."""
    recovery = services.sync_runs_recover()
    for run_id in recovery.to_enqueue:
        async_task(EXECUTE, run_id, **_options(run_id))
    return {"failed": recovery.failed, "enqueued": recovery.to_enqueue, "swept": recovery.stage_rows_swept}
