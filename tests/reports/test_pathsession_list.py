"""The sessions overview: every path session with its dates, enrolled count, a status bar, its
success rate and how fresh its numbers are; filters, sort, search and pages; the table region
as an htmx fragment; managers and admins only; a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from lms_cache.models import PathSession
from tests.reports.conftest import HTMX, make_learner, make_session
from tests.support.html import assert_fragment, assertInHTML, attr, find, find_all, text

URL = "/reports/path-sessions/"


def _rows(html: str) -> list:
    """The sessions table's body rows (none when nothing matches: no table then)."""
    return [row for body in find_all(find(html, id="pathsession-table"), "tbody") for row in find_all(body, "tr")]


def _session_names(html: str) -> list[str]:
    """Each row's session name: the link in its header cell."""
    return [text(find(find(row, "th", scope="row"), "a")) for row in _rows(html)]


def _legend(html: str) -> list[str]:
    """The key to the bars: one entry per status (and reason), each with its swatch."""
    items = find_all(find(html, "ul", id="status-legend"), "li")
    assert all(find_all(item, "svg", class_="swatch") for item in items)
    return [text(item) for item in items]


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
    cohort_1 = _rows(html)[1]
    enrolled, successful = find_all(cohort_1, "td", class_="num")
    assert (text(enrolled), text(successful)) == ("12", "16.7%")  # 2 of 12 successful
    assert "Acme 360</strong>:\n    statistics as of" in html and "sync #" in html
    assert "badge-stale" not in html  # synced an hour ago
    assert find(html, id="pathsession-table") and find(html, "form", id="pathsession-filters")


def test_the_fragment_is_the_table_region_only(cache, manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = manager_client.get(URL, {"phase": "ongoing"}, headers=HTMX)

    html = response.content.decode()
    assert_fragment(html, "div", "pathsession-table")
    assert not find_all(html, id="pathsession-filters")
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
    assertInHTML('<input type="hidden" name="sort" value="-completion" form="pathsession-filters">', descending)


def test_an_unknown_sort_falls_back_to_the_newest_start_first(cache, manager_client):
    html = manager_client.get(URL, {"sort": "password"}).content.decode()

    assert _session_names(html) == ["Onboarding · Cohort 2", "Onboarding · Cohort 1", "Onboarding · Cohort 0"]


def test_pages_link_with_htmx_and_plain_links_keeping_the_filters(cache, manager_client):
    for n in range(60):
        make_session(cache.acme, cache.path, f"Bulk cohort {n:02d}", starts_in=-timedelta(days=500 + n), lasts=None)

    html = manager_client.get(URL, {"search": "bulk", "sort": "name"}).content.decode()
    second = manager_client.get(URL, {"search": "bulk", "sort": "name", "page": 2}, headers=HTMX).content.decode()

    assert "Page 1 of 2 · 60 rows" in html
    next_page = find_all(html, "a", href="?search=bulk&sort=name&page=2")
    assert next_page and all(attr(a, "hx-get") == "?search=bulk&sort=name&page=2" for a in next_page)
    assert _session_names(second) == [f"Bulk cohort {n:02d}" for n in range(50, 60)]


def test_stale_statistics_are_flagged(cache, manager_client):
    old = timezone.now() - timedelta(days=3)
    PathSession.objects.update(stats_synced_at=old)
    SyncRun.objects.filter(kind="sessions").update(ended_at=old)

    html = manager_client.get(URL).content.decode()

    # Cohort 0 ended long before that sync: its numbers are final, not stale.
    assertInHTML('<span class="badge badge-stale" title="Older than 24 hours">stale</span>', html, count=2)
    assertInHTML('<span class="muted">final</span>', html, count=1)
    assert "Stale: older than 24 h" in html


def test_a_session_without_learners_has_an_empty_bar(cache, manager_client):
    make_session(cache.acme, cache.path, "Empty cohort", starts_in=timedelta(days=90), lasts=None)

    html = manager_client.get(URL, {"search": "empty"}).content.decode()

    assert find_all(html, aria_label="Empty cohort: No learners")
    (row,) = _rows(html)
    assert [text(td) for td in find_all(row, "td", class_="num")] == ["0", "—"]  # enrolled, successful


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

    assert not find_all(find(html, id="pathsession-table"), class_="badge-stale")
    assertInHTML('<span class="muted">final</span>', html)
    assert "final: the session had ended and its statuses had settled" in detail


def test_the_overview_gives_names_room_with_their_path_and_connection_beneath_and_a_key_to_the_bars(
    cache, manager_client
):
    html = manager_client.get(URL).content.decode()
    table = find(find(html, "div", class_="table-scroll"), "table")  # scrolls in its box
    assert (attr(table, "class"), attr(table, "aria-describedby")) == ("sessions table", "sessions-note")
    row = next(row for row in _rows(html) if text(find(row, "th", scope="row")).startswith("Onboarding · Cohort 1"))
    name = find(row, "th", scope="row")
    assertInHTML(f'<a href="/reports/path-sessions/{cache.session.pk}/">Onboarding · Cohort 1</a>', str(name))
    assert text(find(name, "div", class_="session-facts")) == "Onboarding <b>2025</b> · Acme 360"  # text, not markup
    assert text(find(find(row, "td", class_="dates"), "div", class_="muted")) == "Ongoing"
    # Six columns, not nine: path, connection and phase sit under the name and the dates.
    head = find(table, "thead")
    assert len(find_all(head, "th", scope="col")) == 6
    # Every sort of the old columns is still a link.
    sorts = {attr(a, "href") for a in find_all(head, "a")}
    for key in ("name", "path", "start", "end", "enrolled", "completion", "synced"):
        assert f"?sort={key}" in sorts or f"?sort=-{key}" in sorts, key
    # The key names every detailed status and reason, with its colour and pattern.
    legend = _legend(html)
    assert len(legend) == 10
    assert "Not yet started" in legend and "To retake — mandatory replay" in legend
    assert "Unsuccessful — session ended" in legend
    assert find_all(find(html, "ul", id="status-legend"), fill="url(#pattern-unsuccessful-sessionEnded)")


def test_the_path_session_page_keys_its_bar_with_the_same_legend_and_counts(cache, manager_client):
    html = manager_client.get(f"/reports/path-sessions/{cache.session.pk}/").content.decode()
    legend = _legend(html)
    # Only the statuses its learners are in: all but "session not opened" (the session is ongoing).
    assert "On time: 2 (16.7%)" in legend and len(legend) == 9
