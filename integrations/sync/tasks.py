"""django-q2 task wrappers for syncs: ids in, one service call, explicit timeouts.

Runs are not retried by the broker: a run whose worker died is marked failed by the
``recover-sync-runs`` schedule (every minute) and the next run starts over; a task delivered
twice finds its run already claimed and returns at once.
"""

from __future__ import annotations

from integrations.models import Connection
from integrations.sync import services
from integrations.sync.queue import sync_run_enqueue_now


def sync_run_execute(run_id: int) -> str:
    """``queue.EXECUTE``: run one sync (the task a launch or the recovery enqueued)."""
    return services.sync_run_execute(run_id=run_id).state


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
        sync_run_enqueue_now(run_id)
    return {"failed": recovery.failed, "enqueued": recovery.to_enqueue, "swept": recovery.stage_rows_swept}
