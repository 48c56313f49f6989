"""Fetch the next page while the current one is written.

A sync spends its time in two places: waiting for the LMS to answer a page, and writing the
page it has. Doing both at once hides most of the writing behind the waiting. One helper
thread pulls records from the client's listing (HTTP, parsing; no cache writes) and hands
over whole pages through a one-slot queue, so memory holds at most the page being written,
the page waiting, and the page being fetched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from queue import Empty, Queue
from typing import TypeVar

from django.db import connections

T = TypeVar("T")

#: How long a caller that stops early waits for the helper to notice (an HTTP call in flight).
JOIN_TIMEOUT = 60.0


@dataclass
class _Failed:
    error: BaseException


_DONE = object()


def pages_ahead(records: Iterable[T], page_size: int) -> Iterator[list[T]]:
    """Yield ``records`` in lists of ``page_size``, fetching one page ahead in a helper thread.

    Errors of the listing (``LmsError`` …) are raised here, in the caller's thread, at the page
    they interrupted. Stopping early (an exception while writing, a lost lease) stops the helper
    after its current page.
    """
    queue: Queue = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            iterator = iter(records)
            while not stop.is_set() and (page := list(islice(iterator, page_size))):
                queue.put(page)
            queue.put(_DONE)
        except BaseException as error:  # handed to the caller, who decides
            queue.put(_Failed(error))
        finally:
            # The token store may have opened a database connection in this thread.
            connections.close_all()

    helper = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    helper.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        # Free the slot so a helper blocked on put() can see the stop and end.
        try:
            while True:
                queue.get_nowait()
        except Empty:
            pass
        helper.join(JOIN_TIMEOUT)
