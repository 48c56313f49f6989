"""v1 payloads (seeds: importExternalCoursesStats, importExternalCourses) convert to v2 records
that the v2 request schema accepts, with a note for every derived or defaulted value."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from integrations.imports import SourceFormat, V1Defaults, messages as m, validate_file, validate_records

from .conftest import request_errors

# The seed's v1 example values (importExternalCoursesStats), one record per v1 scenario.
SEED_STATS = {
    "statistics": [
        {  # everything given, completed
            "externalId": "l3ssup3rh3r0s",
            "mail": "j.doe@hotmail.com",
            "progress": 100,
            "score": 90,
            "result": "success",
            "globalTime": 3600000,
            "completedAt": "2022-05-16T22:00:00.000Z",
            "firstActivity": "2022-05-16T20:00:00.000Z",
            "lastActivity": "2022-05-16T22:00:00.000Z",
        },
        {  # completedAt only: v1 set progress to 100 and derived the rest
            "externalId": "l3ssup3rh3r0s",
            "mail": "a.smith@example.com",
            "completedAt": "2022-05-16T22:00:00.000Z",
        },
        {  # in progress, no dates of its own but lastActivity
            "externalId": "course-2",
            "mail": "b.jones@example.com",
            "progress": 40,
            "lastActivity": "2022-05-17T08:00:00+02:00",
            "globalTime": 60000,
        },
        {  # completedAt contradicting progress and lastActivity
            "externalId": "course-3",
            "mail": "c.lee@example.com",
            "progress": 70,
            "globalTime": 1200000,
            "completedAt": "2022-05-20T10:00:00.000Z",
            "firstActivity": "2022-05-18T10:00:00.000Z",
            "lastActivity": "2022-05-19T10:00:00.000Z",
        },
    ]
}
DEFAULTS = V1Defaults(time_spent_ms=300000, lang="en")


def test_the_seed_v1_stats_payload_converts_with_notes_and_validates_against_the_request_schema(write):
    report = validate_file(write("v1.json", json.dumps(SEED_STATS).encode()), kind="stats", v1_defaults=DEFAULTS)

    assert report.source_format is SourceFormat.JSON_V1
    assert report.notes == (m.FILE_NOTE_V1.format(payload="stats"),)
    assert report.invalid == ()
    payloads = list(report.payloads())
    assert request_errors("stats", payloads) == []
    assert payloads[0] == {
        "courseIdentifier": {"type": "externalId", "value": "l3ssup3rh3r0s"},
        "userIdentifier": {"type": "mail", "value": "j.doe@hotmail.com"},
        "progress": 100,
        "timeSpent": 3600000,
        "firstActivityAt": "2022-05-16T20:00:00.000Z",
        "lastActivityAt": "2022-05-16T22:00:00.000Z",
        "score": 90,
        "result": "success",
        "lang": "en",
    }
    lang_note = m.NOTE_V1_DEFAULT.format(field="lang", value="en", sources="lang (new in v2)")
    assert report.valid[0].notes == (lang_note,)
    assert payloads[1]["progress"] == 100 and payloads[1]["timeSpent"] == 300000
    assert payloads[1]["firstActivityAt"] == payloads[1]["lastActivityAt"] == "2022-05-16T22:00:00.000Z"
    assert report.valid[1].notes == (
        m.NOTE_V1_PROGRESS_FROM_COMPLETED,
        m.NOTE_V1_DEFAULT.format(field="timeSpent", value="300000 ms", sources="globalTime"),
        m.NOTE_V1_DERIVED.format(
            field="firstActivityAt", source="completedAt", value="2022-05-16T22:00:00.000Z", missing="firstActivity"
        ),
        lang_note,
    )
    assert (payloads[2]["firstActivityAt"], payloads[2]["lastActivityAt"]) == ("2022-05-17T06:00:00.000Z",) * 2
    assert (
        m.NOTE_V1_DERIVED.format(
            field="firstActivityAt", source="lastActivity", value="2022-05-17T08:00:00+02:00", missing="firstActivity"
        )
        in report.valid[2].notes
    )
    assert payloads[3]["progress"] == 100 and payloads[3]["lastActivityAt"] == "2022-05-20T10:00:00.000Z"
    assert report.valid[3].notes[:2] == (
        m.NOTE_V1_PROGRESS_REPLACED.format(value=70),
        m.NOTE_V1_LAST_ACTIVITY_DROPPED.format(value="2022-05-19T10:00:00.000Z"),
    )


def test_a_v1_record_missing_what_v2_requires_says_which_v1_fields_and_default_were_missing():
    report = validate_records([{"externalId": "c", "mail": "a@example.com", "progress": 10}], kind="stats", v1=True)
    assert [(e.field, e.reason) for e in report.errors] == [
        ("timeSpent", m.V1_MISSING.format(field="timeSpent", sources="globalTime")),
        (
            "lastActivityAt",
            m.V1_MISSING.format(field="lastActivityAt", sources="lastActivity, completedAt or firstActivity"),
        ),
        (
            "firstActivityAt",
            m.V1_MISSING.format(field="firstActivityAt", sources="firstActivity, lastActivity or completedAt"),
        ),
    ]


def test_defaults_fill_every_required_field_and_each_is_noted():
    defaults = V1Defaults(
        progress=0, time_spent_ms=1, last_activity_at=datetime(2024, 1, 2, tzinfo=UTC), force_new=True
    )
    report = validate_records(
        [{"externalId": "c", "mail": "a@example.com"}], kind="stats", v1=True, v1_defaults=defaults
    )
    payload = report.valid[0].payload
    assert (payload["progress"], payload["timeSpent"], payload["forceNew"]) == (0, 1, True)
    assert payload["firstActivityAt"] == payload["lastActivityAt"] == "2024-01-02T00:00:00.000Z"
    assert len(report.valid[0].notes) == 5  # progress, timeSpent, lastActivityAt, firstActivityAt, forceNew
    assert request_errors("stats", [payload]) == []


def test_an_invalid_default_fails_once_at_construction():
    with pytest.raises(ValueError, match="progress must be between 0 and 100"):
        V1Defaults(progress=140)
    with pytest.raises(ValueError, match="timeSpent must be at least 1 ms"):
        V1Defaults(time_spent_ms=0)


def test_a_bare_array_of_v1_records_is_recognised(write):
    report = validate_file(
        write("s.json", json.dumps(SEED_STATS["statistics"]).encode()), kind="stats", v1_defaults=DEFAULTS
    )
    assert report.source_format is SourceFormat.JSON_V1 and report.valid_count == 4


def test_a_v1_stats_payload_is_not_a_courses_import(write):
    with pytest.raises(ValueError, match="v1 stats payload; it cannot be imported as courses"):
        validate_file(write("s.json", json.dumps(SEED_STATS).encode()), kind="courses")


# The seed's v1 course (importExternalCourses), in the v1 field names.
SEED_COURSES = {
    "authorId": "62bdbc00293a604543f44386",
    "externalPlatformLogoUrl": "https://upload.wikimedia.org/wikipedia/commons/0/07/Wikipedia_logo_%28svg%29.svg",
    "externalCourses": [
        {
            "externalId": "l3ssup3rh3r0s",
            "launchUrl": "https://player.mylearningplatform.com/ql/fg-q6dfax2e_6ys",
            "mobileLaunchUrl": "https://player.mylearningplatform.com/mobile/fg-q6dfax2e_6ys",
            "thumbnailUrl": "https://upload.wikimedia.org/wikipedia/commons/0/07/Wikipedia_logo_%28svg%29.svg",
            "title": "Machine Learning Crash Course",
            "description": "Learn the basics of machine learning.",
            "language": "en",
            "alternativeLanguages": ["fr", "en"],
            "authors": ["John Doe"],
            "courseDuration": 10.4,
            "difficultyLevel": "beginner",
            "contentType": "course",
            "skills": ["63970d8ec2675a57f2b3f509"],
        }
    ],
}


def test_the_seed_v1_courses_payload_converts_and_validates_against_the_request_schema(write):
    defaults = V1Defaults(subjects=("Machine learning",), source_name="Wikipedia")
    report = validate_file(write("c.json", json.dumps(SEED_COURSES).encode()), kind="courses", v1_defaults=defaults)

    assert report.invalid == ()
    assert report.notes == (
        m.FILE_NOTE_V1.format(payload="courses"),
        m.FILE_NOTE_V1_TOP_LEVEL.format(field="authorId"),
        m.FILE_NOTE_V1_TOP_LEVEL.format(field="externalPlatformLogoUrl"),
    )
    payload = report.valid[0].payload
    assert request_errors("courses", [payload]) == []
    assert payload == {
        "externalId": "l3ssup3rh3r0s",
        "name": "Machine Learning Crash Course",
        "defaultLang": "en",
        "launchUrl": "https://player.mylearningplatform.com/ql/fg-q6dfax2e_6ys",
        "description": "Learn the basics of machine learning.",
        "mobileLaunchUrl": "https://player.mylearningplatform.com/mobile/fg-q6dfax2e_6ys",
        "imageUrl": "https://upload.wikimedia.org/wikipedia/commons/0/07/Wikipedia_logo_%28svg%29.svg",
        "difficultyLevel": "beginner",
        "contentType": "course",
        "duration": 10,
        "subjects": ["Machine learning"],
        "sources": [{"name": "Wikipedia"}],
        "translations": [{"lang": "fr", "translatedFields": {}}],
    }
    assert report.valid[0].notes == (
        m.NOTE_V1_DURATION_ROUNDED.format(value=10.4, rounded=10),
        m.NOTE_V1_DEFAULT.format(field="subjects", value=["Machine learning"], sources="subjects"),
        m.NOTE_V1_DEFAULT.format(field="sources", value=[{"name": "Wikipedia"}], sources="sources"),
        m.NOTE_V1_TRANSLATIONS.format(langs="fr"),
        m.NOTE_V1_AUTHORS_DROPPED.format(value=["John Doe"]),
        m.NOTE_V1_IGNORED_FIELD.format(field="skills"),
    )


def test_a_v1_course_without_title_names_the_v1_field():
    report = validate_records(
        [{"externalId": "x", "language": "en", "launchUrl": "https://a.example/x"}], kind="courses", v1=True
    )
    assert [(e.field, e.reason) for e in report.errors] == [("name", m.REQUIRED.format(field="title"))]


def test_a_v1_courses_payload_can_name_the_courses_to_archive(write):
    report = validate_file(write("c.json", json.dumps(SEED_COURSES).encode()), kind="archive-courses")
    assert list(report.payloads()) == [{"externalId": "l3ssup3rh3r0s"}]
    assert request_errors("archive-courses", list(report.payloads())) == []
