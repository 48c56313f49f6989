"""django-q2 task wrappers: take ids, call one service; and how the apps enqueue their tasks."""

from __future__ import annotations

import os
import socket
import uuid

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from lms_admin import services


def worker_identity() -> str:
    """Who holds a lease (an import step, a sync run, a background export): host, process and a
    random tag, so two tasks of one process are told apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def enqueue(task: str, object_id: int, *, name: str) -> None:
    """Queue ``task(object_id)`` now, with the cluster's task timeout."""
    async_task(task, object_id, task_name=name, timeout=settings.Q_CLUSTER["timeout"])


def enqueue_on_commit(task: str, object_id: int, *, name: str) -> None:
    """Queue ``task(object_id)`` once the current transaction commits: the worker must see the
    row the task names."""
    transaction.on_commit(lambda: enqueue(task, object_id, name=name))


def worker_ping_answer(ping_id: int) -> None:
    services.worker_ping_answer(ping_id=ping_id)
