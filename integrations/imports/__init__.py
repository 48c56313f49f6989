"""The import input layer: read CSV, JSON, XLSX and v1 payload files, map columns, validate
every record against the Bulk API request schema and business rules, and split the valid ones
into bulk calls. Plain Python (no Django, no database): used by services, commands and ``bench``.

Typical use::

    from integrations.imports import MappingIncomplete, chunked, validate_file

    try:
        report = validate_file(upload, kind="stats", filename=upload.name, mapping=remembered)
    except MappingIncomplete as needed:
        ...  # show the mapping step: needed.headers, needed.suggested, needed.missing
    for chunk in chunked(report.payloads(), report.kind):
        client.bulk_stats_import(integration_id, chunk)
"""

from __future__ import annotations

from integrations.imports.chunks import chunked
from integrations.imports.error_csv import (
    ERROR_CSV_EXTRA_COLUMNS,
    error_csv_chunks,
    error_csv_rows,
    safe_cell,
    write_error_csv,
)
from integrations.imports.errors import ImportFileError, MappingIncomplete
from integrations.imports.kinds import (
    COURSES_ARCHIVE_LIMIT,
    COURSES_UPSERT_LIMIT,
    FIELDS,
    LIMITS,
    OPERATIONS,
    REQUIREMENTS,
    STATS_IMPORT_LIMIT,
    FieldSpec,
    Kind,
    Requirement,
    field_names,
)
from integrations.imports.mapping import ColumnMapping, Mapping, missing_required, suggest_mapping
from integrations.imports.readers import SourceFormat, detect_format
from integrations.imports.v1 import V1Defaults
from integrations.imports.validation import (
    FileSummary,
    InvalidRow,
    RowError,
    ValidationReport,
    ValidationStream,
    ValidRecord,
    open_validation,
    payload_sha256,
    read_header,
    validate_file,
    validate_records,
    validate_rows,
)
from integrations.imports.values import canonical_datetime

__all__ = [
    "COURSES_ARCHIVE_LIMIT",
    "COURSES_UPSERT_LIMIT",
    "ERROR_CSV_EXTRA_COLUMNS",
    "FIELDS",
    "LIMITS",
    "OPERATIONS",
    "REQUIREMENTS",
    "STATS_IMPORT_LIMIT",
    "ColumnMapping",
    "FieldSpec",
    "FileSummary",
    "ImportFileError",
    "InvalidRow",
    "Kind",
    "Mapping",
    "MappingIncomplete",
    "Requirement",
    "RowError",
    "SourceFormat",
    "V1Defaults",
    "ValidRecord",
    "ValidationReport",
    "ValidationStream",
    "canonical_datetime",
    "chunked",
    "detect_format",
    "error_csv_chunks",
    "error_csv_rows",
    "field_names",
    "missing_required",
    "read_header",
    "safe_cell",
    "suggest_mapping",
    "open_validation",
    "payload_sha256",
    "validate_file",
    "validate_records",
    "validate_rows",
    "write_error_csv",
]
