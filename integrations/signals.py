"""Signals other apps listen to, so integrations never imports them."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent once the transaction that ended an import run has committed (``run_id``): whatever was
#: waiting for it (a run that follows it) may go on. Listeners must be idempotent: a periodic
#: schedule is their safety net, not this signal.
import_run_finished = Signal()


def send_import_run_finished(run_id: int) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: import_run_finished.send(sender=None, run_id=run_id))
