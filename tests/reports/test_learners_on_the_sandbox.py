"""The Learners report on the sandbox's two tenants over real HTTP: after ``sync_lms all`` on both
connections, its rows group learner records exactly as the seed intended
(``tests.people.test_people_across_connections.expected_people``), each person's items are
the LMS's own, and the page and the export read a bounded number of queries."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command

from lms_cache.models import LmsUser
from reports.filters import ReportFilters
from reports.selectors.learners import learner_list, learner_rows
from sandbox import models as remote
from tests.people.test_people_across_connections import expected_people

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def synced(connection_360, connection_ispring):
    out = io.StringIO()
    for connection in (connection_360, connection_ispring):
        call_command("sync_lms", "all", "--connection", connection.name, stdout=out, stderr=io.StringIO())
    return connection_360, connection_ispring


def test_the_learners_report_matches_people_exactly_as_the_seed_intended(synced, sandbox):
    connection_360, connection_ispring = synced
    rows = learner_rows(learner_list(filters=ReportFilters()))

    people = [{r.connection.pk: r.user.remote_id for r in row.records} for row in rows]
    assert len(people) == len({tuple(sorted(p.items())) for p in people})  # each person once
    pairs, ispring_only = expected_people(sandbox.tenant.pk)
    cached_360 = set(LmsUser.objects.filter(connection=connection_360).values_list("remote_id", flat=True))
    both = {(p[connection_360.pk], p[connection_ispring.pk]) for p in people if len(p) == 2}
    assert both == {(u, i) for u, i in pairs if u in cached_360}
    assert {p[connection_ispring.pk] for p in people if set(p) == {connection_ispring.pk}} == ispring_only | {
        i for u, i in pairs if u not in cached_360
    }
    assert {p[connection_360.pk] for p in people if set(p) == {connection_360.pk}} == cached_360 - {u for u, _ in pairs}
    for row in rows:
        assert row.matched == ("Same e-mail" if len(row.records) == 2 else "In one LMS only")

    # Each record's items are the LMS's own: its module results, its path sessions.
    results = Counter(remote.IspringModuleResult.objects.values_list("user_uuid", flat=True))
    sessions = Counter(remote.PathSessionUserStat.objects.values_list("user__oid", flat=True))
    for row in rows:
        for record in row.records:
            if record.connection == connection_ispring:
                assert len(record.module_results) == results[record.user.remote_id]
                assert not record.path_sessions
            else:
                assert len(record.path_sessions) == sessions[record.user.remote_id]
                assert not record.module_results
    assert sum(len(r.module_results) for row in rows for r in row.records) == sum(results.values())


def test_the_page_and_the_export_read_a_bounded_number_of_queries(
    synced, manager_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        response = manager_client.get("/reports/learners/")
    assert response.status_code == 200
    shown = response.context["rows"]
    assert len(shown) == response.context["page_obj"].paginator.count > 40  # every person on one page
    person = next(row.person for row in shown if len(row.records) == 2)
    with django_assert_max_num_queries(12):
        page = manager_client.get(f"/reports/learners/{person.pk}/")
    assert page.status_code == 200 and "Sandbox iSpring" in page.content.decode()

    with django_assert_max_num_queries(20):
        export = manager_client.get("/reports/learners/export.csv?presence=several")
        rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"), newline="")))

    by_person: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_person[row["person_id"]].add(row["connection"])
    assert len(by_person) == sum(1 for row in shown if len(row.records) == 2)
    assert set(map(frozenset, by_person.values())) == {frozenset({"Sandbox 360", "Sandbox iSpring"})}
    assert {row["shared_status"] for row in rows if row["item_type"] != "learner record"} <= {
        "not_started",
        "in_progress",
        "completed",
        "failed",
        "overdue",
    }
