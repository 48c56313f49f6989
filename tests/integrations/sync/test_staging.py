"""Staging a page: a row seen twice in a run (in one page, or on a repeated page) is staged once,
its last version winning, on both databases (SQLite's executemany, PostgreSQL's COPY); JSON and
date values survive the trip; a stage write inside a longer transaction can be repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, transaction

from integrations.sync import records
from integrations.sync.staging import stage_write
from lms_cache.models import LmsGroupStage, PathStage

pytestmark = pytest.mark.django_db(transaction=True)


def _group(remote_id: str, name: str) -> tuple[str, dict]:
    return remote_id, {"name": name, "parent_remote_id": "", "public": False, "custom": ""}


def test_a_row_seen_twice_in_a_page_or_on_a_repeated_page_is_staged_once_with_its_last_version():
    assert stage_write(records.GROUPS, run_id=7, rows=[_group("a" * 24, "Sales"), _group("a" * 24, "Sales EMEA")]) == 2
    stage_write(records.GROUPS, run_id=7, rows=[_group("b" * 24, "Support"), _group("a" * 24, "Sales, EMEA")])
    stage_write(records.GROUPS, run_id=8, rows=[_group("a" * 24, "Another run")])

    staged = dict(LmsGroupStage.objects.filter(run_id=7).values_list("remote_id", "name"))
    assert staged == {"a" * 24: "Sales, EMEA", "b" * 24: "Support"}
    assert LmsGroupStage.objects.filter(run_id=8).count() == 1


def test_json_and_dates_survive_staging_and_it_repeats_inside_one_transaction():
    when = datetime(2026, 5, 4, 3, 2, 1, 123000, tzinfo=UTC)
    row = {
        "name": "Onboarding « 2026 »",
        "status": "published",
        "lang": "fr",
        "author_remote_id": "",
        "group_remote_id": "",
        "certificate_id": "",
        "course_remote_ids": ["c" * 24, "d" * 24],
        "step_count": 2,
        "remote_created_at": when,
        "remote_modified_at": None,
    }
    with transaction.atomic():
        for _ in range(2):
            stage_write(records.PATHS, run_id=9, rows=[("e" * 24, row)])
    staged = PathStage.objects.get(run_id=9)
    assert (staged.course_remote_ids, staged.remote_created_at, staged.remote_modified_at) == (
        ["c" * 24, "d" * 24],
        when,
        None,
    )


EDGE_DATES = [
    datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC),  # no fraction: Django stores none
    datetime(2026, 5, 4, 3, 2, 1, 7, tzinfo=UTC),
    datetime(2026, 5, 4, 3, 2, 1, 999999, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),  # before 1970: floor, not truncation
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),  # another offset
]


@pytest.mark.parametrize("when", EDGE_DATES, ids=str)
def test_a_staged_date_is_stored_as_exactly_the_text_django_stores(when):
    """SQLite's stage gets whole microseconds and formats them in SQL; the stored text must be
    what the ORM itself would store, or text comparisons and the exports' slicing would differ."""
    row = {
        "name": "Dates",
        "status": "published",
        "lang": "en",
        "author_remote_id": "",
        "group_remote_id": "",
        "certificate_id": "",
        "course_remote_ids": [],
        "step_count": 0,
        "remote_created_at": when,
        "remote_modified_at": None,
    }
    stage_write(records.PATHS, run_id=11, rows=[("f" * 24, row)])
    PathStage.objects.create(run_id=12, remote_id="f" * 24, **row)  # the ORM's own write
    table = PathStage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT run_id, remote_created_at, remote_modified_at FROM {table} ORDER BY run_id")
        (_, staged, staged_none), (_, by_orm, _) = cursor.fetchall()
    assert (staged, staged_none) == (by_orm, None)
    assert PathStage.objects.get(run_id=11).remote_created_at == when
