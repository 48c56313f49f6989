"""The import input layer: read CSV, JSON, XLSX and v1 payload files, map columns, validate
every record against the Bulk API request schema and business rules, and write the error CSV of
the invalid ones. Plain Python (no Django, no database): used by services, commands and ``bench``.
The valid records go out in chunks of at most ``LIMITS[kind]`` records
(``integrations.services.import_runs``).

Typical use::

    from integrations.imports import MappingIncomplete, validate_file

    try:
        report = validate_file(upload, kind="stats", filename=upload.name, mapping=remembered)
    except MappingIncomplete as needed:
        ...  # show the mapping step: needed.headers, needed.suggested, needed.missing
    payloads = list(report.payloads())  # what the Bulk API is sent, at most LIMITS[kind] a call
"""

from __future__ import annotations

from integrations.imports.error_csv import (
    ERROR_CSV_EXTRA_COLUMNS,
    error_csv_chunks,
    error_csv_rows,
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
    "detect_format",
    "error_csv_chunks",
    "error_csv_rows",
    "field_names",
    "missing_required",
    "read_header",
    "suggest_mapping",
    "open_validation",
    "payload_sha256",
    "validate_file",
    "validate_records",
    "validate_rows",
]
