"""Course statistics (per course) and the attempts table: completion, average score, time spent
and attempts per course; filters by completion date, course, learner and group; sort; pages;
htmx fragments; access; bounded queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from lms_cache.models import CourseAttempt
from reports.filters import ReportFilters
from reports.selectors.courses import course_stats
from tests.reports.conftest import HTMX, SCRIPT, make_attempt, make_course
from tests.support.html import assert_fragment, assertInHTML

STATS = "/reports/courses/"
ATTEMPTS = "/reports/attempts/"


def _course_rows(html: str) -> list[list[str]]:
    table = html.split('id="course-table"', 1)[1]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", table, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.split(r"</t[hd]>", row)][:9] for row in rows]


def _attempt_learners(html: str) -> list[str]:
    table = html.split('id="attempt-table"', 1)[1]
    return [
        re.sub(r"<div.*", "", cell, flags=re.S).strip()
        for cell in re.findall(r'<th scope="row">(.*?)</th>', table, flags=re.S)
    ]


def test_course_statistics_show_completion_score_time_and_attempts_per_course(
    cache, manager_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = manager_client.get(STATS)

    html = response.content.decode()
    rows = _course_rows(html)
    assert [row[0] for row in rows] == ["&lt;img src=x onerror=alert(1)&gt;", "Écoute active, niveau 2"]
    ecoute = rows[1]
    # 3 attempts by 3 learners, 2 of them completed; scores 90 and 70; 10 min each.
    assert ecoute[1:] == ["Acme 360", "3", "3", "2", "66.7%", "80.0", "30 min 00 s", "10 min 00 s"]
    assert f'href="/reports/attempts/?course={cache.courses[0].pk}"' in html
    assert "Acme 360</strong>:\n    statistics as of" in html


def test_the_course_statistics_fragment_is_the_table_only(cache, manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        html = manager_client.get(STATS, {"sort": "-completion"}, headers=HTMX).content.decode()

    assert_fragment(html, "div", "course-table")
    assert [row[0] for row in _course_rows(html)] == ["Écoute active, niveau 2", "&lt;img src=x onerror=alert(1)&gt;"]


@pytest.mark.parametrize(
    "sort,expected",
    [
        ("attempts", ["img", "ecoute"]),  # 2 attempts, then 3
        ("-attempts", ["ecoute", "img"]),
        ("score", ["img", "ecoute"]),  # 55 < 80
        ("-time", ["ecoute", "img"]),  # 30 min > 20 min
        ("-completion", ["ecoute", "img"]),  # 2 of 3 > 1 of 2
    ],
)
def test_course_statistics_sort(cache, sort, expected):
    names = {cache.courses[0].pk: "ecoute", cache.courses[1].pk: "img"}

    rows = course_stats(filters=ReportFilters(sort=sort))

    assert [names[row.course_pk] for row in rows] == expected


def test_completion_dates_learner_and_group_filter_the_statistics(cache, manager_client):
    today = timezone.localdate()
    recent = _course_rows(manager_client.get(STATS, {"completed_from": today - timedelta(days=7)}).content.decode())
    mallory = _course_rows(manager_client.get(STATS, {"user": "mallory@acme.example"}).content.decode())
    sales = _course_rows(manager_client.get(STATS, {"group": cache.sales.pk}).content.decode())

    # Completed in the last week: Zoë on Écoute (3 days ago), Mallory on <img> (1 day ago).
    assert [(r[0][:4], r[2]) for r in recent] == [("&lt;", "1"), ("Écou", "1")]
    assert [(r[0][:4], r[2]) for r in mallory] == [("&lt;", "1"), ("Écou", "1")]
    assert sum(int(r[2]) for r in sales) == 3


def test_a_course_not_synced_yet_shows_its_id(cache, manager_client):
    course = make_course(cache.acme, "Soon gone")
    make_attempt(cache.zoe, course, completed_days_ago=1)
    course.delete()

    html = manager_client.get(STATS).content.decode()

    assert "(not synced yet)" in html


def test_the_attempts_table_lists_each_attempt_with_its_learner_and_course(
    cache, manager_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        html = manager_client.get(ATTEMPTS).content.decode()

    assert "5 attempts" in html
    # Latest completion first, attempts not completed last.
    learners = _attempt_learners(html)
    assert learners[:2] == [
        "Mallory &lt;script&gt;alert(1)&lt;/script&gt;",
        "Zoë &quot;Z&quot; O&#x27;Brien-Dubois, Jr.\nsecond line",
    ]
    assert SCRIPT not in html


@pytest.mark.parametrize(
    "query,count",
    [
        ({"user": "zoe@acme.example"}, 2),
        ({"user": "mallory"}, 2),
        ({"group": "sales"}, 3),
        ({"completed_from": "2000-01-01"}, 3),
        ({"completed_to": "2000-01-01"}, 0),
    ],
)
def test_the_attempts_table_filters(cache, manager_client, query, count):
    if query.get("group") == "sales":
        query = {"group": cache.sales.pk}

    html = manager_client.get(ATTEMPTS, query).content.decode()

    assert len(_attempt_learners(html)) == count


def test_the_attempts_table_filters_by_course_and_pages(cache, manager_client, django_assert_max_num_queries):
    CourseAttempt.objects.bulk_create(
        [
            CourseAttempt(
                connection=cache.acme, remote_id=f"bulk{n:020d}", course=cache.courses[0],
                course_remote_id=cache.courses[0].remote_id, user=cache.zoe, user_remote_id=cache.zoe.remote_id,
                progress=n % 100, synced_at=timezone.now(),
            )
            for n in range(70)
        ]
    )  # fmt: skip

    with django_assert_max_num_queries(12):
        html = manager_client.get(ATTEMPTS, {"course": cache.courses[0].pk, "page": 2}).content.decode()

    assert "Page 2 of 2 · 73 rows" in html and len(_attempt_learners(html)) == 23


def test_the_attempts_fragment_is_the_table_only(cache, manager_client):
    html = manager_client.get(ATTEMPTS, {"sort": "score"}, headers=HTMX).content.decode()

    assert_fragment(html, "div", "attempt-table")
    assertInHTML('<input type="hidden" name="sort" value="score" form="attempt-filters">', html)


def test_reversed_completion_dates_are_an_error(cache, manager_client):
    html = manager_client.get(ATTEMPTS, {"completed_from": "2025-06-02", "completed_to": "2025-06-01"}).content.decode()

    assert "The end date is before the start date." in html


def test_course_reports_need_a_reporting_role(cache, client, carol):
    client.force_login(carol)
    for url in (STATS, ATTEMPTS, STATS + "export.csv", ATTEMPTS + "export.xlsx"):
        assert client.get(url).status_code == 403
