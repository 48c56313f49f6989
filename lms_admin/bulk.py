"""Writing many new rows at once, for the paths that store a file's or a page's worth of them.

``bulk_create`` prepares every value of every row through the field's Python methods and, on
SQLite, sends one ``INSERT`` per 76 rows of 13 columns (the 999-variable limit): for the 200,000
records of an import file that was most of its preparation time (bench/upload.py). Here the
caller gives rows of values the driver takes as they are (JSON already as text), and they go
in one ``executemany`` on SQLite or one ``COPY`` on PostgreSQL, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in ``columns`` order, ready for the driver) into ``model``'s table.

    Date-times must be aware on PostgreSQL and naive UTC text on SQLite; JSON columns take
    their text. No signals, no defaults: every column without a database default is given."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    names = ", ".join(qn(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)
