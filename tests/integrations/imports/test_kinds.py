"""The constants copied from the Bulk API document still say what the document says."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.imports import kinds
from integrations.imports.kinds import OPERATIONS, Kind
from sandbox import spec


def _resolve(node: Any) -> Any:
    document = spec.document(spec.BULK_DOCUMENT)
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    if isinstance(node, dict) and "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(node["allOf"][0])
    return node


def _item_schema(kind: Kind) -> dict[str, Any]:
    method, path = OPERATIONS[kind]
    body = spec.operation(method, path)["requestBody"]["content"]["application/json"]["schema"]
    return _resolve(_resolve(body)["properties"]["input"]["items"])


def _walk(node: Any):
    node = _resolve(node)
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


@pytest.mark.parametrize("kind", list(Kind))
def test_the_chunk_limits_are_the_documented_max_items(kind):
    method, path = OPERATIONS[kind]
    assert kinds.LIMITS[kind] == spec.request_max_items(method, path)


def test_the_enums_are_the_documented_enums():
    stats = _item_schema(Kind.STATS)["properties"]
    course = _item_schema(Kind.COURSES)["properties"]
    translation = _resolve(course["translations"]["items"])["properties"]
    assert set(kinds.LANGS) == set(stats["lang"]["enum"]) == set(course["defaultLang"]["enum"])
    assert set(kinds.LANGS) == set(translation["lang"]["enum"])
    assert set(kinds.CONTENT_TYPES) == set(course["contentType"]["enum"])
    assert set(kinds.DIFFICULTY_LEVELS) == set(course["difficultyLevel"]["enum"])
    assert set(kinds.STAT_RESULTS) == set(stats["result"]["enum"])
    assert set(kinds.COURSE_IDENTIFIER_TYPES) == set(_resolve(stats["courseIdentifier"])["properties"]["type"]["enum"])
    assert set(kinds.USER_IDENTIFIER_TYPES) == set(_resolve(stats["userIdentifier"])["properties"]["type"]["enum"])
    assert set(kinds.TRANSLATED_FIELDS) == set(_resolve(translation["translatedFields"])["properties"])


def test_the_numeric_bounds_are_the_documented_bounds():
    stats = _item_schema(Kind.STATS)["properties"]
    duration = _item_schema(Kind.COURSES)["properties"]["duration"]
    assert (stats["progress"]["minimum"], stats["progress"]["maximum"]) == (kinds.PROGRESS_MIN, kinds.PROGRESS_MAX)
    assert (stats["score"]["minimum"], stats["score"]["maximum"]) == (kinds.SCORE_MIN, kinds.SCORE_MAX)
    assert stats["timeSpent"]["minimum"] == kinds.TIME_SPENT_MIN_MS
    assert (duration["minimum"], duration["maximum"]) == (kinds.DURATION_MIN_MINUTES, kinds.DURATION_MAX_MINUTES)


def test_the_stats_requirements_are_the_documented_required_fields():
    required = set(_item_schema(Kind.STATS)["required"])
    flat = {field for requirement in kinds.REQUIREMENTS[Kind.STATS] for field in requirement.fields}
    assert required == {"courseIdentifier", "userIdentifier"} | (
        flat - {"courseExternalId", "courseId", "userMail", "userId"}
    )


def test_the_course_requirements_are_the_documented_required_fields_less_the_lists():
    required = set(_item_schema(Kind.COURSES)["required"])
    flat = {field for requirement in kinds.REQUIREMENTS[Kind.COURSES] for field in requirement.fields}
    # subjects and sources are required arrays that may be empty: no column needed.
    assert required == flat | {"subjects", "sources"}
    assert set(_item_schema(Kind.ARCHIVE_COURSES)["required"]) == {"externalId"}


@pytest.mark.parametrize("kind", list(Kind))
def test_no_documented_string_has_a_max_length_we_would_not_check(kind):
    # If the vendor adds maxLength (or a pattern) to a field, this fails: add the check first.
    for node in _walk(_item_schema(kind)):
        assert "maxLength" not in node
        if "pattern" in node:
            assert node["pattern"] == "^[a-fA-F0-9]{24}$"  # authorId: checked as an ObjectId


def test_every_flat_field_of_a_kind_has_a_distinct_name():
    for specs in kinds.FIELDS.values():
        names = [s.name for s in specs]
        assert len(names) == len(set(names))
