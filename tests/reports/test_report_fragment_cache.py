"""The sessions overview and a session's page keep their rendered tables per sync: a second view
reads no learner row, a completed sync shows the new rows at once, and readers with different
scopes never see each other's fragments. The actors are the ``teams`` fixture's
(tests/reports/conftest.py): Dave manages Sales, Erin Ingénierie."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.sync.derived import learner_counts_store
from lms_cache.models import PathSessionUserStat
from tests.reports.conftest import ENGINEERING, HTMX, SALES, make_sync_run, set_scope

LEARNERS_TABLE = PathSessionUserStat._meta.db_table


@pytest.fixture(autouse=True)
def empty_fragment_cache():
    caches["template_fragments"].clear()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _names(html: str) -> list[str]:
    table = html.split('id="learner-table"', 1)[1]
    return [" ".join(name.split()) for name in re.findall(r'<tr>\s*<th scope="row">(.*?)</th>', table, flags=re.S)]


def _enrolled(html: str) -> str:
    return re.search(r'<th scope="row" colspan="2">Enrolled</th><td class="num">([\d,]+)</td>', html)[1]


def _reads_learners(queries) -> bool:
    return any(LEARNERS_TABLE in query["sql"] for query in queries.captured_queries)


def test_a_second_view_of_a_session_reads_no_learner_and_shows_the_same_page(teams, admin_client):
    spring = teams.sessions["spring"]
    # As the sessions sync leaves it: its learner counts stored (the breakdown then reads no learner).
    learner_counts_store(connection_id=spring.connection_id, run_id=spring.stats_run_id, session_pks=[spring.pk])
    url = f"/reports/path-sessions/{spring.pk}/"
    first = admin_client.get(url).content.decode()

    with CaptureQueriesContext(db) as queries:
        second = admin_client.get(url).content.decode()

    assert not _reads_learners(queries)
    assert _names(second) == _names(first) and len(_names(first)) == 5
    assert _enrolled(second) == _enrolled(first) == "5"
    # The learner table fragment htmx asks for comes from the same cache.
    with CaptureQueriesContext(db) as queries:
        table = admin_client.get(url, headers={**HTMX, "HX-Target": "learner-table"}).content.decode()
    assert not _reads_learners(queries)
    assert _names(table) == _names(first)


def test_a_completed_sync_shows_the_new_rows_at_once(teams, admin_client):
    spring = teams.sessions["spring"]
    url = f"/reports/path-sessions/{spring.pk}/"
    assert "Sam" in " ".join(_names(admin_client.get(url).content.decode()))
    # What a sync that renamed Sam would leave: the learner row, and a completed run.
    PathSessionUserStat.objects.filter(session=spring, first_name="Sam").update(first_name="Samuel")
    make_sync_run(spring.connection, "users", ended_ago=timedelta(seconds=1))

    names = " ".join(_names(admin_client.get(url).content.decode()))

    assert "Samuel" in names


def test_managers_with_different_scopes_never_see_each_others_fragments(teams, admin_client):
    url = f"/reports/path-sessions/{teams.sessions['spring'].pk}/"
    assert len(_names(admin_client.get(url).content.decode())) == 5
    for manager, expected in ((teams.dave, SALES), (teams.erin, ENGINEERING)):
        client = _client(manager)
        for _ in range(2):  # the first view fills the cache, the second reads it
            html = client.get(url).content.decode()
            assert sorted(_names(html)) == sorted(expected)
            assert _enrolled(html) == str(len(expected))

    overview = {
        m.username: _client(m).get("/reports/path-sessions/").content.decode() for m in (teams.dave, teams.erin)
    }
    assert "Sales · Kickoff" in overview["dave"]
    assert "Sales · Kickoff" not in overview["erin"]


def test_a_scope_changed_by_an_admin_applies_at_once(teams):
    client = _client(teams.dave)
    url = f"/reports/path-sessions/{teams.sessions['spring'].pk}/"
    assert len(_names(client.get(url).content.decode())) == 3

    set_scope(teams.dave, teams.groups["engineering"])

    assert sorted(_names(client.get(url).content.decode())) == ["Eve Nakamura", "Ezra Lindqvist"]
