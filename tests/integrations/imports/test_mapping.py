"""Column mapping: suggestions from headers and aliases, the missing-required case, storage."""

from __future__ import annotations

import json

import pytest

from integrations.imports import (
    ColumnMapping,
    Kind,
    MappingIncomplete,
    Requirement,
    messages as m,
    missing_required,
    suggest_mapping,
    validate_file,
)

from .conftest import csv_bytes


def test_it_suggests_fields_from_aliases_ignoring_case_spaces_and_underscores():
    headers = ["E-mail", "Course External ID", "PROGRESS", "time_spent", "Started At", "completed_at", "Score", "Notes"]
    mapping = suggest_mapping(headers, "stats")
    assert mapping.to_json() == {
        "E-mail": "userMail",
        "Course External ID": "courseExternalId",
        "PROGRESS": "progress",
        "time_spent": "timeSpent",
        "Started At": "firstActivityAt",
        "completed_at": "lastActivityAt",
        "Score": "score",
    }  # "Notes" matches nothing and is not imported
    assert missing_required(mapping, "stats") == ()


def test_a_fields_own_name_beats_an_alias_and_the_first_alias_beats_later_ones():
    # completedAt and lastActivity are both aliases of lastActivityAt; lastActivityAt itself wins.
    headers = ["completedAt", "lastActivity", "lastActivityAt", "mail", "email"]
    assert suggest_mapping(headers, "stats").to_json() == {"lastActivityAt": "lastActivityAt", "mail": "userMail"}
    assert suggest_mapping(["completedAt", "lastActivity"], "stats").to_json() == {"lastActivity": "lastActivityAt"}


def test_it_lists_what_is_missing_when_required_columns_do_not_match():
    mapping = suggest_mapping(["Learner", "Course", "Percent"], "stats")
    assert mapping.to_json() == {"Course": "courseExternalId"}
    assert missing_required(mapping, "stats") == (
        Requirement(("userMail", "userId")),
        Requirement(("progress",)),
        Requirement(("timeSpent",)),
        Requirement(("firstActivityAt",)),
        Requirement(("lastActivityAt",)),
    )
    assert missing_required(mapping, "stats")[0].label == "userMail or userId"


def test_validating_a_file_with_unmapped_required_fields_asks_for_the_mapping_step(write):
    path = write("s.csv", csv_bytes(["Learner", "Course", "Percent"], [["a@example.com", "c", "50"]]))
    with pytest.raises(MappingIncomplete) as caught:
        validate_file(path, kind="stats")
    needed = caught.value
    assert needed.headers == ("Learner", "Course", "Percent")
    assert needed.suggested.to_json() == {"Course": "courseExternalId"}
    assert [r.label for r in needed.missing][:2] == ["userMail or userId", "progress"]
    assert str(needed) == m.MAPPING_INCOMPLETE.format(missing=", ".join(r.label for r in needed.missing))


def test_the_mapping_the_admin_chose_validates_the_file(write):
    path = write(
        "s.csv",
        csv_bytes(
            ["Learner", "Course", "Percent", "ms", "from", "to"],
            [["a@example.com", "c", "50", "9", "2025-01-01", "2025-01-02"]],
        ),
    )
    mapping = ColumnMapping.from_json(
        {
            "Learner": "userMail",
            "Course": "courseExternalId",
            "Percent": "progress",
            "ms": "timeSpent",
            "from": "firstActivityAt",
            "to": "lastActivityAt",
        },
        kind="stats",
    )
    report = validate_file(path, kind="stats", mapping=mapping)
    assert report.valid_count == 1 and report.mapping == mapping


def test_a_mapping_round_trips_through_json():
    mapping = suggest_mapping(
        ["externalId", "Title", "language", "URL", "Subjects", "name_fr", "Description (pt-BR)"], "courses"
    )
    stored = json.loads(json.dumps(mapping.to_json()))
    assert ColumnMapping.from_json(stored, kind="courses") == mapping
    assert mapping.to_json()["name_fr"] == "translations.fr.name"
    assert mapping.to_json()["Description (pt-BR)"] == "translations.pt_BR.description"


def test_a_remembered_mapping_wins_for_the_columns_the_new_file_still_has():
    remembered = ColumnMapping.from_json({"Learner": "userMail", "Old column": "progress"}, kind="stats")
    mapping = suggest_mapping(["Learner", "email", "progress"], "stats", remembered=remembered)
    assert mapping.to_json() == {"Learner": "userMail", "progress": "progress"}


def test_a_stored_mapping_with_an_unknown_or_repeated_field_is_refused():
    with pytest.raises(ValueError, match="'colour' is not a field of the stats import"):
        ColumnMapping.from_json({"a": "colour"}, kind="stats")
    with pytest.raises(ValueError, match="'progress' is mapped from both 'a' and 'b'"):
        ColumnMapping.from_json({"a": "progress", "b": "progress"}, kind="stats")
    assert ColumnMapping.from_json({"a": None, "b": ""}, kind=Kind.STATS).pairs == ()


def test_the_archive_kind_needs_only_an_external_id():
    mapping = suggest_mapping(["Code", "Name"], "archive-courses")
    assert mapping.to_json() == {"Code": "externalId"}
    assert missing_required(mapping, "archive-courses") == ()
