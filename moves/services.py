"""Moving iSpring Learn's history into 360Learning, through the import machinery.

``move_propose`` proposes one external course per cached iSpring course; ``move_preview``
writes the courses and statistics files and reads them into two draft imports (predictions,
invalid rows, the ledger's "already imported"); ``move_launch`` sends the courses; and
``move_advance`` (after each import ends, and every minute) launches the statistics once the
courses import has ended, then closes the move. Both launches skip what 360Learning already
accepted, so running a move again sends only what changed.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from integrations.imports import ColumnMapping, Kind
from integrations.models import Connection, ImportRun, ImportState, Integration
from integrations.services import import_runs
from lms_admin.tasks import enqueue_on_commit
from lms_cache.models import LmsUser, ModuleResult
from moves.history import ModuleOutcome, course_statistic, proposed_course_name
from moves.models import SENDING_STATES as SENDING, HistoryMove, MoveCourse, MoveLeftOut, MoveState
from people.selectors import counterparts

ISPRING = "ispring"
LEARNING360 = "360learning"
NOT_ISPRING = "{name} is not an iSpring Learn connection."
NOT_360 = "The integration {integration} does not belong to a 360Learning connection."
EMPTY_CACHE = (
    "No iSpring Learn module results are cached for {name}: sync module results first "
    "(manage.py sync_lms module-results --connection {name!r})."
)
NO_COURSE_INCLUDED = "Include at least one course."
NOTHING_TO_SEND = "Nothing to send: every course and statistic is already in 360Learning."
NOTHING_VALID = "Nothing to send: no course or statistic can be sent (see the rows left out)."
NOT_PREVIEWED = "Preview the move before sending it."
PREVIEW_UNDER_WAY = "The preview is being prepared: wait for it before changing the courses."
PREVIEW_FAILED = "The preview could not be made: {error}"
NO_LEARNER = "no 360Learning learner for this e-mail ({mail})"
NO_LEARNER_UNSYNCED = "no 360Learning learner for this iSpring Learn learner (id {user}: sync iSpring users first)"
NEVER_STARTED = "never started in iSpring Learn: nothing to move"

STATS_COLUMNS = (
    "courseExternalId",
    "userMail",
    "progress",
    "timeSpent",
    "firstActivityAt",
    "lastActivityAt",
    "result",
)
COURSES_COLUMNS = ("externalId", "name", "defaultLang", "launchUrl")


class MoveError(ValueError):
    """A move that cannot be made as asked; the message says why, in plain words."""


def default_launch_url(source: Connection) -> str:
    """Where the moved courses send learners unless the admin says otherwise: the iSpring
    Learn site itself (https: 360Learning takes no other scheme)."""
    host = urlsplit(source.base_url).netloc
    return f"https://{host}/"


def move_check(*, source: Connection, integration: Integration) -> None:
    """Raise ``MoveError`` unless ``source`` is iSpring Learn with cached module results and
    ``integration`` belongs to a 360Learning connection."""
    if source.provider != ISPRING:
        raise MoveError(NOT_ISPRING.format(name=source.name))
    if integration.connection.provider != LEARNING360:
        raise MoveError(NOT_360.format(integration=integration))
    if not ModuleResult.objects.current().filter(connection=source).exists():
        raise MoveError(EMPTY_CACHE.format(name=source.name))


def move_propose(
    *, actor, source: Connection, integration: Integration, default_lang: str = "en", launch_url: str = ""
) -> HistoryMove:
    """A new move proposing one external course per iSpring course of the cache: its id as the
    external id and a name from its modules' titles (``proposed_course_name``)."""
    move_check(source=source, integration=integration)
    launch_url = launch_url or default_launch_url(source)
    results = ModuleResult.objects.current().filter(connection=source)
    titles: dict[str, set[str]] = defaultdict(set)
    for course_id, title in results.values_list("course_id", "module_title").distinct():
        titles[course_id].add(title)
    stats = {
        row["course_id"]: row
        for row in results.values("course_id").annotate(
            modules=Count("module_id", distinct=True), learners=Count("user_id", distinct=True)
        )
    }
    proposals = sorted(
        ((proposed_course_name(sorted(titles[course_id])), course_id) for course_id in titles),
        key=lambda p: (p[0].casefold(), p[1]),
    )
    with transaction.atomic():
        move = HistoryMove.objects.create(
            source=source, integration=integration, default_lang=default_lang, launch_url=launch_url, created_by=actor
        )
        MoveCourse.objects.bulk_create(
            MoveCourse(
                move=move,
                position=position,
                source_course_id=course_id,
                external_id=course_id,
                proposed_name=name,
                name=name,
                launch_url=launch_url,
                modules=stats[course_id]["modules"],
                learners=stats[course_id]["learners"],
            )
            for position, (name, course_id) in enumerate(proposals)
        )
    return move


@dataclass(frozen=True)
class CourseChoice:
    """What the admin decided for one proposed course."""

    course_id: int
    include: bool
    name: str
    launch_url: str


def move_courses_update(*, move: HistoryMove, choices: list[CourseChoice]) -> HistoryMove:
    """Apply the admin's names, launch URLs and inclusions; the preview must be made again."""
    if move.state == MoveState.PREVIEWING:
        raise MoveError(PREVIEW_UNDER_WAY)
    if move.state not in (MoveState.PROPOSED, MoveState.PREVIEWED):
        raise MoveError("This move has been sent: its courses can no longer change.")
    if not any(choice.include for choice in choices):
        raise MoveError(NO_COURSE_INCLUDED)
    courses = {course.pk: course for course in move.courses.all()}
    changed = []
    for choice in choices:
        course = courses.get(choice.course_id)
        if course is None:
            continue
        course.include, course.name, course.launch_url = choice.include, choice.name.strip(), choice.launch_url
        changed.append(course)
    MoveCourse.objects.bulk_update(changed, ["include", "name", "launch_url"])
    _discard_drafts(move)
    move.state = MoveState.PROPOSED
    move.save(update_fields=["state"])
    return move


# Preview -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatRow:
    """One learner on one course, in the statistics file's line order."""

    line: int
    course: MoveCourse
    learner_mail: str
    values: dict[str, str] | None  # None: left out
    field: str = ""
    reason: str = ""


def move_stat_rows(*, move: HistoryMove) -> list[StatRow]:
    """Every (learner, included course) with a module result, in file order: line 1 is the
    header, each row one line (a left-out row stays an empty line, so lines match the import's)."""
    courses = list(move.courses.filter(include=True).order_by("position"))
    by_id = {course.source_course_id: course for course in courses}
    results = ModuleResult.objects.current().filter(connection=move.source, course_id__in=by_id)
    module_counts = dict(
        results.values("course_id").annotate(n=Count("module_id", distinct=True)).values_list("course_id", "n")
    )
    outcomes: dict[tuple[str, str], dict[str, ModuleOutcome]] = defaultdict(dict)
    fields = ("user_id", "course_id", "module_id", "completion_status", "progress", "time_spent_seconds")
    for user_id, course_id, module_id, status, progress, seconds, access, completion in results.values_list(
        *fields, "access_date", "completion_date"
    ).order_by("pk"):
        outcome = ModuleOutcome(status, progress, seconds, access, completion)
        modules = outcomes[(course_id, user_id)]
        # One module met twice (two enrollments): the latest activity tells where the learner is.
        if module_id not in modules or _latest(outcome) >= _latest(modules[module_id]):
            modules[module_id] = outcome
    mails = dict(
        LmsUser.objects.current().filter(connection=move.source).values_list("remote_id", "mail")
    )  # iSpring Learn's
    matched = counterparts(from_connection_id=move.source_id, to_connection_id=move.integration.connection_id)
    order = {course.source_course_id: i for i, course in enumerate(courses)}
    pairs = sorted(outcomes, key=lambda pair: (order[pair[0]], (mails.get(pair[1]) or "").strip().casefold(), pair[1]))
    rows = []
    for line, (course_id, user_id) in enumerate(pairs, start=2):
        course = by_id[course_id]
        mail = (mails.get(user_id) or "").strip()
        learner = mail or user_id
        stat = course_statistic(list(outcomes[(course_id, user_id)].values()), module_count=module_counts[course_id])
        if stat is None:
            rows.append(StatRow(line, course, learner, None, "progress", NEVER_STARTED))
            continue
        counterpart = matched.get(user_id)
        if counterpart is None or not counterpart.mail:
            reason = NO_LEARNER.format(mail=mail) if mail else NO_LEARNER_UNSYNCED.format(user=user_id)
            rows.append(StatRow(line, course, learner, None, "userMail", reason))
            continue
        values = {
            "courseExternalId": course.external_id,
            "userMail": counterpart.mail.strip(),
            "progress": str(stat.progress),
            "timeSpent": str(stat.time_spent_ms),
            "firstActivityAt": _iso(stat.first_activity_at),
            "lastActivityAt": _iso(stat.last_activity_at),
            "result": stat.result,
        }
        rows.append(StatRow(line, course, learner, values))
    return rows


def _latest(outcome: ModuleOutcome) -> datetime:
    dates = [d for d in (outcome.access, outcome.completion) if d]
    return max(dates) if dates else datetime.min.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _csv_file(name: str, columns: tuple[str, ...], rows: list[dict[str, str] | None]) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        # An empty line keeps the next rows' line numbers; the reader skips it (and says so).
        writer.writerow([row[c] for c in columns] if row is not None else [])
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


def _identity_mapping(columns: tuple[str, ...], kind: Kind) -> ColumnMapping:
    return ColumnMapping.from_json({c: c for c in columns}, kind=kind)


def _discard_drafts(move: HistoryMove) -> None:
    for run in (move.stats_run, move.courses_run):
        if run is not None and run.state == ImportState.DRAFT:
            import_runs.import_run_discard(run=run)
    move.courses_run = move.stats_run = None
    move.left_out.all().delete()
    move.save(update_fields=["courses_run", "stats_run"])


def move_preview_request(*, actor, move: HistoryMove) -> HistoryMove:
    """Have the worker prepare the preview (``move_preview``): writing and reading the two files
    grows with the cache, beyond what a web request may do. A second request while one is under
    way (a double click) changes nothing."""
    if move.state not in (MoveState.PROPOSED, MoveState.PREVIEWED, MoveState.PREVIEWING):
        raise MoveError("This move has been sent already.")
    with transaction.atomic():
        claimed = HistoryMove.objects.filter(pk=move.pk, state__in=[MoveState.PROPOSED, MoveState.PREVIEWED]).update(
            state=MoveState.PREVIEWING, message="", preview_requested_by=actor, preview_requested_at=timezone.now()
        )
        if claimed:
            enqueue_on_commit("moves.tasks.move_preview", move.pk, name=f"move-{move.pk}-preview")
    move.refresh_from_db()
    return move


def move_preview_failed(*, move: HistoryMove, error: str) -> HistoryMove:
    """The worker could not prepare the preview: back to the courses, saying why."""
    _discard_drafts(move)
    HistoryMove.objects.filter(pk=move.pk, state=MoveState.PREVIEWING).update(
        state=MoveState.PROPOSED, message=PREVIEW_FAILED.format(error=error)
    )
    move.refresh_from_db()
    return move


def move_preview(*, actor, move: HistoryMove) -> HistoryMove:
    """Write the courses and statistics files and read them into two draft imports, the
    statistics one following the courses one (so its predictions know those courses will
    exist). Rows that cannot be sent are kept as left out, with line, field and reason.

    The worker runs it for the pages (``move_preview_request``), the command line in-process.
    The statistics draft is attached to the move before it is read, so its progress shows.
    """
    if move.state not in (MoveState.PROPOSED, MoveState.PREVIEWED, MoveState.PREVIEWING):
        raise MoveError("This move has been sent already.")
    move_check(source=move.source, integration=move.integration)
    _discard_drafts(move)
    courses = list(move.courses.filter(include=True).order_by("position"))
    if not courses:
        raise MoveError(NO_COURSE_INCLUDED)
    course_values: list[dict[str, str] | None] = [
        {"externalId": c.external_id, "name": c.name, "defaultLang": move.default_lang, "launchUrl": c.launch_url}
        for c in courses
    ]
    stat_rows = move_stat_rows(move=move)
    sendable = [row for row in stat_rows if row.values is not None]
    prefix = f"ispring-move-{move.pk}"
    courses_run = import_runs.import_run_prepare(
        actor=actor,
        integration=move.integration,
        kind=Kind.COURSES,
        uploaded=_csv_file(f"{prefix}-courses.csv", COURSES_COLUMNS, course_values),
        mapping=_identity_mapping(COURSES_COLUMNS, Kind.COURSES),
    )
    move.courses_run, move.course_rows, move.stat_rows = courses_run, len(courses), len(sendable)
    move.save(update_fields=["courses_run", "course_rows", "stat_rows"])
    stats_run = None
    if sendable:
        stats_run = import_runs.import_run_create(
            actor=actor,
            integration=move.integration,
            kind=Kind.STATS,
            uploaded=_csv_file(f"{prefix}-stats.csv", STATS_COLUMNS, [row.values for row in stat_rows]),
            mapping=_identity_mapping(STATS_COLUMNS, Kind.STATS),
            follows=courses_run,
            enqueue=False,
        )
        move.stats_run = stats_run
        move.save(update_fields=["stats_run"])
        stats_run = import_runs.import_run_read_now(run=stats_run)
    left_out = [
        MoveLeftOut(
            move=move,
            file=MoveLeftOut.File.STATS,
            line=row.line,
            course=row.course.name,
            learner=row.learner_mail,
            field=row.field,
            reason=row.reason,
        )
        for row in stat_rows
        if row.values is None
    ]
    with transaction.atomic():
        MoveLeftOut.objects.bulk_create(left_out)
        move.courses_run, move.stats_run = courses_run, stats_run
        move.course_rows, move.stat_rows, move.left_out_rows = len(courses), len(sendable), len(left_out)
        move.state, move.message = MoveState.PREVIEWED, ""
        move.save()
    return move


@dataclass(frozen=True)
class AlreadyThere:
    """How much of the preview 360Learning already accepted (the ledger): not sent again."""

    courses: int
    stats: int


def move_already_imported(*, move: HistoryMove) -> AlreadyThere:
    def count(run: ImportRun | None) -> int:
        return import_runs.import_run_already_imported(run=run).count if run is not None else 0

    return AlreadyThere(count(move.courses_run), count(move.stats_run))


# Sending -------------------------------------------------------------------------------------
def move_launch(*, actor, move: HistoryMove, enqueue: bool = True) -> HistoryMove:
    """Send the previewed move: the courses now, the statistics once the courses have ended.

    Safe to call twice at once (a double click): the move is claimed by a conditional UPDATE
    and only the claimer launches. Raises ``MoveError`` when the move was not previewed or has
    nothing valid to send.
    """
    if move.state in (*SENDING, MoveState.DONE):
        return move
    if move.state != MoveState.PREVIEWED or move.courses_run is None:
        raise MoveError(NOT_PREVIEWED)
    runs = move.runs
    if not any(run.valid_records for run in runs):
        raise MoveError(NOTHING_VALID)
    claimed = HistoryMove.objects.filter(pk=move.pk, state=MoveState.PREVIEWED).update(
        state=MoveState.SENDING_COURSES, launched_at=timezone.now()
    )
    if not claimed:
        move.refresh_from_db()
        return move
    return move_advance(move_id=move.pk, actor=actor, enqueue=enqueue)


def _launch(run: ImportRun | None, *, actor, enqueue: bool) -> ImportRun | None:
    """Launch a draft with something valid, skipping what 360Learning already accepted
    (the ledger); a run launched already (by another click or worker) is returned as it is."""
    if run is None or run.state != ImportState.DRAFT or not run.valid_records:
        return run
    return import_runs.import_run_launch(
        actor=actor, run=run, enqueue=enqueue, skip_already_imported=True, send_again=True
    )


def _ended(run: ImportRun | None) -> bool:
    """A run the move need not wait for: ended, or a draft with nothing valid (never sent)."""
    return run is None or run.ended_at is not None or (run.state == ImportState.DRAFT and not run.valid_records)


def move_advance(*, move_id: int, actor=None, enqueue: bool = True) -> HistoryMove:
    """Take the move's next step, if one is due: launch the statistics once the courses have
    ended; close the move once both have. Idempotent, and safe from any number of workers:
    the statistics draft is claimed by ``import_run_launch``, the move's state by conditional
    UPDATEs."""
    move = HistoryMove.objects.select_related("courses_run", "stats_run").get(pk=move_id)
    if move.state not in SENDING:
        return move
    if move.state == MoveState.SENDING_COURSES:
        courses_run = _launch(move.courses_run, actor=actor, enqueue=enqueue)
        if courses_run is not None and courses_run.pk != move.courses_run_id:
            # The same courses were being sent by another run: follow that one.
            HistoryMove.objects.filter(pk=move.pk).update(courses_run=courses_run)
        if _ended(courses_run):
            stats_run = _launch(move.stats_run, actor=actor, enqueue=enqueue)
            HistoryMove.objects.filter(pk=move.pk, state=MoveState.SENDING_COURSES).update(
                state=MoveState.SENDING_STATS, stats_run=stats_run
            )
        move.refresh_from_db()
    if move.state == MoveState.SENDING_STATS and _ended(move.stats_run) and _ended(move.courses_run):
        sent = sum(run.records_to_send for run in move.runs if run.launched_at)
        message = NOTHING_TO_SEND if not sent else ""
        HistoryMove.objects.filter(pk=move.pk, state=MoveState.SENDING_STATS).update(
            state=MoveState.DONE, ended_at=timezone.now(), message=message
        )
        move.refresh_from_db()
    return move


def moves_to_advance() -> list[int]:
    """Moves still sending: the minute schedule advances them, should a signal be lost."""
    return list(HistoryMove.objects.filter(state__in=SENDING).values_list("pk", flat=True))
