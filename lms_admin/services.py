"""Project-wide services: the worker round trip."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from lms_admin.models import WorkerPing


def broker_name() -> str:
    return "redis" if settings.REDIS_URL else "orm"


def worker_ping_request(*, user) -> WorkerPing:
    """Record a ping and enqueue its answer once the row is committed."""
    ping = WorkerPing.objects.create(requested_by=user, broker=broker_name())
    transaction.on_commit(lambda: async_task("lms_admin.tasks.worker_ping_answer", ping.pk, timeout=30))
    return ping


def worker_ping_answer(*, ping_id: int) -> None:
    WorkerPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), worker_pid=os.getpid()
    )
