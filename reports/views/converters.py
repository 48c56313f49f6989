"""URL converters of the report URLs."""

from __future__ import annotations

from reports.exports import FORMATS


class ExportFormatConverter:
    """``csv`` or ``xlsx``: the suffix of an export URL."""

    regex = "|".join(FORMATS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
