"""Splitting valid records into bulk calls within each kind's documented limit."""

from __future__ import annotations

import pytest

from integrations.imports import COURSES_ARCHIVE_LIMIT, STATS_IMPORT_LIMIT, chunked, validate_file

from .conftest import STATS_HEADERS, csv_bytes, good_stats_row, request_errors


def test_a_25000_row_stats_file_splits_into_chunks_of_at_most_10000(write):
    path = write("big.csv", csv_bytes(STATS_HEADERS, [good_stats_row(n) for n in range(25_000)]))
    report = validate_file(path, kind="stats")
    assert report.valid_count == 25_000

    chunks = list(chunked(report.payloads(), report.kind))

    assert [len(c) for c in chunks] == [10_000, 10_000, 5_000]
    assert max(len(c) for c in chunks) <= STATS_IMPORT_LIMIT
    assert [p for c in chunks for p in c] == list(report.payloads())  # order kept, nothing lost
    assert request_errors("stats", chunks[2]) == []


def test_archives_split_by_1000_and_records_of_any_type_can_be_chunked():
    records = [{"externalId": str(n)} for n in range(2_500)]
    assert [len(c) for c in chunked(records, "archive-courses")] == [1_000, 1_000, 500]
    assert COURSES_ARCHIVE_LIMIT == 1_000
    assert list(chunked([], "stats")) == []


def test_a_chunk_size_over_the_limit_is_refused():
    assert [len(c) for c in chunked(range(5), "stats", size=2)] == [2, 2, 1]
    with pytest.raises(ValueError, match="between 1 and 1000"):
        next(chunked(range(5), "archive-courses", size=1_001))
