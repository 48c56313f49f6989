"""Tables written for spreadsheets: the formula-safe cell rule, column letters and a streaming
CSV writer.

Plain Python (no Django): the reports' exports, the import error files and the import
templates all write their CSV through here, so a cell is made safe by one rule and a file is
laid out (UTF-8 with a BOM, ``\\r\\n`` line ends) one way.
"""

from __future__ import annotations

from tabular.cells import FORMULA_PREFIXES, column_letters, safe_cell
from tabular.streaming import LINE_TERMINATOR, UTF8_BOM, CsvBuffer, csv_chunks

__all__ = ["FORMULA_PREFIXES", "LINE_TERMINATOR", "UTF8_BOM", "CsvBuffer", "column_letters", "csv_chunks", "safe_cell"]
