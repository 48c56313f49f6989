"""The report pages' charts and helpers: server-side SVG readable without colour (a pattern per
status, counts written in large bars, a text alternative), escaped text, sort headers."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template import Context, Template
from django.test import RequestFactory

from lms_cache.models import DETAILED_STATUSES, STATUS_REASONS
from reports import vocabulary
from reports.charts import Segment, StatusCounts, TrendPoint, segment_key, segments, shares
from reports.templatetags import report_tags


def test_shares_add_up_to_exactly_100():
    for values in ([1, 1, 1], [1, 2, 3, 4, 5, 6, 7], [99_999, 1], [1] * 12, [0, 5, 0]):
        assert round(sum(shares(values)), 1) == 100.0
    assert shares([0, 0]) == [0.0, 0.0]


def test_segments_leave_out_empty_parts():
    parts = segments([("late", "Late", 3), ("onTime", "On time", 0), ("successful", "Successful", 1)])

    assert [(s.key, s.count, s.percent) for s in parts] == [("late", 3, 75.0), ("successful", 1, 25.0)]


def test_a_status_bar_gives_each_status_its_pattern_title_and_text_alternative():
    counts = StatusCounts(counts={("late", ""): 3, ("toRetake", "mandatoryReplay"): 1})

    svg = report_tags.status_bar(counts.segments(), "large", "Cohort <1>")

    assert 'role="img"' in svg
    assert 'aria-label="Cohort &lt;1&gt;: Late: 3 (75%); To retake — mandatory replay: 1 (25%)"' in svg
    assert 'fill="url(#pattern-late)"' in svg and 'fill="url(#pattern-toRetake-mandatoryReplay)"' in svg
    assert "<title>Late: 3 (75%)</title>" in svg
    assert '<tspan class="bar-label-halo">3</tspan>' in svg  # counts written in the wide segments


def test_the_statuses_of_one_chart_differ_by_pattern_not_only_by_colour():
    detailed = [segment_key(s) for s in DETAILED_STATUSES]
    detailed += [segment_key(s, r) for s, reasons in STATUS_REASONS.items() for r in reasons]
    for keys in (detailed, list(vocabulary.completion_statuses())):
        patterns = [report_tags.STYLES[key][1] for key in keys]
        assert len(set(patterns)) == len(patterns)
    defs = report_tags.chart_patterns()
    for key in report_tags.STYLES:
        assert f'id="{report_tags.pattern_id(key)}"' in defs


def test_an_unknown_status_still_gets_a_pattern_and_its_name_escaped():
    svg = report_tags.status_bar([Segment("<new>", "<new>", 2, 100.0)])

    assert "url(#pattern-other)" in svg and "&lt;new&gt;" in svg and "<new>" not in svg


def test_the_trend_chart_draws_a_line_per_status_with_its_name_and_last_value():
    points = [
        TrendPoint(datetime(2025, 6, d, tzinfo=UTC), d, 10, 0, {"late": d, "onTime": 10 - d, "successful": 0})
        for d in (1, 2, 3)
    ]

    svg = report_tags.trend_chart(points)

    assert svg.count("<polyline") == 2  # successful stays at 0 all along: no line
    assert ">Late: 3</text>" in svg and ">On time: 7</text>" in svg
    assert 'stroke-dasharray="6 3"' in svg  # the second line is dashed, not only another colour
    assert "Learners per status over 3 syncs: On time from 9 to 7; Late from 1 to 3" in svg
    assert "2025-06-01" in svg and "2025-06-03" in svg


def test_a_trend_of_one_sync_is_drawn_and_no_sync_draws_nothing():
    point = TrendPoint(datetime(2025, 6, 1, tzinfo=UTC), 1, 2, 0, {"late": 2})

    assert "<polyline" in report_tags.trend_chart([point])
    assert report_tags.trend_chart([]) == ""


def test_a_sort_header_turns_the_order_round_and_keeps_the_filters():
    request = RequestFactory().get("/reports/path-sessions/", {"status": "late", "page": "3", "sort": "name"})
    template = Template(
        '{% load report_tags %}{% sort_header "name" "Name" %}{% sort_header "progress" "Progress" True %}'
    )

    html = template.render(Context({"request": request, "sort": "name"}))

    assert '<th scope="col" aria-sort="ascending"><a href="?status=late&amp;sort=-name"' in html
    assert '<th scope="col" class="num"><a href="?status=late&amp;sort=progress"' in html
    assert "page=" not in html


def test_durations_read_as_hours_minutes_and_seconds():
    assert report_tags.duration(3_723_000) == "1 h 02 min"
    assert report_tags.duration(260_000) == "4 min 20 s"
    assert report_tags.duration(12_400) == "12 s"
    assert report_tags.duration(None) == "—"
