"""The streaming CSV writer: UTF-8 with a BOM, ``\\r\\n`` line ends, a bounded number of rows a
chunk, readable back by a CSV reader."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from tabular import UTF8_BOM, CsvBuffer, csv_chunks

ROOT = Path(__file__).resolve().parents[2]


def test_the_bom_comes_first_then_rows_a_chunk_at_a_time():
    chunks = list(csv_chunks(([str(n), "x"] for n in range(1201)), rows_per_chunk=500))
    assert chunks[0] == UTF8_BOM
    assert [c.count(b"\r\n") for c in chunks[1:]] == [500, 500, 201]


def test_no_empty_chunk_follows_a_full_one():
    chunks = list(csv_chunks([["a"], ["b"]], rows_per_chunk=2))
    assert chunks == [UTF8_BOM, b"a\r\nb\r\n"]


def test_cells_with_commas_quotes_and_line_breaks_round_trip():
    rows = [["name", "note"], ["Doe, Jane", 'said "hi"\nthen left'], ["caf\u00e9", ""]]
    data = b"".join(csv_chunks(rows))
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))) == rows


def test_a_caller_may_keep_another_line_end():
    assert b"".join(csv_chunks([["a", "b"]], lineterminator="\n")) == UTF8_BOM + b"a,b\n"


def test_the_buffer_hands_out_each_text_once():
    out = CsvBuffer()
    out.writerow(["a", 1])
    assert out.take() == "a,1\r\n"
    out.writerows([["b"], ["c"]])
    assert out.take() == "b\r\nc\r\n"
    assert out.take() == ""


def test_the_package_imports_nothing_from_django():
    code = "import sys, tabular; print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
