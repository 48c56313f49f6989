"""Reading JSON nested absurdly deep (issue 16): a clear ``ImportFileError`` at the place the
nesting starts, never a ``RecursionError`` (a 500 in the web flow)."""

from __future__ import annotations

import io

import pytest

from integrations.imports import ImportFileError, messages as m, validate_file
from integrations.imports.readers import read_json

DEPTH = 10_000


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        pytest.param(b"[" * DEPTH + b"]" * DEPTH, 1, 2, id="array"),
        pytest.param(b'{"a": ' * DEPTH + b"1" + b"}" * DEPTH, 1, 7, id="object"),
        pytest.param(
            b'{"input": [\n {"externalId": "a"},\n {"externalId": ' + b"[" * DEPTH + b"]" * DEPTH + b"}]}",
            3,
            2,
            id="inside-a-record",
        ),
    ],
)
def test_it_refuses_json_nested_ten_thousand_levels_deep(write, data, line, column):
    with pytest.raises(ImportFileError) as caught:
        validate_file(write("deep.json", data), kind="archive-courses")
    assert str(caught.value) == m.FILE_JSON_TOO_DEEP.format(line=line, column=column)


def test_a_json_reader_error_mid_iteration_leaves_the_upload_open():
    upload = io.BytesIO(b'[{"externalId": "a"}, ' + b"[" * DEPTH + b"]" * DEPTH + b"]")
    source = read_json(upload)
    with pytest.raises(ImportFileError):
        list(source.records)
    assert not upload.closed
