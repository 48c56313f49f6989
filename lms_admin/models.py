from __future__ import annotations

from django.conf import settings
from django.db import models


class WorkerPing(models.Model):
    """One round trip through the task broker: enqueued by a view, answered by a worker.

    Lets an operator see from the browser that the queue and at least one worker are alive.
    """

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    broker = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Worker ping #{self.pk}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
