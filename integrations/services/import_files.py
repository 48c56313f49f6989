"""The CSV files of an import run: its invalid rows as uploaded, the records 360Learning refused,
and every record's result (the evidence pack's ``results.csv``).

Each is streamed (``tabular.csv_chunks``: UTF-8 with a BOM, a few hundred rows a chunk) with
formula-safe cells, so memory does not grow with the run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import closing
from types import SimpleNamespace

from integrations import imports
from integrations.imports import ColumnMapping, InvalidRow
from integrations.models import ImportChunk, ImportRun, Preparation, RecordStatus
from integrations.services.import_preparation import v1_defaults_of
from tabular import UTF8_BOM, csv_chunks, safe_cell

#: Records read from the database at a time.
BATCH = 2000


def import_run_invalid_csv(*, run: ImportRun) -> Iterator[bytes]:
    """The invalid rows with their original cells, line, field and reason (UTF-8 with BOM).

    Read again from the stored file, a row at a time, so the CSV has every original column as
    uploaded and memory does not grow with the file.
    """
    if not run.source_file or run.preparation != Preparation.READY:
        yield UTF8_BOM
        return
    mapping = ColumnMapping.from_json(run.mapping, kind=run.kind) if run.mapping else None
    with run.source_file.open("rb") as fh:
        stream = imports.open_validation(
            fh, kind=run.kind, filename=run.source_name, mapping=mapping, v1_defaults=v1_defaults_of(run)
        )
        with closing(stream):
            # error_csv_chunks reads ``columns`` and ``invalid`` of a report: here, streamed.
            invalid = SimpleNamespace(
                columns=stream.summary.columns, invalid=(item for item in stream if type(item) is InvalidRow)
            )
            yield from imports.error_csv_chunks(invalid)


ERRORS_CSV_COLUMNS = ["line", "status", "remote_message", "resource_id", "record"]


def import_run_errors_csv(*, run: ImportRun) -> Iterator[bytes]:
    """Every record 360Learning refused, with its message (UTF-8 with BOM, formula-safe)."""
    records = run.records.filter(status=RecordStatus.ERROR).order_by("source_line").iterator(chunk_size=BATCH)
    rows = (
        [
            safe_cell(c)
            for c in (record.source_line, record.status, record.message, record.resource_id, record.payload_json)
        ]
        for record in records
    )
    return csv_chunks(itertools.chain([ERRORS_CSV_COLUMNS], rows), rows_per_chunk=500)


EVIDENCE_RESULTS_COLUMNS = [
    "source_line",
    "status",
    "chunk",
    "operation_id",
    "resource_id",
    "message",
    "payload_sha256",
]


def import_run_results_csv(*, run: ImportRun, chunks: dict[int, ImportChunk]) -> Iterator[bytes]:
    """Every record of the run with its status, chunk, remote operation and message, by source
    line (UTF-8 with BOM, formula-safe); ``chunks`` are the run's chunks by primary key."""
    records = run.records.order_by("source_line", "pk").only(
        "source_line", "status", "chunk_id", "resource_id", "message", "payload_sha256"
    )

    def rows() -> Iterator[list[str]]:
        yield EVIDENCE_RESULTS_COLUMNS
        for r in records.iterator(chunk_size=BATCH):
            chunk = chunks.get(r.chunk_id) if r.chunk_id is not None else None
            yield [
                safe_cell(c)
                for c in (
                    r.source_line,
                    r.status,
                    chunk.index + 1 if chunk else "",
                    chunk.operation_id if chunk else "",
                    r.resource_id,
                    r.message,
                    r.payload_sha256,
                )
            ]

    return csv_chunks(rows(), rows_per_chunk=1000)
