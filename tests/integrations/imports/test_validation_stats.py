"""Stats validation: every fault found on its line with field and reason, nothing invalid kept,
everything kept valid per the vendor schema, duplicates reported on the later line."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from integrations.imports import messages as m, validate_file, validate_records, validate_rows

from .conftest import OID, STATS_HEADERS, csv_bytes, good_stats_row, request_errors

Fault = Callable[[dict[str, str]], tuple[str, str]]


def _set(field: str, value: str, reason: str) -> Fault:
    def fault(row: dict[str, str]) -> tuple[str, str]:
        row[field] = value
        return field, reason

    return fault


def _reversed_dates(row: dict[str, str]) -> tuple[str, str]:
    row["firstActivityAt"], row["lastActivityAt"] = "2025-07-09T10:00:00Z", "2025-07-09T09:59:59.999Z"
    return "firstActivityAt", m.DATES_REVERSED.format(first="2025-07-09T10:00:00.000Z", last="2025-07-09T09:59:59.999Z")


def _both_courses(row: dict[str, str]) -> tuple[str, str]:
    row["courseId"] = OID
    return "courseId", m.BOTH_GIVEN.format(first="courseExternalId", second="courseId")


def _no_user(row: dict[str, str]) -> tuple[str, str]:
    row["userMail"] = "   "
    return "userMail", m.REQUIRED_ONE_OF.format(fields="userMail or userId")


FAULTS: list[Fault] = [
    _set("progress", "140", m.OUT_OF_RANGE.format(field="progress", minimum=0, maximum=100, value=140)),
    _set("progress", "-1", m.OUT_OF_RANGE.format(field="progress", minimum=0, maximum=100, value=-1)),
    _set("progress", "half", m.NOT_A_NUMBER.format(field="progress", value="half")),
    _set("progress", "33.5", m.NOT_A_WHOLE_NUMBER.format(field="progress", value=33.5)),
    _set("progress", "", m.REQUIRED.format(field="progress")),
    _set("timeSpent", "0", m.BELOW_MINIMUM.format(field="timeSpent", minimum=1, unit=" ms", value=0)),
    _set("timeSpent", "3,600", m.NOT_A_NUMBER.format(field="timeSpent", value="3,600")),
    _set("timeSpent", "nan", m.NOT_A_NUMBER.format(field="timeSpent", value="nan")),
    _set("userMail", "john.doe@", m.NOT_AN_EMAIL.format(field="userMail", value="john.doe@")),
    _set("userMail", "a b@example.com", m.NOT_AN_EMAIL.format(field="userMail", value="a b@example.com")),
    _no_user,
    _set("courseExternalId", "", m.REQUIRED_ONE_OF.format(fields="courseExternalId or courseId")),
    _both_courses,
    _set("firstActivityAt", "08/07/2025", m.NOT_A_DATE.format(field="firstActivityAt", value="08/07/2025")),
    _set(
        "lastActivityAt",
        "2025-02-30T10:00:00Z",
        m.NOT_A_DATE.format(field="lastActivityAt", value="2025-02-30T10:00:00Z"),
    ),
    _set("lastActivityAt", "2025-07-08T25:00", m.NOT_A_DATE.format(field="lastActivityAt", value="2025-07-08T25:00")),
    _set(
        "firstActivityAt",
        "0225-07-08",
        m.DATE_OUT_OF_RANGE.format(
            field="firstActivityAt", earliest="1970-01-01", latest="2100-01-01", value="0225-07-08"
        ),
    ),
    _reversed_dates,
    _set("score", "101", m.OUT_OF_RANGE.format(field="score", minimum=0, maximum=100, value=101)),
    _set("result", "passed", m.NOT_A_CHOICE.format(field="result", choices="success, failed", value="passed")),
    _set("lang", "klingon", m.UNKNOWN_LANG.format(field="lang", value="klingon")),
    _set("forceNew", "maybe", m.NOT_A_BOOLEAN.format(field="forceNew", value="maybe")),
]


def test_a_file_with_exactly_50_bad_rows_reports_exactly_those_with_line_field_and_reason(write):
    rows, expected = [], set()
    for n in range(1, 1001):
        row = good_stats_row(n)
        if n % 20 == 7:  # 50 bad rows spread through 1,000, each with one fault, all kinds used
            field, reason = FAULTS[len(expected) % len(FAULTS)](row)
            expected.add((n + 1, field, reason))  # line 1 is the header
        rows.append(row)
    path = write("stats.csv", csv_bytes(STATS_HEADERS, rows))

    report = validate_file(path, kind="stats")

    assert (report.total, report.valid_count, report.invalid_count) == (1000, 950, 50)
    assert {(e.line, e.field, e.reason) for e in report.errors} == expected
    assert len(report.errors) == 50
    assert {e.column for e in report.errors} <= set(STATS_HEADERS)
    bad_lines = {line for line, _, _ in expected}
    assert not bad_lines & {r.line for r in report.valid}  # invalid rows are never sent
    assert request_errors("stats", list(report.payloads())[:10_000]) == []


def test_valid_rows_become_the_exact_v2_shape():
    row = good_stats_row(5) | {
        "courseExternalId": "",
        "courseId": OID,
        "userMail": "",
        "userId": OID.upper(),
        "progress": "100.0",
        "timeSpent": "1500.5",
        "firstActivityAt": "2025-07-08 22:00",
        "lastActivityAt": "2025-07-09T00:30:00+02:00",
        "score": "87,5",
        "result": "SUCCESS",
        "lang": "pt-br",
        "forceNew": "yes",
    }
    report = validate_rows(STATS_HEADERS, [[row[h] for h in STATS_HEADERS]], kind="stats")
    assert report.valid[0].payload == {
        "courseIdentifier": {"type": "internalId", "value": OID},
        "userIdentifier": {"type": "internalId", "value": OID.upper()},
        "progress": 100,
        "timeSpent": 1500.5,
        "firstActivityAt": "2025-07-08T22:00:00.000Z",  # naive: UTC
        "lastActivityAt": "2025-07-08T22:30:00.000Z",
        "score": 87.5,
        "result": "success",
        "lang": "pt_BR",
        "forceNew": True,
    }
    assert request_errors("stats", list(report.payloads())) == []


def test_the_same_row_twice_is_reported_on_the_later_line():
    rows = [good_stats_row(1), good_stats_row(2), good_stats_row(1)]
    report = validate_rows(STATS_HEADERS, [[r[h] for h in STATS_HEADERS] for r in rows], kind="stats")
    assert [(e.line, e.field, e.reason) for e in report.errors] == [
        (4, m.ROW_FIELD, m.DUPLICATE_SAME_VALUES.format(unit="line", line=2))
    ]
    assert "duplicate of line 2" in report.errors[0].reason
    assert [r.line for r in report.valid] == [2, 3]


def test_the_same_course_learner_and_first_activity_with_other_values_is_a_duplicate_too():
    first = good_stats_row(1)
    again = first | {
        "progress": "99",
        "userMail": first["userMail"].upper(),
        "firstActivityAt": "2025-02-02T09:00:00+01:00",
    }
    report = validate_rows(STATS_HEADERS, [[r[h] for h in STATS_HEADERS] for r in (first, again)], kind="stats")
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, m.DUPLICATE_SAME_KEY.format(unit="line", line=2, key="course, user and firstActivityAt"))
    ]


def test_a_row_repeating_an_invalid_row_is_not_called_a_duplicate():
    bad = good_stats_row(1) | {"progress": "140"}
    report = validate_rows(STATS_HEADERS, [[bad[h] for h in STATS_HEADERS]] * 2, kind="stats")
    assert [(e.line, e.field) for e in report.errors] == [(2, "progress"), (3, "progress")]


def _json_stat(**changes):
    record = {
        "courseIdentifier": {"type": "externalId", "value": "c1"},
        "userIdentifier": {"type": "mail", "value": "a@example.com"},
        "progress": 50,
        "timeSpent": 1000,
        "firstActivityAt": "2025-07-08T22:00:00.000Z",
        "lastActivityAt": "2025-07-08T23:00:00.000Z",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"progress": "50"}, "progress", m.NOT_A_NUMBER.format(field="progress", value="50")),
        ({"progress": True}, "progress", m.NOT_A_NUMBER.format(field="progress", value=True)),
        ({"forceNew": "true"}, "forceNew", m.NOT_A_BOOLEAN.format(field="forceNew", value="true")),
        ({"timeSpent": ...}, "timeSpent", m.REQUIRED.format(field="timeSpent")),
        (
            {"courseIdentifier": "c1"},
            "courseIdentifier",
            m.NOT_AN_OBJECT.format(field="courseIdentifier", type="string"),
        ),
        (
            {"courseIdentifier": {"type": "slug", "value": "c1"}},
            "courseIdentifier.type",
            m.NOT_A_CHOICE.format(field="courseIdentifier.type", choices="externalId, internalId", value="slug"),
        ),
        (
            {"courseIdentifier": {"type": "internalId", "value": "c1"}},
            "courseIdentifier.value",
            m.NOT_AN_OBJECT_ID.format(field="courseIdentifier.value", value="c1"),
        ),
        (
            {"userIdentifier": {"type": "mail", "value": "nobody"}},
            "userIdentifier.value",
            m.NOT_AN_EMAIL.format(field="userIdentifier.value", value="nobody"),
        ),
        ({"userIdentifier": {"type": "mail"}}, "userIdentifier.value", m.REQUIRED.format(field="userIdentifier.value")),
        (
            {"lastActivityAt": 1720476000},
            "lastActivityAt",
            m.NOT_A_DATE.format(field="lastActivityAt", value=1720476000),
        ),
    ],
)
def test_json_records_are_held_to_json_types(changes, field, reason):
    report = validate_records([_json_stat(**changes)], kind="stats")
    assert [(e.line, e.field, e.reason) for e in report.errors] == [(1, field, reason)]


def test_json_nulls_are_absent_and_unknown_keys_are_noted_not_sent():
    report = validate_records([_json_stat(score=None, comment="imported by script")], kind="stats")
    assert "score" not in report.valid[0].payload and "comment" not in report.valid[0].payload
    assert report.valid[0].notes == (m.NOTE_UNKNOWN_FIELD.format(field="comment"),)


def test_json_invalid_rows_keep_the_original_record_for_the_error_csv():
    record = _json_stat(progress=140)
    report = validate_records([record], kind="stats")
    assert json.loads(report.invalid[0].cells[0]) == record


def test_validation_leaves_the_garbage_collector_as_it_found_it():
    import gc
    from concurrent.futures import ThreadPoolExecutor

    rows = [[good_stats_row(n)[h] for h in STATS_HEADERS] for n in range(2_000)]
    assert gc.isenabled()
    with ThreadPoolExecutor(4) as pool:  # concurrent validations restore it exactly once
        reports = list(pool.map(lambda _: validate_rows(STATS_HEADERS, rows, kind="stats"), range(8)))
    assert all(r.valid_count == 2_000 for r in reports)
    assert gc.isenabled()
    gc.disable()
    try:
        validate_records([{"bad": True}], kind="stats")
        assert not gc.isenabled()  # a caller that disabled it keeps it disabled
    finally:
        gc.enable()


def test_duplicates_are_exact_even_when_different_keys_share_a_hash(monkeypatch):
    from integrations.imports import validation

    monkeypatch.setattr(validation, "hash", lambda key: 0, raising=False)  # every key collides
    rows = [good_stats_row(n) for n in (1, 2, 3, 2)]
    report = validate_rows(STATS_HEADERS, [[r[h] for h in STATS_HEADERS] for r in rows], kind="stats")
    assert [r.line for r in report.valid] == [2, 3, 4]
    assert [(e.line, e.reason) for e in report.errors] == [(5, m.DUPLICATE_SAME_VALUES.format(unit="line", line=3))]
