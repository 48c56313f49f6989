"""A task held back with ``async_task_at`` waits in the configured broker (the ORM broker by
default; Redis when REDIS_URL is set, as in the CI's second run) and is handed out once due."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django_q.conf import Conf
from django_q.signing import SignedPackage

from lms_admin.brokers import async_task_at

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_held_back_is_handed_out_only_once_it_is_due(task_queue):
    due = timezone.now() + timedelta(seconds=1)
    async_task_at(due, "math.floor", 1.5, task_name="floor-later")

    [(held_until, held)] = task_queue.delayed()
    assert abs(held_until - due) < timedelta(milliseconds=1)
    assert (held["name"], held["func"], held["args"]) == ("floor-later", "math.floor", (1.5,))
    assert task_queue.queue_size() == 0
    assert not task_queue.dequeue()  # what the cluster's pusher sees before it is due

    while timezone.now() < due:
        time.sleep(0.05)
    [(ack_id, package)] = task_queue.dequeue()
    task_queue.acknowledge(ack_id)
    assert SignedPackage.loads(package)["id"] == held["id"]
    assert task_queue.delayed() == []
    assert not task_queue.dequeue()  # handed out once


def test_a_broker_that_cannot_hold_a_task_back_is_refused(task_queue, monkeypatch):
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)  # django-q2's own broker
    with pytest.raises(ImproperlyConfigured):
        async_task_at(timezone.now() + timedelta(seconds=1), "math.floor", 1.5)
    assert task_queue.queue_size() == 0
