"""Formula injection: a spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return as a formula; every such cell written for a person to open gets a leading
apostrophe, so it shows as the text it is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """``value`` as CSV text that no spreadsheet will evaluate as a formula (``None`` as empty,
    dates and date-times in ISO 8601)."""
    if value is None:
        text = ""
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def column_letters(number: int) -> str:
    """A spreadsheet column's letters: 1 → "A", 26 → "Z", 27 → "AA"."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
