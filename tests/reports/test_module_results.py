"""iSpring module results: learners per completion status by course and module, filtered as
iSpring Learn's results API filters (users, courses, modules, user and completion statuses,
dates); htmx fragment; access; bounded queries."""

from __future__ import annotations

import re

import pytest

from reports import vocabulary
from reports.filters import ReportFilters
from reports.selectors.module_results import module_result_summary
from tests.reports.conftest import HTMX
from tests.support.html import assert_fragment

URL = "/reports/module-results/"


def _modules(html: str) -> list[tuple[str, str]]:
    table = html.split('id="module-table"', 1)[1]
    return re.findall(
        r'<th scope="row">(.*?)<div class="muted ids">course <code>.*?</code><br>module <code>(.*?)</code>',
        table,
        flags=re.S,
    )


def test_the_report_counts_results_per_completion_status_by_course_and_module(
    cache, manager_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        response = manager_client.get(URL)

    html = response.content.decode()
    # By course, then module title ("<script>…" before "Sécurité…").
    assert [module for _, module in _modules(html)] == ["module-2", "module-1", "module-3"]
    row = html.split("Sécurité — module 1", 1)[1].split("</tr>", 1)[0]
    # results, then not_started, in_progress, pending, complete, passed, accepted, incomplete, failed, declined, overdue
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["6", "1", "1", "0", "2", "1", "0", "0", "1", "0", "0"]
    assert (
        'aria-label="Sécurité — module 1: Not started: 1 (16.7%); In progress: 1 (16.7%); Complete: 2 (33.3%)' in html
    )
    assert "Acme iSpring</strong>:\n    statistics as of" in html and "iSpring Learn" in html


@pytest.mark.parametrize(
    "query,modules",
    [
        ({"user_ids": "user-1"}, ["module-2", "module-1"]),
        ({"user_ids": "user-1, user-2"}, ["module-2", "module-1", "module-3"]),
        ({"course_ids": "course-b"}, ["module-3"]),
        ({"module_ids": "module-2 module-3"}, ["module-2", "module-3"]),
        ({"completion_statuses": ["passed"]}, ["module-1", "module-3"]),
        ({"user_statuses": ["3"]}, ["module-2"]),
        ({"completed_from": "2000-01-01"}, ["module-1", "module-3"]),
        ({"accessed_to": "2000-01-01"}, []),
        ({"search": "hygiène"}, ["module-3"]),
    ],
)
def test_the_report_filters_as_the_api_does(cache, manager_client, query, modules):
    html = manager_client.get(URL, query).content.decode()

    assert [module for _, module in _modules(html)] == modules


def test_an_id_that_is_not_one_is_an_error(cache, manager_client):
    html = manager_client.get(URL, {"user_ids": "user-1 <x>"}).content.decode()

    assert "“&lt;x&gt;” is not an id." in html


def test_the_fragment_is_the_table_only_and_sorts(cache, manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        html = manager_client.get(URL, {"sort": "-results"}, headers=HTMX).content.decode()

    assert_fragment(html, "div", "module-table")
    assert [module for _, module in _modules(html)][0] == "module-1"


def test_the_report_needs_a_reporting_role(cache, client, carol):
    client.force_login(carol)

    assert client.get(URL).status_code == 403
    assert client.get(URL + "rows.csv").status_code == 403


def test_the_summary_sorts_by_a_completion_status_and_lists_every_status(cache):
    rows = module_result_summary(filters=ReportFilters(sort="-complete"))

    assert [(row.module_id, row.counts["complete"]) for row in rows] == [
        ("module-1", 2),
        ("module-2", 0),
        ("module-3", 0),
    ]
    first = rows[0].status_counts
    assert [status for status, _, _ in first] == list(vocabulary.completion_statuses())
    assert first[3] == ("complete", "Complete", 2)
    assert [segment.key for segment in rows[0].segments()] == [
        "not_started",
        "in_progress",
        "complete",
        "passed",
        "failed",
    ]
