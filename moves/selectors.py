"""Reading moves: their rows as a person reads them, with predicted and actual effects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from integrations.models import Connection, ImportRun, Integration, RecordStatus
from integrations.services.import_predictions import actual_effect, prediction_matches
from moves.models import HistoryMove

SKIPPED = "skipped: already in 360Learning"


@dataclass(frozen=True)
class MoveRow:
    """One sent (or to be sent) record of a move."""

    file: str  # "courses" | "stats"
    line: int
    course: str
    learner: str
    predicted: str
    outcome: str  # "" while not done
    matches: bool | None
    message: str


def move_rows(*, move: HistoryMove) -> Iterator[MoveRow]:
    """The courses' records, then the statistics', in line order; invalid records aside."""
    names = dict(move.courses.values_list("external_id", "name"))
    for file, run in (("courses", move.courses_run), ("stats", move.stats_run)):
        if run is None:
            continue
        earlier: set[str] = set()
        records = run.records.exclude(status=RecordStatus.INVALID).order_by("position")
        for record in records.iterator(chunk_size=2000):
            payload = record.payload or {}
            predicted = (record.prediction or {}).get("effect", "")
            if record.status == RecordStatus.SKIPPED:
                outcome, matches = SKIPPED, None
            else:
                outcome = actual_effect(record, run.kind, earlier=earlier) or ""
                matches = prediction_matches(predicted, outcome or None)
            if record.resource_id:
                earlier.add(record.resource_id)
            if file == "courses":
                course, learner = payload.get("name", ""), ""
            else:
                course = names.get(payload.get("courseIdentifier", {}).get("value", ""), "")
                learner = payload.get("userIdentifier", {}).get("value", "")
            message = record.message if record.status == RecordStatus.ERROR else ""
            yield MoveRow(file, record.source_line, course, learner, predicted, outcome, matches, message)


def invalid_records(*, run: ImportRun | None):
    """The records the import itself found invalid (the move's own left-out rows aside)."""
    if run is None:
        return []
    return run.records.filter(status=RecordStatus.INVALID).order_by("source_line")


def ispring_connections() -> QuerySet[Connection]:
    return Connection.objects.filter(provider="ispring").order_by("name")


def integrations_360() -> QuerySet[Integration]:
    return (
        Integration.objects.filter(connection__provider="360learning", removed_remotely_at__isnull=True)
        .select_related("connection")
        .order_by("connection__name", "external_platform")
    )


def recent_moves(limit: int = 20) -> QuerySet[HistoryMove]:
    return HistoryMove.objects.select_related("source", "integration", "courses_run", "stats_run")[:limit]
