"""The formula-safe cell rule every CSV the product writes goes through."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tabular import FORMULA_PREFIXES, column_letters, safe_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain = text", "plain = text"),
        (None, ""),
        (42, "42"),
        (-3, "'-3"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_get_a_leading_apostrophe(value, expected):
    assert safe_cell(value) == expected


def test_dates_and_date_times_are_written_in_iso_8601():
    assert safe_cell(date(2025, 6, 1)) == "2025-06-01"
    assert safe_cell(datetime(2025, 6, 1, 9, 30, tzinfo=UTC)) == "2025-06-01T09:30:00+00:00"


def test_every_formula_prefix_is_neutralised():
    assert all(safe_cell(prefix + "x") == "'" + prefix + "x" for prefix in FORMULA_PREFIXES)


@pytest.mark.parametrize(
    ("number", "letters"),
    [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (53, "BA"), (702, "ZZ"), (703, "AAA"), (16_384, "XFD")],
)
def test_column_letters_count_like_a_spreadsheet(number, letters):
    assert column_letters(number) == letters
