"""Split valid records into bulk calls within the vendor's ``maxItems``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from integrations.imports.kinds import LIMITS, Kind, as_kind

T = TypeVar("T")


def chunked(records: Iterable[T], kind: Kind | str, *, size: int | None = None) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` records (default: the kind's limit, 10,000 for
    courses and stats, 1,000 for archives), in input order; no empty chunk.

    Works on any records (payloads, ``ValidRecord``s) and consumes ``records`` lazily. Raises
    ``ValueError`` when ``size`` is not between 1 and the kind's limit.
    """
    limit = LIMITS[as_kind(kind)]
    size = limit if size is None else size
    if not 1 <= size <= limit:
        raise ValueError(f"chunk size must be between 1 and {limit} for {as_kind(kind).value} (got {size})")
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk
