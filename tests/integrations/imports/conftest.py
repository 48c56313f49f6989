"""Helpers for the input-layer tests: files written in the tests' temp dirs, and the vendor's
request schema (through ``sandbox.spec``) as the judge of what would be sent.

The actors are the files themselves: a "good stats row" is what a careful admin exports from
their LMS; the faulty rows are what real exports get wrong.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from integrations.imports import OPERATIONS, Kind
from sandbox import spec

STATS_HEADERS = (
    "courseExternalId",
    "courseId",
    "userMail",
    "userId",
    "progress",
    "timeSpent",
    "firstActivityAt",
    "lastActivityAt",
    "score",
    "result",
    "lang",
    "forceNew",
)
OID = "507f1f77bcf86cd799439011"


def good_stats_row(n: int) -> dict[str, str]:
    """A valid stats row, unique per ``n`` (course, learner and dates all vary)."""
    return {
        "courseExternalId": f"course-{n % 97}",
        "courseId": "",
        "userMail": f"learner{n}@example.com",
        "userId": "",
        "progress": str(n % 101),
        "timeSpent": str(1000 + n),
        "firstActivityAt": f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T08:00:00Z",
        "lastActivityAt": f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T09:30:00+01:00",
        "score": str(n % 100),
        "result": "success" if n % 2 else "failed",
        "lang": "en",
        "forceNew": "false",
    }


def csv_bytes(
    headers: tuple[str, ...] | list[str],
    rows: list[dict[str, Any]] | list[list[Any]],
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers] if isinstance(row, dict) else row)
    data = buffer.getvalue().encode("utf-8")
    return b"\xef\xbb\xbf" + data if bom else data


def request_errors(kind: Kind | str, payloads: list[dict[str, Any]]) -> list[str]:
    """What the vendor schema says about a request body carrying ``payloads``."""
    method, path = OPERATIONS[Kind(kind)]
    return spec.request_errors(method, path, {"input": payloads})


@pytest.fixture
def write(tmp_path: Path):
    """write(name, bytes) -> path of a file in the test's temp dir."""

    def _write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write
