"""Course upserts and archives from CSV and JSON, checked against the request schemas."""

from __future__ import annotations

import json

import pytest

from integrations.imports import messages as m, validate_file, validate_records, validate_rows

from .conftest import OID, csv_bytes, request_errors

COURSE_HEADERS = (
    "externalId",
    "Title",
    "Language",
    "Launch URL",
    "Description",
    "Thumbnail",
    "Difficulty",
    "Content type",
    "Duration",
    "Subjects",
    "Source name",
    "Source logo URL",
    "name_fr",
    "subjects_fr",
)


def _course(n: int, **changes: str) -> dict[str, str]:
    row = {
        "externalId": f"ext-{n}",
        "Title": f"Course {n}",
        "Language": "EN",
        "Launch URL": f"https://lms.example.com/launch/{n}",
        "Description": "Learn things.",
        "Thumbnail": f"https://lms.example.com/img/{n}.png",
        "Difficulty": "Beginner",
        "Content type": "linkedcontent",
        "Duration": "45",
        "Subjects": "Machine learning | IT |",
        "Source name": "Wikipedia|Internal",
        "Source logo URL": "https://en.wikipedia.org/logo.png",
        "name_fr": f"Cours {n}",
        "subjects_fr": "Apprentissage automatique",
    }
    row.update(changes)
    return row


def test_a_course_csv_becomes_external_courses_the_schema_accepts(write):
    path = write(
        "courses.csv",
        csv_bytes(
            COURSE_HEADERS,
            [
                _course(1),
                _course(
                    2, **{"Subjects": "", "Source name": "", "Source logo URL": "", "name_fr": "", "subjects_fr": ""}
                ),
            ],
        ),
    )
    report = validate_file(path, kind="courses")

    assert report.invalid == ()
    first, second = report.payloads()
    assert first == {
        "externalId": "ext-1",
        "name": "Course 1",
        "defaultLang": "en",
        "launchUrl": "https://lms.example.com/launch/1",
        "description": "Learn things.",
        "imageUrl": "https://lms.example.com/img/1.png",
        "difficultyLevel": "beginner",
        "contentType": "linkedContent",
        "duration": 45,
        "subjects": ["Machine learning", "IT"],
        "sources": [{"name": "Wikipedia", "logoUrl": "https://en.wikipedia.org/logo.png"}, {"name": "Internal"}],
        "translations": [
            {"lang": "fr", "translatedFields": {"name": "Cours 1", "subjects": ["Apprentissage automatique"]}}
        ],
    }
    assert (second["subjects"], second["sources"], "translations" in second) == ([], [], False)
    assert request_errors("courses", [first, second]) == []


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"Launch URL": "lms.example.com/x"},
            "launchUrl",
            m.NOT_A_URL.format(field="launchUrl", value="lms.example.com/x"),
        ),
        (
            {"Launch URL": "javascript:alert(1)"},
            "launchUrl",
            m.NOT_A_URL.format(field="launchUrl", value="javascript:alert(1)"),
        ),
        ({"Title": ""}, "name", m.REQUIRED.format(field="name")),
        ({"Language": "english"}, "defaultLang", m.UNKNOWN_LANG.format(field="defaultLang", value="english")),
        ({"Duration": "0"}, "duration", m.OUT_OF_RANGE.format(field="duration", minimum=1, maximum=100000, value=0)),
        (
            {"Duration": "100001"},
            "duration",
            m.OUT_OF_RANGE.format(field="duration", minimum=1, maximum=100000, value=100001),
        ),
        ({"Duration": "1.5"}, "duration", m.NOT_A_WHOLE_NUMBER.format(field="duration", value=1.5)),
        (
            {"Difficulty": "expert"},
            "difficultyLevel",
            m.NOT_A_CHOICE.format(field="difficultyLevel", choices="advanced, beginner, intermediate", value="expert"),
        ),
        (
            {"Source name": "", "Source logo URL": "https://x.example/l.png"},
            "sourceLogoUrl",
            m.LOGO_WITHOUT_SOURCE.format(logos=1, names=0),
        ),
        ({"Source name": "A||B"}, "sourceName", m.EMPTY.format(field="sourceName")),
        ({"name_fr": " "}, None, None),  # a blank translation cell is no translation
    ],
)
def test_each_course_fault_is_reported_on_its_field(changes, field, reason):
    report = validate_rows(COURSE_HEADERS, [list(_course(1, **changes).values())], kind="courses")
    if field is None:
        assert report.invalid == ()
    else:
        assert [(e.line, e.field, e.reason) for e in report.errors] == [(2, field, reason)]


def test_the_same_external_id_twice_is_a_duplicate_of_the_first_line():
    rows = [_course(1), _course(2), _course(3, externalId="ext-1")]
    report = validate_rows(COURSE_HEADERS, [list(r.values()) for r in rows], kind="courses")
    assert [(e.line, e.reason) for e in report.errors] == [
        (4, m.DUPLICATE_SAME_KEY.format(unit="line", line=2, key="externalId"))
    ]


def _json_course(**changes):
    record = {
        "externalId": "l3ssup3rh3r0s",
        "defaultLang": "en",
        "name": "Machine Learning Crash Course",
        "launchUrl": "https://player.example.com/ql/1",
        "subjects": ["Machine learning"],
        "sources": [{"name": "Wikipedia", "logoUrl": "https://en.wikipedia.org/logo.png"}],
        "authorId": OID,
        "translations": [{"lang": "fr", "translatedFields": {"name": "Cours", "subjects": ["Apprentissage"]}}],
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def test_a_v2_course_record_is_sent_as_given_and_the_schema_accepts_it():
    report = validate_records([_json_course()], kind="courses")
    assert list(report.payloads()) == [_json_course()]
    assert request_errors("courses", list(report.payloads())) == []


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"subjects": ...}, "subjects", m.REQUIRED.format(field="subjects")),
        ({"sources": "Wikipedia"}, "sources", m.NOT_A_LIST.format(field="sources", type="string")),
        (
            {"sources": [{"logoUrl": "https://x.example/l.png"}]},
            "sources[0].name",
            m.REQUIRED.format(field="sources[0].name"),
        ),
        ({"subjects": ["ok", ""]}, "subjects[1]", m.EMPTY.format(field="subjects[1]")),
        ({"duration": 45.5}, "duration", m.NOT_A_WHOLE_NUMBER.format(field="duration", value=45.5)),
        ({"authorId": "me"}, "authorId", m.NOT_AN_OBJECT_ID.format(field="authorId", value="me")),
        (
            {"translations": [{"lang": "fr", "translatedFields": {}}, {"lang": "FR", "translatedFields": {}}]},
            "translations[1].lang",
            m.DUPLICATE_LANG.format(field="translations", value="fr"),
        ),
        (
            {"translations": [{"lang": "fr", "translatedFields": {"launchUrl": "ftp://x"}}]},
            "translations[0].translatedFields.launchUrl",
            m.NOT_A_URL.format(field="translations[0].translatedFields.launchUrl", value="ftp://x"),
        ),
    ],
)
def test_each_json_course_fault_names_its_request_path(changes, field, reason):
    report = validate_records([_json_course(**changes)], kind="courses")
    assert [(e.line, e.field, e.reason) for e in report.errors] == [(1, field, reason)]


def test_an_archive_file_sends_external_ids_only(write):
    report = validate_file(
        write("a.csv", csv_bytes(["Code", "Name"], [["a", "x"], ["", "y"], ["b", "z"], ["a", "w"]])),
        kind="archive-courses",
    )
    assert list(report.payloads()) == [{"externalId": "a"}, {"externalId": "b"}]
    assert [(e.line, e.field, e.reason) for e in report.errors] == [
        (3, "externalId", m.REQUIRED.format(field="externalId")),
        (5, m.ROW_FIELD, m.DUPLICATE_SAME_VALUES.format(unit="line", line=2)),
    ]
    assert request_errors("archive-courses", list(report.payloads())) == []


def test_an_archive_json_may_list_full_course_records(write):
    data = json.dumps({"input": [_json_course(), {"externalId": "other"}]}).encode()
    report = validate_file(write("a.json", data), kind="archive-courses")
    assert list(report.payloads()) == [{"externalId": "l3ssup3rh3r0s"}, {"externalId": "other"}]
    assert report.valid[0].notes == ()
