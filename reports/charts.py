"""The numbers behind the report charts: status counts, bar segments and their shares, legends
and trend points. No query here: the selectors (``reports.selectors``) count, this shapes the
counts for the status bars and the trend chart (``reports.templatetags.report_tags``), the
tables beside them and the exports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from lms_cache.models import DETAILED_STATUSES, STATUS_REASONS
from reports import vocabulary


@dataclass(frozen=True)
class Segment:
    """One part of a status bar: what it counts (``key`` picks its pattern), its count and share."""

    key: str
    label: str
    count: int
    percent: float


def segments(parts: list[tuple[str, str, int]]) -> list[Segment]:
    """``(key, label, count)`` parts as bar segments, empty ones left out, shares adding up to 100."""
    parts = [part for part in parts if part[2]]
    percents = shares([count for _, _, count in parts])
    return [Segment(key, label, count, p) for (key, label, count), p in zip(parts, percents, strict=True)]


def segment_key(status: str, reason: str = "") -> str:
    return f"{status}-{reason}" if reason else status


@dataclass(frozen=True)
class LegendItem:
    """One entry of a status bar's legend (``templates/reports/_status_legend.html``)."""

    key: str
    label: str
    count: int | None = None
    percent: float | None = None


def status_legend() -> list[LegendItem]:
    """Every detailed status and reason a bar may show, in report order (the overview's legend)."""
    return [
        LegendItem(segment_key(status, reason), vocabulary.status_label(status, reason))
        for status, reason in leaf_keys({})
    ]


@dataclass
class StatusCounts:
    """Learners per detailed status and reason, e.g. ``{("toRetake", "mandatoryReplay"): 3}``."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    certificates: int = 0

    @property
    def enrolled(self) -> int:
        return sum(self.counts.values())

    def by_type(self) -> dict[str, int]:
        """Per status type in report order (known types always present, unknown ones appended)."""
        totals = dict.fromkeys(DETAILED_STATUSES, 0)
        for (status, _), n in self.counts.items():
            totals[status] = totals.get(status, 0) + n
        return totals

    def successful_rate(self) -> float | None:
        enrolled = self.enrolled
        return round(100 * self.by_type()["successful"] / enrolled, 1) if enrolled else None

    def segments(self) -> list[Segment]:
        """Non-empty (status, reason) parts in report order, percentages summing to 100."""
        return segments(
            [
                (
                    segment_key(status, reason),
                    vocabulary.status_label(status, reason),
                    self.counts.get((status, reason), 0),
                )
                for status, reason in leaf_keys(self.counts)
            ]
        )


def leaf_keys(counts: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    """Every (status, reason) the API defines, in report order, then any the LMS added since."""
    keys = []
    for status in DETAILED_STATUSES:
        keys.append((status, ""))
        keys += [(status, reason) for reason in STATUS_REASONS.get(status, ())]
    return keys + sorted(key for key in counts if key not in keys)


def shares(values: list[int], *, decimals: int = 1) -> list[float]:
    """Percentages of ``values`` rounded so that they add up to exactly 100 (largest remainder)."""
    total = sum(values)
    if not total:
        return [0.0 for _ in values]
    scale = 100 * 10**decimals
    exact = [scale * v / total for v in values]
    floors = [math.floor(x) for x in exact]
    order = sorted(range(len(values)), key=lambda i: (exact[i] - floors[i], values[i]), reverse=True)
    for i in order[: scale - sum(floors)]:
        floors[i] += 1
    return [f / 10**decimals for f in floors]


@dataclass(frozen=True)
class TrendPoint:
    taken_at: datetime
    sync_run_id: int | None
    enrolled: int
    certificates: int
    by_type: dict[str, int]

    @property
    def type_counts(self) -> list[tuple[str, str, int]]:
        """``(status, label, count)`` per detailed status the provider names, in its order (the
        trend table's columns)."""
        return [(status, label, self.by_type.get(status, 0)) for status, label in vocabulary.status_labels().items()]
