"""Column guide and downloadable templates of each import kind.

Both are read from ``kinds.FIELDS`` and ``kinds.REQUIREMENTS`` (the definitions the mapping and
the validator use), so the guide, the template and the validator cannot disagree: a template's
header is every flat field name of its kind, and its one example row is each field's
``example``. Where a requirement is met by one of two columns (``courseExternalId`` or
``courseId``), the example fills the first and leaves the other empty.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from integrations.imports.kinds import FIELDS, REQUIREMENTS, Kind, as_kind
from tabular import csv_chunks

TEMPLATE_FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_CONTENT_TYPE}


@dataclass(frozen=True, slots=True)
class GuideColumn:
    """One row of the column guide."""

    name: str
    label: str
    required: str  # "Required", "Required: this or courseId", or "Optional"
    format: str
    example: str
    effect: str

    @property
    def is_required(self) -> bool:
        return self.required != "Optional"


def _requirement_text(kind: Kind, name: str) -> str:
    for requirement in REQUIREMENTS[kind]:
        if name in requirement.fields:
            others = [f for f in requirement.fields if f != name]
            return f"Required: this or {' or '.join(others)}" if others else "Required"
    return "Optional"


def column_guide(kind: Kind | str) -> tuple[GuideColumn, ...]:
    """Every column a file of ``kind`` may have, in the template's order."""
    kind = as_kind(kind)
    return tuple(
        GuideColumn(
            name=spec.name,
            label=spec.label,
            required=_requirement_text(kind, spec.name),
            format=spec.format,
            example=spec.example,
            effect=spec.effect,
        )
        for spec in FIELDS[kind]
    )


def template_header(kind: Kind | str) -> list[str]:
    return [spec.name for spec in FIELDS[as_kind(kind)]]


def template_row(kind: Kind | str) -> list[str]:
    """The example row: one valid record (alternatives of a requirement: the first one only)."""
    kind = as_kind(kind)
    alternates = {f for r in REQUIREMENTS[kind] for f in r.fields[1:]}
    return ["" if spec.name in alternates else spec.example for spec in FIELDS[kind]]


def template_filename(kind: Kind | str, fmt: str) -> str:
    return f"{as_kind(kind).value}-template.{fmt}"


def template_csv(kind: Kind | str) -> bytes:
    """UTF-8 with a BOM, so Excel opens accents and e-mails as text, not mojibake."""
    return b"".join(csv_chunks([template_header(kind), template_row(kind)]))


def _xlsx_cell(text: str) -> str | int:
    # Numbers as numbers, so a spreadsheet shows them right-aligned and sums them.
    return int(text) if text.isdigit() and len(text) < 16 else text


def template_xlsx(kind: Kind | str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(as_kind(kind).value)
    sheet.append(template_header(kind))
    sheet.append([_xlsx_cell(cell) for cell in template_row(kind)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_file(kind: Kind | str, fmt: str) -> bytes:
    """The template of ``kind`` in ``fmt`` ("csv" or "xlsx"); raises ``ValueError`` otherwise."""
    if fmt == "csv":
        return template_csv(kind)
    if fmt == "xlsx":
        return template_xlsx(kind)
    raise ValueError(f"unknown template format {fmt!r}; expected one of {', '.join(TEMPLATE_FORMATS)}")
