"""Charts and table helpers of the report pages: server-side SVG (no script, no CDN) and sort links.

Charts are readable without colour: every status has a pattern as well as a colour, large bars
write their counts in the segments, every segment has a ``<title>``, each chart has a text
alternative (``aria-label``), and every chart stands next to a table of the same numbers.

    {% load report_tags %}
    {% chart_patterns %}                       once per page: the patterns the charts fill with
    {% status_bar segments %}                  a stacked bar (``size="large"`` writes counts in it)
    {% swatch key %}                           a legend square
    {% trend_chart points %}                   counts per status over the sync snapshots
    {% sort_header "name" "Name" %}            a sortable column header (needs ``sort`` in context)
    {% sort_link "path" "Path" %}              a sort link, for a header that sorts several ways
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from lms_cache.models import DETAILED_STATUSES
from reports import vocabulary
from reports.charts import Segment, TrendPoint

register = template.Library()

# (colour, pattern) per segment key: detailed statuses (and reasons), then iSpring statuses.
STYLES: dict[str, tuple[str, str]] = {
    "notYetStarted": ("#6b7486", "dots"),
    "onTime": ("#2563b0", "vertical"),
    "late": ("#c2570c", "diagonal"),
    "awaitingCorrection": ("#6b46c1", "horizontal"),
    "successful": ("#17663a", "solid"),
    "toRetake": ("#8a5a00", "backdiagonal"),
    "toRetake-mandatoryReplay": ("#8a5a00", "grid"),
    "unsuccessful": ("#a1261b", "cross"),
    "unsuccessful-sessionEnded": ("#6e1a12", "checker"),
    "sessionNotOpened": ("#8d96a8", "dashes"),
    "not_started": ("#6b7486", "dots"),
    "in_progress": ("#2563b0", "vertical"),
    "pending": ("#6b46c1", "horizontal"),
    "complete": ("#17663a", "solid"),
    "passed": ("#0f766e", "diagonal"),
    "accepted": ("#3f6212", "grid"),
    "incomplete": ("#8a5a00", "backdiagonal"),
    "failed": ("#a1261b", "cross"),
    "declined": ("#6e1a12", "checker"),
}
FALLBACK_STYLE = ("#4b5563", "diagonal")
# White marks over the colour, 8×8 tiles.
PATTERN_MARKS = {
    "solid": "",
    "dots": '<circle cx="2" cy="2" r="1.3" fill="#fff"/><circle cx="6" cy="6" r="1.3" fill="#fff"/>',
    "vertical": '<path d="M2 0V8M6 0V8" stroke="#fff" stroke-width="1.4"/>',
    "horizontal": '<path d="M0 2H8M0 6H8" stroke="#fff" stroke-width="1.4"/>',
    "diagonal": '<path d="M-2 2L2 -2M0 8L8 0M6 10L10 6" stroke="#fff" stroke-width="1.4"/>',
    "backdiagonal": '<path d="M-2 6L2 10M0 0L8 8M6 -2L10 2" stroke="#fff" stroke-width="1.4"/>',
    "grid": '<path d="M4 0V8M0 4H8" stroke="#fff" stroke-width="1.2"/>',
    "cross": '<path d="M0 0L8 8M8 0L0 8" stroke="#fff" stroke-width="1.2"/>',
    "checker": '<rect width="4" height="4" fill="#fff" fill-opacity=".55"/><rect x="4" y="4" width="4" height="4" fill="#fff" fill-opacity=".55"/>',
    "dashes": '<path d="M1 2H4M5 6H8" stroke="#fff" stroke-width="1.6"/>',
}
LINE_DASHES = ("", "6 3", "2 3", "9 3 2 3", "1 3", "12 4", "4 2", "3 3 9 3")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "x", "bar", "ring")


def _style(key: str) -> tuple[str, str]:
    return STYLES.get(key, FALLBACK_STYLE)


def pattern_id(key: str) -> str:
    return f"pattern-{''.join(ch if ch.isalnum() else '-' for ch in key)}"


@register.simple_tag
def chart_patterns() -> SafeString:
    """A hidden SVG holding one ``<pattern>`` per known key; charts on the page refer to them."""
    tiles = []
    for key, (colour, kind) in STYLES.items():
        tiles.append(
            f'<pattern id="{pattern_id(key)}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{colour}"/>{PATTERN_MARKS[kind]}</pattern>'
        )
    colour, kind = FALLBACK_STYLE
    tiles.append(
        f'<pattern id="pattern-other" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{colour}"/>{PATTERN_MARKS[kind]}</pattern>'
    )
    return mark_safe(  # noqa: S308  (constant markup, no user input)
        '<svg class="chart-patterns" width="0" height="0" aria-hidden="true" focusable="false"><defs>'
        + "".join(tiles)
        + "</defs></svg>"
    )


def _fill(key: str) -> str:
    return f"url(#{pattern_id(key) if key in STYLES else 'pattern-other'})"


@register.simple_tag
def swatch(key: str) -> SafeString:
    return format_html(
        '<svg class="swatch" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false">'
        '<rect x=".5" y=".5" width="13" height="13" fill="{}" stroke="#1d2433" stroke-width="1"/></svg>',
        _fill(key),
    )


def _summary(segments: list[Segment]) -> str:
    return "; ".join(f"{s.label}: {s.count} ({s.percent:g}%)" for s in segments) or "No learners"


@register.simple_tag
def status_bar(segments: list[Segment], size: str = "small", caption: str = "") -> SafeString:
    """A horizontal stacked bar of ``segments`` (their shares add up to 100)."""
    large = size == "large"
    width, height = (1000, 44) if large else (160, 16)
    summary = f"{caption}: {_summary(segments)}" if caption else _summary(segments)
    parts = []
    x = 0.0
    for segment in segments:
        w = width * segment.percent / 100
        parts.append(
            format_html(
                '<rect x="{}" y="0" width="{}" height="{}" fill="{}" stroke="#fff" stroke-width="{}">'
                "<title>{}: {} ({}%)</title></rect>",
                f"{x:.2f}",
                f"{w:.2f}",
                height,
                _fill(segment.key),
                "2" if large else "1",
                segment.label,
                segment.count,
                f"{segment.percent:g}",
            )
        )
        if large and w >= 44:
            text = f"{segment.count}"
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" class="bar-label" aria-hidden="true">'
                    '<tspan class="bar-label-halo">{}</tspan></text>',
                    f"{x + w / 2:.2f}",
                    height / 2 + 5,
                    text,
                )
            )
        x += w
    if not segments:
        parts.append(
            format_html(
                '<rect width="{}" height="{}" fill="#fff" stroke="#9aa3b5" stroke-dasharray="4 3"/>', width, height
            )
        )
    return format_html(
        '<svg class="status-bar status-bar-{}" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" aria-label="{}">{}</svg>',
        "large" if large else "small",
        width,
        height,
        summary,
        mark_safe("".join(parts)),  # noqa: S308  (every part built with format_html)
    )


def _nice_max(value: int) -> int:
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value and top % 4 == 0:
            return top
    return ((value + 3) // 4) * 4


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if kind == "triangle":
        return f'<path d="M{x:.1f} {y - 4.5:.1f}L{x + 4.5:.1f} {y + 3.5:.1f}H{x - 4.5:.1f}Z" fill="{colour}"/>'
    if kind == "diamond":
        return f'<path d="M{x:.1f} {y - 4.5:.1f}L{x + 4.5:.1f} {y:.1f}L{x:.1f} {y + 4.5:.1f}L{x - 4.5:.1f} {y:.1f}Z" fill="{colour}"/>'
    if kind == "cross":
        return f'<path d="M{x - 4:.1f} {y:.1f}H{x + 4:.1f}M{x:.1f} {y - 4:.1f}V{y + 4:.1f}" stroke="{colour}" stroke-width="2.2"/>'
    if kind == "x":
        return f'<path d="M{x - 3.5:.1f} {y - 3.5:.1f}L{x + 3.5:.1f} {y + 3.5:.1f}M{x + 3.5:.1f} {y - 3.5:.1f}L{x - 3.5:.1f} {y + 3.5:.1f}" stroke="{colour}" stroke-width="2.2"/>'
    if kind == "bar":
        return f'<rect x="{x - 1.5:.1f}" y="{y - 5:.1f}" width="3" height="10" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#fff" stroke="{colour}" stroke-width="2"/>'


@register.simple_tag
def trend_chart(points: list[TrendPoint]) -> SafeString:
    """Learners per detailed status after each sync (x: the syncs in order; y: learners), one
    line per status with its own dash and marker, named at its end."""
    if not points:
        return mark_safe("")
    width, height = 860, 280
    left, right, top, bottom = 48, 220, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    statuses = [s for s in DETAILED_STATUSES if any(p.by_type.get(s) for p in points)]
    statuses += sorted({s for p in points for s, n in p.by_type.items() if n and s not in DETAILED_STATUSES})
    top_value = _nice_max(max([p.by_type.get(s, 0) for p in points for s in statuses] or [0]))
    n = len(points)

    def xy(index: int, value: int) -> tuple[float, float]:
        x = left + (plot_w * index / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * value / top_value

    out = []
    for tick in range(5):
        value = top_value * tick // 4
        _, y = xy(0, value)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{value}</text>'
        )
    ticks = sorted({0, n - 1, (n - 1) // 2})
    for index in ticks:
        x, _ = xy(index, 0)
        label = points[index].taken_at.strftime("%Y-%m-%d %H:%M")
        anchor = "start" if index == 0 and n > 1 else ("end" if index == n - 1 and n > 1 else "middle")
        out.append(f'<text x="{x:.1f}" y="{height - 14}" text-anchor="{anchor}" class="axis">{escape(label)}</text>')
    labels = []
    for number, status in enumerate(statuses):
        colour = _style(status)[0]
        dash = LINE_DASHES[number % len(LINE_DASHES)]
        marker = MARKERS[number % len(MARKERS)]
        coords = [xy(i, p.by_type.get(status, 0)) for i, p in enumerate(points)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        name = vocabulary.status_label(status)
        out.append(
            f'<g class="series"><title>{escape(name)}</title>'
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
            + "".join(_marker(marker, x, y, colour) for x, y in coords)
            + "</g>"
        )
        last = points[-1].by_type.get(status, 0)
        labels.append([coords[-1][1], f"{name}: {last}", colour, marker])
    # Names at the right end of their lines, nudged apart so none overlaps.
    labels.sort(key=lambda item: item[0])
    for i in range(1, len(labels)):
        labels[i][0] = max(labels[i][0], labels[i - 1][0] + 14)
    overflow = labels[-1][0] - (top + plot_h) if labels else 0
    if overflow > 0:
        for item in labels:
            item[0] -= overflow
    for y, text, colour, marker in labels:
        x = left + plot_w + 14
        out.append(_marker(marker, x, y, colour))
        out.append(f'<text x="{x + 9}" y="{y + 4:.1f}" class="series-label">{escape(text)}</text>')
    description = "; ".join(
        f"{vocabulary.status_label(s)} from {points[0].by_type.get(s, 0)} to {points[-1].by_type.get(s, 0)}"
        for s in statuses
    )
    return format_html(
        '<svg class="trend-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width,
        height,
        f"Learners per status over {n} sync{'s' if n != 1 else ''}: {description}",
        mark_safe("".join(out)),  # noqa: S308  (numbers and escaped text only)
    )


def _sort_target(context: dict[str, Any], key: str) -> tuple[str, str, bool, bool]:
    """(href, arrow, active, descending) of a link sorting by ``key`` (the other way round when
    it already does), keeping the filters."""
    request = context["request"]
    current = context.get("sort", "")
    active = current.removeprefix("-") == key
    descending = current.startswith("-")
    target = ("" if descending else "-") + key if active else key
    query = request.GET.copy()
    query.pop("page", None)
    query["sort"] = target
    arrow = ("▼" if descending else "▲") if active else ""
    return "?" + query.urlencode(), arrow, active, descending


@register.simple_tag(takes_context=True)
def sort_link(context: dict[str, Any], key: str, label: str) -> SafeString:
    """A link that sorts by ``key``, for a header holding several (``sort_header`` is one per cell)."""
    href, arrow, active, descending = _sort_target(context, key)
    return format_html(
        '<a href="{}" hx-get="{}" hx-push-url="true"{}>{}<span aria-hidden="true">{}</span></a>',
        href,
        href,
        format_html(' aria-current="true" title="Sorted {}"', "descending" if descending else "ascending")
        if active
        else "",
        label,
        f"\u00a0{arrow}" if arrow else "",
    )


@register.simple_tag(takes_context=True)
def sort_header(context: dict[str, Any], key: str, label: str, numeric: bool = False) -> SafeString:
    """A column header that sorts by ``key`` (then the other way round), keeping the filters."""
    href, arrow, active, descending = _sort_target(context, key)
    aria = (' aria-sort="descending"' if descending else ' aria-sort="ascending"') if active else ""
    return format_html(
        '<th scope="col"{}{}><a href="{}" hx-get="{}" hx-push-url="true">{}<span aria-hidden="true">{}</span></a></th>',
        mark_safe(aria),  # noqa: S308  (constant)
        mark_safe(' class="num"') if numeric else "",  # noqa: S308  (constant)
        href,
        href,
        label,
        f"\u00a0{arrow}" if arrow else "",
    )


@register.filter
def duration(ms: int | None) -> str:
    """Milliseconds as "2 h 05 min", "4 min 20 s" or "12 s"; "—" when unknown."""
    if ms is None:
        return "—"
    seconds = int(round(ms / 1000))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


@register.filter
def seconds_duration(seconds: int | None) -> str:
    return "—" if seconds is None else duration(seconds * 1000)


@register.filter
def percent(rate: float | None) -> str:
    """A 0–1 rate as "42.5%"."""
    return "—" if rate is None else f"{100 * rate:.1f}%"


@register.filter
def status_name(status: str) -> str:
    """A detailed status's name in words ("toRetake" → "To retake")."""
    return vocabulary.status_label(status)


@register.filter
def reason_name(reason: str) -> str:
    return vocabulary.reason_label(reason)


@register.simple_tag
def shared_badge(shared: str, label: str = "") -> SafeString:
    """A shared status (``reports.vocabulary``) as a small badge, "—" for an unknown raw status."""
    if not shared:
        return format_html('<span class="badge shared shared-unknown">—</span>')
    return format_html(
        '<span class="badge shared shared-{}">{}</span>', shared, label or vocabulary.shared_status_label(shared)
    )
