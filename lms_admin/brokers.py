"""django-q2 brokers that can hold a task back until a given time: ``async_task_at``.

Why this and not something django-q2 already has (version 1.11):

- ``async_task`` has no countdown, and a task that waits by sleeping holds a worker: with the
  default two workers, two waiting tasks stop every sync, digest and alert.
- A ``Schedule`` of type ONCE with ``next_run`` is only looked at by the cluster's scheduler,
  which the sentinel calls every 30 s (hard-coded: ``counter >= 30`` in ``Cluster.guard``, the
  ``guard_cycle`` setting only changes how often the counter is bumped), and each one writes a
  Schedule row and a Task row. A bulk operation is polled every second or few: a 30 s grain
  would make every import many times longer.

Here the task waits *in the broker*, costs nothing until it is due, and is handed out by the
cluster's own pusher as soon as it is: within the ORM broker's ``poll`` (0.5 s in our
settings), and with Redis at once (the blocking pop waits no longer than the next due task).
It is stored where the queue is (a row of the ORM queue; a sorted set next to the Redis list),
so a worker that crashes loses nothing that was waiting; work that must survive a lost task
anyway keeps its own state and a periodic check (import runs: lease + ``resume_import_runs``).

The settings make these the configured brokers (``Q_CLUSTER["broker_class"]``); everything
else is django-q2's ORM and Redis brokers unchanged.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django_q.brokers import Broker, get_broker, orm, redis_broker
from django_q.conf import Conf
from django_q.signing import SignedPackage
from django_q.tasks import async_task


class ORM(orm.ORM):
    """The ORM broker hands out rows whose ``lock`` is in the past (a row being worked on has
    its lock moved to now + ``retry``): a row locked until ``due`` waits until then."""

    def enqueue_at(self, task: str, due: datetime) -> int:
        package = self.get_connection().create(key=self.list_key or Conf.CLUSTER_NAME, payload=task, lock=due)
        return package.pk

    def delayed(self) -> list[tuple[datetime, dict[str, Any]]]:
        """Tasks not yet due, soonest first, as (due, task); here also the tasks a worker has
        taken and not yet acknowledged (their lock was moved on by ``retry``)."""
        rows = self.get_connection().filter(key=self.list_key, lock__gt=timezone.now()).order_by("lock")
        return [(row.lock, SignedPackage.loads(row.payload)) for row in rows]


# Moves the due tasks (at most 100 a call) from the sorted set to the list, in one atomic step so
# two clusters never move one twice; answers the score of the next task still waiting.
_RELEASE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, task in ipairs(due) do
  redis.call('ZREM', KEYS[1], task)
  redis.call('RPUSH', KEYS[2], task)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if nxt[2] then return nxt[2] end
return false
"""
# The longest the pusher blocks on an empty list: django-q2's own Redis broker waits 1 s.
_MAX_BLOCK_SECONDS = 1.0


class Redis(redis_broker.Redis):
    """Tasks not yet due wait in a sorted set scored by their due time (Unix seconds) beside the
    queue's list; the pusher moves those that are due onto the list before each blocking pop.
    Needs Redis ≥ 6 (a blocking pop with a fractional timeout)."""

    @property
    def delayed_key(self) -> str:
        # A property, not an attribute: brokers are pickled into the pusher process with only
        # their list key (Broker.__getstate__).
        return f"{self.list_key}:delayed"

    def enqueue_at(self, task: str, due: datetime) -> int:
        return self.connection.zadd(self.delayed_key, {task: due.timestamp()})

    def dequeue(self):
        next_due = self.connection.eval(_RELEASE_DUE, 2, self.delayed_key, self.list_key, time.time())
        block = _MAX_BLOCK_SECONDS
        if next_due is not None:
            block = min(block, max(0.05, float(next_due) - time.time()))
        task = self.connection.blpop(self.list_key, block)
        if task:
            return [(None, task[1])]
        return None

    def delayed(self) -> list[tuple[datetime, dict[str, Any]]]:
        """Tasks not yet due, soonest first, as (due, task)."""
        return [
            (datetime.fromtimestamp(score, tz=UTC), SignedPackage.loads(task))
            for task, score in self.connection.zrange(self.delayed_key, 0, -1, withscores=True)
        ]

    def purge_queue(self):
        self.connection.delete(self.delayed_key)
        return super().purge_queue()

    def delete_queue(self):
        self.connection.delete(self.delayed_key)
        return super().delete_queue()


class _At:
    """What ``async_task`` needs of a broker (``enqueue`` and ``list_key``), enqueueing for later."""

    def __init__(self, broker: Broker, due: datetime) -> None:
        self.broker, self.due, self.list_key = broker, due, broker.list_key

    def enqueue(self, task: str) -> int:
        return self.broker.enqueue_at(task, self.due)


def async_task_at(due: datetime, func: str, *args: Any, **options: Any) -> str:
    """``async_task(func, *args, **options)``, handed to a worker no earlier than ``due``.

    Returns the task id. Raises ImproperlyConfigured when the configured broker cannot hold a
    task back (``Q_CLUSTER["broker_class"]`` is not one of this module's brokers).
    """
    broker = get_broker(options.get("cluster"))
    if not hasattr(broker, "enqueue_at"):
        raise ImproperlyConfigured(
            f"{type(broker).__name__} cannot delay a task: set Q_CLUSTER['broker_class'] to lms_admin.brokers.ORM or .Redis"
        )
    return async_task(func, *args, broker=_At(broker, due), **options)
