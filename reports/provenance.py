"""Where a report's numbers come from: the facts every report page and every export carries.

- **as of**: the last completed sync of the data shown, per connection whose rows are shown (its
  time, its sync run and the source API, v1 and/or v2), and a stale flag past the connection's
  threshold;
- the **filters** applied and the reader's **scope** (``reports.scopes``);
- the **row count**.

Exports carry them in their file name (``…_as-of-2026-12-03T0800Z_sync-12.csv``, ``_stale``
when stale) and, when asked (``?provenance=1``, ``export_report --provenance``), in one
sidecar row above the header. It is off by default so a file stays machine-readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone

from lms_cache.models import PathSession
from reports.filters import ReportFilters
from reports.freshness import Freshness, learner_freshness, report_freshness, session_freshness
from reports.scopes import Scope

EVERY_LEARNER = "every learner"
#: The query-string switch of an export's sidecar row.
PROVENANCE_PARAM = "provenance"


@dataclass(frozen=True)
class Source:
    connection: str
    freshness: Freshness

    def describe(self) -> str:
        fresh = self.freshness
        if fresh.as_of is None:
            return f"{self.connection}: never synced"
        source = f", {fresh.source_api}" if fresh.source_api else ""
        return f"{self.connection}: sync #{fresh.sync_run_id}{source}, as of {_iso(fresh.as_of)}"


@dataclass(frozen=True)
class Provenance:
    """The facts behind one report, as of ``exported_at``."""

    sources: tuple[Source, ...]
    filters: tuple[tuple[str, str], ...]
    scope: str
    exported_at: datetime

    @property
    def as_of(self) -> datetime | None:
        """The oldest of the sources' last syncs; ``None`` when one never completed (or none feeds it)."""
        times = [source.freshness.as_of for source in self.sources]
        if not times or None in times:
            return None
        return min(times)

    @property
    def stale(self) -> bool:
        return not self.sources or any(source.freshness.stale for source in self.sources)

    @property
    def sync_run_ids(self) -> list[int]:
        return sorted({s.freshness.sync_run_id for s in self.sources if s.freshness.sync_run_id is not None})

    def filename_suffix(self) -> str:
        """``_as-of-2026-12-03T0800Z_sync-12-15`` (``_stale`` appended when stale), or ``_never-synced``."""
        as_of = self.as_of
        if as_of is None:
            return "_never-synced"
        runs = "-".join(str(pk) for pk in self.sync_run_ids[:4])
        return (
            f"_as-of-{as_of.astimezone(UTC):%Y-%m-%dT%H%MZ}"
            + (f"_sync-{runs}" if runs else "")
            + ("_stale" if self.stale else "")
        )

    def sidecar_cells(self, *, report: str, rows: int) -> list[str]:
        """The sidecar row: ``# provenance`` then ``name=value`` cells."""
        filters = "; ".join(f"{label}: {value}" for label, value in self.filters) or "none"
        return [
            "# provenance",
            f"report={report}",
            f"as_of={_iso(self.as_of) if self.as_of else 'never synced'}",
            f"sources={' | '.join(s.describe() for s in self.sources) or 'none'}",
            f"stale={'yes' if self.stale else 'no'}",
            f"filters={filters}",
            f"scope={self.scope}",
            f"rows={rows}",
            f"exported_at={_iso(self.exported_at)}",
        ]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _scope_text(scope: Scope | None) -> str:
    return EVERY_LEARNER if scope is None else scope.description


def report_provenance(*, kind: str, filters: ReportFilters, applied: list[tuple[str, str]] | None = None) -> Provenance:
    """The provenance of a report fed by syncs of ``kind``: the connections whose rows it holds
    under ``filters`` (``report_freshness``), so a connection that contributes nothing
    (one never synced, say) neither names nor stales the file."""
    freshness = report_freshness(filters=filters, kind=kind)
    sources = tuple(Source(c.name, fresh) for c, fresh in freshness.shown)
    return Provenance(sources, tuple(applied or ()), _scope_text(filters.scope), timezone.now())


def session_provenance(
    *, session: PathSession, filters: ReportFilters, applied: list[tuple[str, str]] | None = None
) -> Provenance:
    """The provenance of one path session's tables: when its learner statistics were swapped in."""
    source = Source(session.connection.name, session_freshness(session))
    return Provenance((source,), tuple(applied or ()), _scope_text(filters.scope), timezone.now())


def learners_provenance(*, filters: ReportFilters, applied: list[tuple[str, str]] | None = None) -> Provenance:
    """The provenance of the Learners report: per connection with people in it, the last
    completed sync of each kind its rows come from (users, sessions, course statistics,
    module results), so a connection never synced for one of them makes the file stale."""
    sources = tuple(
        Source(f"{stamp.connection.name} ({stamp.kind_label})", stamp.freshness)
        for stamp in learner_freshness(filters=filters)
    )
    return Provenance(sources, tuple(applied or ()), _scope_text(filters.scope), timezone.now())
