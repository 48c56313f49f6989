"""One path session's report: the breakdown by detailed status and reason (counts and shares
that add up to the enrolled total, beside the LMS's own counts, each count a link filtering the
learner table), the trend over the sync snapshots, and the learner table with its filters,
sort and pages; the htmx fragments; access; at most 15 queries."""

from __future__ import annotations

import pytest
from django.utils import timezone

from lms_cache.models import PathSessionStatusCounts, PathSessionUserStat
from reports.filters import ReportFilters
from reports.selectors.path_sessions import path_session_breakdown, path_session_get
from tests.reports.conftest import (
    HTMX,
    breakdown_cells,
    breakdown_enrolled,
    make_learner,
    store_lms_counts,
)
from tests.support.html import assert_fragment, assertInHTML, find, find_all, text


def _url(cache) -> str:
    return f"/reports/path-sessions/{cache.session.pk}/"


def _learner_rows(html: str) -> list[str]:
    """The learner table's rows, each by its header cell: the learner's name."""
    return [text(th) for th in find_all(find(html, id="learner-table"), "th", scope="row")]


def _learner_column(html: str, column: int) -> list[str]:
    """The text of one data column of the learner table (0: mail, 4: progress), top to bottom."""
    rows = find_all(find(find(html, id="learner-table"), "tbody"), "tr")
    return [text(find_all(row, "td")[column]) for row in rows]


def test_the_report_shows_every_detailed_status_and_reason_summing_to_the_enrolled_total(
    cache, manager_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        response = manager_client.get(_url(cache))

    html = response.content.decode()
    assert response.status_code == 200
    cells = breakdown_cells(html)
    # notYetStarted, onTime, late, awaitingCorrection, successful, toRetake (none, mandatoryReplay),
    # unsuccessful (none, sessionEnded), sessionNotOpened.
    assert [int(n) for n, _ in cells] == [1, 2, 2, 1, 2, 1, 1, 1, 1, 0]
    assert sum(int(n) for n, _ in cells) == 12
    assert round(sum(float(p) for _, p in cells), 1) == 100.0
    assert breakdown_enrolled(html) == ["Enrolled", "12", "100%", "12"]
    # toRetake and unsuccessful span their reasons.
    spanning = find_all(find(html, "table", id="breakdown-table"), "th", scope="rowgroup", rowspan="2")
    assert [find(th, "code").children for th in spanning] == [["toRetake"], ["unsuccessful"]]
    assert "mandatory replay <code>mandatoryReplay</code>" in html and "session ended <code>sessionEnded</code>" in html
    assert "These counts equal 360Learning's own counts for this session." in html


def test_a_count_that_differs_from_the_lms_is_flagged(cache, manager_client):
    store_lms_counts(cache.session, late=3)

    html = manager_client.get(_url(cache)).content.decode()

    assert "These counts differ from 360Learning's own for 1 status" in html
    assert '3 <strong class="error-text">(differs)</strong>' in html


def test_the_breakdown_matches_the_lms_counts_of_the_session(cache):
    session = path_session_get(pk=cache.session.pk, filters=ReportFilters())

    breakdown = path_session_breakdown(session=session, filters=ReportFilters())

    assert breakdown.counts.by_type() == session.lms_counts.by_status()
    assert breakdown.differences == {} and breakdown.enrolled == session.lms_counts.enrolled == 12
    assert breakdown.counts.certificates == session.lms_counts.certificates == 2


def test_each_count_links_to_the_learners_in_that_status_with_and_without_javascript(cache, manager_client):
    html = manager_client.get(_url(cache)).content.decode()

    assert 'href="?status=late#learners"' in html
    assert 'hx-get="?status=late"' in html and 'hx-target="#learners"' in html
    # A status with reasons: its reasonless learners, and each reason, separately.
    assert 'href="?status=toRetake&amp;reason=none#learners"' in html
    assert 'href="?status=toRetake&amp;reason=mandatoryReplay#learners"' in html
    assert 'href="?status=sessionNotOpened' not in html  # no learner: no link


def test_following_a_count_filters_the_learner_table(cache, manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        page = manager_client.get(_url(cache), {"status": "late"}).content.decode()
    with django_assert_max_num_queries(10):
        section = manager_client.get(
            _url(cache), {"status": "toRetake", "reason": "none"}, headers={**HTMX, "HX-Target": "learners"}
        ).content.decode()

    assert len(_learner_rows(page)) == 2 and "2 learners match these filters" in page
    assert_fragment(section, "section", "learners")
    assertInHTML('<option value="toRetake" selected>To retake</option>', section)
    assertInHTML('<option value="none" selected>No reason</option>', section)
    assert "1 learner match these filters" in section and not find_all(section, id="breakdown-table")


def test_the_learner_table_fragment_is_the_table_only(cache, manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = manager_client.get(_url(cache), {"search": "zoë"}, headers={**HTMX, "HX-Target": "learner-table"})

    html = response.content.decode()
    assert_fragment(html, "div", "learner-table")
    assert not find_all(html, id="learner-filters")
    assert _learner_rows(html) == ['Zoë "Z" O\'Brien-Dubois, Jr. second line']


@pytest.mark.parametrize(
    "query,count",
    [
        ({}, 12),
        ({"status": "unsuccessful"}, 2),
        ({"status": "unsuccessful", "reason": "sessionEnded"}, 1),
        ({"reason": "none"}, 10),
        ({"search": "Mallory"}, 1),
        ({"search": "acme.example zoe"}, 1),
        ({"search": "nobody"}, 0),
    ],
)
def test_the_learner_table_filters_by_status_reason_and_search(cache, manager_client, query, count):
    html = manager_client.get(_url(cache), query).content.decode()

    assert len(_learner_rows(html)) == count


def test_the_learner_table_filters_by_group(cache, manager_client):
    html = manager_client.get(_url(cache), {"group": cache.sales.pk}).content.decode()

    assertInHTML(f'<option value="{cache.engineering.pk}">Ingénierie</option>', html)  # the connection's groups
    rows = _learner_rows(html)
    assert len(rows) == 2 and any("Mallory" in row for row in rows) and not any("Zoë" in row for row in rows)


def test_the_learner_table_shows_each_learner_with_their_statistics(cache, manager_client):
    html = manager_client.get(_url(cache), {"search": "zoe@acme.example"}).content.decode()
    table = find(html, id="learner-table")

    (row,) = find_all(find(table, "tbody"), "tr")
    cells = [text(td) for td in find_all(row, "td")]
    for cell in (
        "zoe@acme.example",
        "Ingénierie",
        "Successful",
        "100%",
        "80",
        "1 h 02 min",
        "Yes",
        "Österreich",
        "E-1",
    ):
        assert cell in cells, cell
    assert [text(th) for th in find_all(find(table, "thead"), "th")][-2:] == ["Country", "Employee ID"]


def test_the_learner_table_sorts_and_keeps_the_sort_in_the_filter_form(cache, manager_client):
    html = manager_client.get(_url(cache), {"sort": "-progress", "status": "unsuccessful"}).content.decode()

    rows = _learner_rows(html)
    assert len(rows) == 2
    assert _learner_column(html, 4) == ["100%", "40%"]  # progress
    assertInHTML('<input type="hidden" name="sort" value="-progress" form="learner-filters">', html)
    assert (
        'href="?sort=progress&amp;status=unsuccessful"' in html
        or 'href="?status=unsuccessful&amp;sort=progress"' in html
    )


def test_the_learner_table_pages_through_a_large_session(cache, manager_client, django_assert_max_num_queries):
    PathSessionUserStat.objects.bulk_create(
        [
            PathSessionUserStat(
                connection=cache.acme, session=cache.session, session_remote_id=cache.session.remote_id,
                remote_id=f"bulk{n:020d}", user_remote_id=f"user{n:020d}", first_name="Bulk", last_name=f"Learner {n:03d}",
                status_type="onTime", synced_at=timezone.now(), custom_fields={"Country": "Italia"},
            )
            for n in range(120)
        ]
    )  # fmt: skip
    store_lms_counts(cache.session)

    with django_assert_max_num_queries(15):
        html = manager_client.get(_url(cache), {"page": 3, "search": "bulk"}).content.decode()

    assert "Page 3 of 3 · 120 rows" in html and len(_learner_rows(html)) == 20
    assert "120 learners match these filters" in html
    assert breakdown_enrolled(html)[:2] == ["Enrolled", "132"]


def test_the_trend_shows_the_counts_after_each_sync(cache, manager_client):
    html = manager_client.get(_url(cache)).content.decode()

    trend = find(html, "table", id="trend-table")
    assert len(find_all(find(trend, "tbody"), "th", scope="row")) == 2
    assert find_all(html, "svg", class_="trend-chart")
    assert (
        "Learners per status over 2 syncs: Not yet started from 6 to 1; On time from 3 to 2; Late from 1 to 2" in html
    )


def test_the_trend_table_gives_each_status_its_column(cache, manager_client):
    html = manager_client.get(_url(cache)).content.decode()

    trend = find(html, "table", id="trend-table")
    header = [text(th) for th in find_all(find(trend, "thead"), "th")]
    assert header == [
        "Sync taken at", "Enrolled", "Not yet started", "On time", "Late", "Awaiting correction", "Successful",
        "To retake", "Unsuccessful", "Session not opened", "Certificates",
    ]  # fmt: skip
    rows = find_all(find(trend, "tbody"), "tr")
    # Enrolled, then one count per status (a status the snapshot lacks counts 0), then certificates.
    assert [text(td) for td in find_all(rows[0], "td")] == ["10", "6", "3", "1", "0", "0", "0", "0", "0", "0"]
    assert [text(td) for td in find_all(rows[1], "td")] == ["12", "1", "2", "2", "1", "2", "2", "2", "0", "0"]


def test_the_learner_table_gives_each_custom_field_its_column(cache, manager_client):
    make_learner(cache.session, status="onTime", last_name="Adler", custom_fields={"Team": "Nord", "Country": "Italia"})
    make_learner(cache.session, status="onTime", last_name="Baum", custom_fields={"department": "Ventes"})

    html = manager_client.get(_url(cache), {"sort": "name"}).content.decode()

    table = find(html, id="learner-table")
    header = [text(th) for th in find_all(find(table, "thead"), "th")]
    # Every name any learner of the page has, sorted regardless of case, after the fixed columns.
    assert header[-4:] == ["Country", "department", "Employee ID", "Team"]
    cells = {
        text(find(row, "th")): [text(td) for td in find_all(row, "td")][-4:]
        for row in find_all(find(table, "tbody"), "tr")
    }
    assert cells["Learner Adler"] == ["Italia", "—", "—", "Nord"]
    assert cells["Learner Baum"] == ["—", "Ventes", "—", "—"]


def test_a_session_without_snapshot_says_so(cache, manager_client):
    cache.session.snapshots.all().delete()

    html = manager_client.get(_url(cache)).content.decode()

    assert "No snapshot yet" in html and "trend-chart" not in html


def test_a_session_never_synced_has_no_lms_counts_to_compare(cache, manager_client):
    PathSessionStatusCounts.objects.filter(session=cache.session).delete()

    html = manager_client.get(_url(cache)).content.decode()

    assert "360Learning’s count" in html and "These counts equal" not in html
    assert breakdown_enrolled(html)[-1] == "—"


def test_learners_who_left_the_session_are_not_counted(cache, manager_client):
    make_learner(cache.session, status="late")  # current
    gone = make_learner(cache.session, status="late")
    PathSessionUserStat.objects.filter(pk=gone.pk).update(gone_at=timezone.now())

    html = manager_client.get(_url(cache), {"status": "late"}).content.decode()

    assert len(_learner_rows(html)) == 3


def test_an_unknown_or_gone_session_is_not_found(cache, manager_client):
    from lms_cache.models import PathSession

    PathSession.objects.filter(pk=cache.ended.pk).update(gone_at=timezone.now())

    assert manager_client.get("/reports/path-sessions/999999/").status_code == 404
    assert manager_client.get(f"/reports/path-sessions/{cache.ended.pk}/").status_code == 404


def test_the_report_needs_a_reporting_role(cache, client, carol, admin_client):
    assert client.get(_url(cache)).status_code == 302
    client.force_login(carol)
    assert client.get(_url(cache), headers=HTMX).status_code == 403
    assert admin_client.get(_url(cache)).status_code == 200
