"""The sessions overview: every path session with its dates, enrolled count, a status bar, its
success rate and how fresh its numbers are; filters, sort, search and pages; the table region
as an htmx fragment; managers and admins only; a bounded number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from reports.models import PathSession
from tests.reports.conftest import HTMX, make_learner, make_session

URL = "/reports/path-sessions/"


def _session_names(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/reports/path-sessions/\d+/">([^<]+)</a>', html)


def test_the_overview_lists_every_session_with_its_counts_and_freshness(
    cache, manager_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = manager_client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert _session_names(html) == ["Onboarding · Cohort 2", "Onboarding · Cohort 1", "Onboarding · Cohort 0"]
    assert "3 path sessions" in html
    # The bar of Cohort 1 names every status with its count and share (its text alternative);
    # shares are rounded so that they add up to 100.
    assert 'aria-label="Onboarding · Cohort 1: Not yet started: 1 (8.4%); On time: 2 (16.7%); Late: 2 (16.7%)' in html
    assert "Unsuccessful — session ended: 1 (8.3%)" in html
    assert '<td class="num">12</td>' in html and "16.7%" in html  # enrolled; 2 of 12 successful
    assert "Acme 360</strong>:\n    statistics as of" in html and "sync #" in html
    assert "badge-stale" not in html  # synced an hour ago
    assert 'id="pathsession-table"' in html and 'id="pathsession-filters"' in html


def test_the_fragment_is_the_table_region_only(cache, manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = manager_client.get(URL, {"phase": "ongoing"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="pathsession-table"')
    assert "<html" not in html and 'id="pathsession-filters"' not in html
    assert _session_names(html) == ["Onboarding · Cohort 1"]
    assert "HX-Request" in response["Vary"]


def test_htmx_restoring_history_gets_the_whole_page(cache, manager_client):
    response = manager_client.get(URL, headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert "<html" in response.content.decode()


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"phase": "ended"}, ["Onboarding · Cohort 0"]),
        ({"phase": "upcoming"}, ["Onboarding · Cohort 2"]),
        ({"status": "awaitingCorrection"}, ["Onboarding · Cohort 1"]),
        ({"status": "unsuccessful"}, ["Onboarding · Cohort 1", "Onboarding · Cohort 0"]),
        ({"search": "cohort 1"}, ["Onboarding · Cohort 1"]),
        ({"search": "onboarding 2025"}, ["Onboarding · Cohort 2", "Onboarding · Cohort 1", "Onboarding · Cohort 0"]),
        ({"search": "nothing like it"}, []),
    ],
)
def test_the_overview_filters_by_phase_status_and_search(cache, manager_client, query, expected):
    html = manager_client.get(URL, query).content.decode()

    assert _session_names(html) == expected


def test_the_date_range_keeps_the_sessions_open_at_some_point_in_it(cache, manager_client):
    today = timezone.localdate()
    html = manager_client.get(
        URL, {"active_from": today - timedelta(days=400), "active_to": today - timedelta(days=200)}
    ).content.decode()

    assert _session_names(html) == ["Onboarding · Cohort 0"]


def test_the_overview_filters_by_connection_and_path(cache, manager_client):
    from tests.reports.conftest import make_connection, make_path

    other = make_connection("Other 360")
    path = make_path(other, "Sales kick-off")
    make_session(other, path, "Kick-off · Spring", starts_in=-timedelta(days=3), lasts=None)

    by_connection = manager_client.get(URL, {"connection": other.pk}).content.decode()
    by_path = manager_client.get(URL, {"path": cache.path.pk}).content.decode()

    assert _session_names(by_connection) == ["Kick-off · Spring"]
    assert "Kick-off · Spring" not in by_path and len(_session_names(by_path)) == 3


def test_a_bad_filter_value_shows_its_error_and_the_other_filters_still_apply(cache, manager_client):
    html = manager_client.get(URL, {"phase": "ended", "active_from": "not a date"}).content.decode()

    assert "Enter a valid date." in html
    assert _session_names(html) == ["Onboarding · Cohort 0"]


def test_the_overview_sorts_by_success_rate_both_ways(cache, manager_client):
    ascending = manager_client.get(URL, {"sort": "completion"}).content.decode()
    descending = manager_client.get(URL, {"sort": "-completion"}).content.decode()

    # Cohort 2: 0 of 1; Cohort 1: 2 of 12; Cohort 0: 1 of 3.
    assert _session_names(ascending) == ["Onboarding · Cohort 2", "Onboarding · Cohort 1", "Onboarding · Cohort 0"]
    assert _session_names(descending) == ["Onboarding · Cohort 0", "Onboarding · Cohort 1", "Onboarding · Cohort 2"]
    assert 'aria-sort="descending"' in descending
    # The header link turns the order round and keeps the filters; the table carries the sort
    # into the filter form.
    assert 'href="?sort=completion"' in descending
    assert '<input type="hidden" name="sort" value="-completion" form="pathsession-filters">' in descending


def test_an_unknown_sort_falls_back_to_the_newest_start_first(cache, manager_client):
    html = manager_client.get(URL, {"sort": "password"}).content.decode()

    assert _session_names(html) == ["Onboarding · Cohort 2", "Onboarding · Cohort 1", "Onboarding · Cohort 0"]


def test_pages_link_with_htmx_and_plain_links_keeping_the_filters(cache, manager_client):
    for n in range(60):
        make_session(cache.acme, cache.path, f"Bulk cohort {n:02d}", starts_in=-timedelta(days=500 + n), lasts=None)

    html = manager_client.get(URL, {"search": "bulk", "sort": "name"}).content.decode()
    second = manager_client.get(URL, {"search": "bulk", "sort": "name", "page": 2}, headers=HTMX).content.decode()

    assert "Page 1 of 2 · 60 rows" in html
    assert 'href="?search=bulk&amp;sort=name&amp;page=2" hx-get="?search=bulk&amp;sort=name&amp;page=2"' in html
    assert _session_names(second) == [f"Bulk cohort {n:02d}" for n in range(50, 60)]


def test_stale_statistics_are_flagged(cache, manager_client):
    old = timezone.now() - timedelta(days=3)
    PathSession.objects.update(stats_synced_at=old)
    SyncRun.objects.filter(kind="sessions").update(ended_at=old)

    html = manager_client.get(URL).content.decode()

    # Cohort 0 ended long before that sync: its numbers are final, not stale.
    assert html.count('<span class="badge badge-stale" title="Older than 24 hours">stale</span>') == 2
    assert html.count('<span class="muted">final</span>') == 1
    assert "Stale: older than 24 h" in html


def test_a_session_without_learners_has_an_empty_bar(cache, manager_client):
    make_session(cache.acme, cache.path, "Empty cohort", starts_in=timedelta(days=90), lasts=None)

    html = manager_client.get(URL, {"search": "empty"}).content.decode()

    assert 'aria-label="Empty cohort: No learners"' in html and '<td class="num">—</td>' in html


def test_sessions_the_lms_no_longer_returns_are_not_listed(cache, manager_client):
    PathSession.objects.filter(pk=cache.ended.pk).update(gone_at=timezone.now())

    html = manager_client.get(URL).content.decode()

    assert "Onboarding · Cohort 0" not in html


def test_the_overview_needs_a_reporting_role(cache, client, carol):
    assert client.get(URL).status_code == 302
    client.force_login(carol)
    assert client.get(URL).status_code == 403
    assert client.get(URL, headers=HTMX).status_code == 403


def test_the_query_count_does_not_grow_with_sessions_or_learners(cache, manager_client, django_assert_max_num_queries):
    for n in range(40):
        session = make_session(cache.acme, cache.path, f"Cohort {n}", starts_in=-timedelta(days=n), lasts=None)
        for status in ("late", "onTime", "successful"):
            make_learner(session, status=status)

    with django_assert_max_num_queries(12):
        response = manager_client.get(URL)

    assert response.status_code == 200


def test_a_session_synced_after_it_ended_is_final_not_stale(cache, manager_client):
    long_ago = cache.ended.end_date + timedelta(days=3)
    PathSession.objects.filter(pk=cache.ended.pk).update(stats_synced_at=long_ago)

    html = manager_client.get(URL, {"phase": "ended"}).content.decode()
    detail = manager_client.get(f"/reports/path-sessions/{cache.ended.pk}/").content.decode()

    assert "badge-stale" not in html.split('id="pathsession-table"')[1] and '<span class="muted">final</span>' in html
    assert "final: the session had ended and its statuses had settled" in detail


def test_the_overview_gives_names_room_with_their_path_and_connection_beneath_and_a_key_to_the_bars(
    cache, manager_client
):
    html = manager_client.get(URL).content.decode()
    table = html.split('<div class="table-scroll">')[1].split("</table>")[0]
    assert '<table class="table sessions" aria-describedby="sessions-note">' in table  # scrolls in its box
    row = table.split(f'<a href="/reports/path-sessions/{cache.session.pk}/">Onboarding · Cohort 1</a>')[1]
    assert row.split("</th>")[0].strip() == (
        '<div class="session-facts muted">Onboarding &lt;b&gt;2025&lt;/b&gt; · Acme 360</div>'
    )
    assert '<td class="dates">' in row and '<div class="muted">Ongoing</div>' in row
    # Six columns, not nine: path, connection and phase sit under the name and the dates.
    assert table.split("</thead>")[0].count('<th scope="col"') == 6
    # Every sort of the old columns is still a link.
    for key in ("name", "path", "start", "end", "enrolled", "completion", "synced"):
        assert f'href="?sort={key}"' in table.split("</thead>")[0] or f'href="?sort=-{key}"' in html, key
    # The key names every detailed status and reason, with its colour and pattern.
    legend = html.split('<ul class="legend status-legend" id="status-legend"')[1].split("</ul>")[0]
    assert legend.count('<svg class="swatch"') == 10
    assert "Not yet started" in legend and "To retake — mandatory replay" in legend
    assert "Unsuccessful — session ended" in legend and "url(#pattern-unsuccessful-sessionEnded)" in legend


def test_the_path_session_page_keys_its_bar_with_the_same_legend_and_counts(cache, manager_client):
    html = manager_client.get(f"/reports/path-sessions/{cache.session.pk}/").content.decode()
    legend = html.split('<ul class="legend status-legend" id="status-legend"')[1].split("</ul>")[0]
    # Only the statuses its learners are in: all but "session not opened" (the session is ongoing).
    assert "On time: 2 (16.7%)" in legend and legend.count('<svg class="swatch"') == 9
