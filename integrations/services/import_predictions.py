"""Semantic dry run: what 360Learning will do with each row, predicted before anything is sent.

Predictions come from the local cache (users, courses and attempts synced from the LMS), from
this product's own import history (the external ids it created), and from the rules of the
vendor's migration guides:

- courses upsert (importExternalCourses): an ``externalId`` already known for the integration
  is updated, any other is created;
- courses archive: a known ``externalId`` is archived; an unknown one is refused;
- stats (importExternalCoursesStats): ``forceNew`` always creates an attempt; otherwise a new
  attempt is created when the learner has none on the course, or when ``firstActivityAt`` is
  later than every attempt's ``lastActivityAt``/``completedAt``; otherwise the latest open
  attempt is updated; when every attempt is completed and overlaps, the row is refused.
  ``progress`` 100 completes the attempt at ``lastActivityAt``. Unknown or deleted learners
  and unknown courses are refused.

Rows are simulated in file order, so a later row sees the attempt an earlier one creates.
A prediction is stored per record as ``{"effect": …, "known": [ids that existed before]}``;
after the run, the actual effect is read from the result (``resource_id`` in ``known`` means
an update) and compared.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.dateparse import parse_datetime

from integrations.clients.errors import LmsError
from integrations.imports.kinds import Kind
from integrations.models import ImportRecord, ImportRun, RecordStatus, SyncKind, SyncRun, SyncState
from lms_cache.models import Course, CourseAttempt, LmsUser

#: Lower-cased e-mails → {lower-cased e-mail: (360Learning user id, status)} for those that exist.
MailLookup = Callable[[set[str]], dict[str, tuple[str, str]]]

COURSE_CREATED = "course created"
COURSE_UPDATED = "course updated"
COURSE_ARCHIVED = "course archived"
ATTEMPT_CREATED = "attempt created"
ATTEMPT_UPDATED = "open attempt updated"
COMPLETES = " (completed)"
REFUSED_UNKNOWN_USER = "refused: unknown learner"
REFUSED_DELETED_USER = "refused: deleted learner"
REFUSED_UNKNOWN_COURSE = "refused: unknown course"
REFUSED_COMPLETED = "refused: every attempt is completed and overlaps this one"
REFUSED = "refused"
CANNOT_PREDICT = "cannot predict"
CANNOT_PREDICT_LEARNER = f"{CANNOT_PREDICT}: learner not in the synced learners (sync learners first)"
CANNOT_PREDICT_COURSE = f"{CANNOT_PREDICT}: courses never synced (sync courses first)"
#: Distinct e-mails of one file that the cache does not know and are looked up in 360Learning.
LIVE_LOOKUP_LIMIT = 500
LIVE_LOOKUP_CHUNK = 50  # e-mails per request: the query string stays short


# Slots: a 200,000-row file simulates as many attempts.
@dataclass(slots=True)
class _Attempt:
    id: str | None
    first: datetime | None
    last: datetime | None
    completed: datetime | None

    @property
    def end(self) -> datetime | None:
        return self.completed or self.last


@dataclass
class _Knowledge:
    courses_by_external: dict[str, str] = field(default_factory=dict)
    course_ids: set[str] = field(default_factory=set)
    users_by_mail: dict[str, tuple[str, str]] = field(default_factory=dict)
    users_by_id: dict[str, str] = field(default_factory=dict)
    #: Learners the prediction cannot vouch for: unknown to a cache that was never synced, or
    #: whose live look-up was not possible. They are "cannot predict", never "refused".
    uncertain_mails: set[str] = field(default_factory=set)
    users_synced: bool = True
    courses_synced: bool = True
    attempts: dict[tuple[str, str], list[_Attempt]] = field(default_factory=lambda: defaultdict(list))


def _external_courses(run: ImportRun) -> dict[str, str]:
    """externalId → course id for the integration: the cache's, then this product's own imports
    (created or archived), oldest first so the latest outcome wins."""
    known = dict(
        Course.objects.current()
        .filter(connection_id=run.integration.connection_id, external_platform=run.integration.external_platform)
        .exclude(external_id="")
        .values_list("external_id", "remote_id")
    )
    history = (
        ImportRecord.objects.filter(
            run__integration=run.integration,
            run__kind__in=[Kind.COURSES, Kind.ARCHIVE_COURSES],
            status=RecordStatus.SUCCESS,
        )
        .exclude(run=run)
        .order_by("run__launched_at", "pk")
        .values_list("run__kind", "payload", "resource_id")
    )
    for kind, payload, resource_id in history.iterator(chunk_size=2000):
        if not isinstance(payload, dict):  # a record kept without its payload names no course
            continue
        if kind == Kind.COURSES:
            known[payload["externalId"]] = resource_id
        else:
            known.pop(payload["externalId"], None)
    return known


def _followed_courses(run: ImportRun, *, known: dict[str, str]) -> dict[str, str]:
    """The courses the run this one follows creates (its valid records' externalIds that are
    not known yet), each under its own placeholder id: no attempt exists on them yet."""
    followed = ImportRecord.objects.filter(run_id=run.follows_id, run__kind=Kind.COURSES).exclude(
        status=RecordStatus.INVALID
    )
    created: dict[str, str] = {}
    for payload in followed.values_list("payload", flat=True).iterator(chunk_size=2000):
        if isinstance(payload, dict) and payload.get("externalId") and payload["externalId"] not in known:
            created[payload["externalId"]] = f"{NEW_COURSE_PREFIX}{payload['externalId']}"
    return created


#: Prefix of the placeholder id of a course the followed run creates (never a real id).
NEW_COURSE_PREFIX = "to-be-created:"


class Predictor:
    """Predicts a draft's records in file order, a batch at a time.

    What the cache knows is loaded for each batch's learners, courses and attempts not seen in
    an earlier batch, so a 200,000-row file needs a few queries per batch and holds no more than
    the rows' own learners and attempts.
    """

    def __init__(self, run: ImportRun, *, lookup_mails: MailLookup | None = None) -> None:
        """``lookup_mails`` asks 360Learning for learners by e-mail (lower-cased e-mail →
        (id, status)); it is used, up to LIVE_LOOKUP_LIMIT e-mails a file, for e-mails the cache
        does not know: learners created after the last sync, or a cache never synced."""
        self.kind = run.kind
        self.connection_id = run.integration.connection_id
        self.k = _Knowledge(courses_by_external=_external_courses(run))
        if self.kind == Kind.STATS and run.follows_id:
            self.k.courses_by_external.update(_followed_courses(run, known=self.k.courses_by_external))
        self.lookup_mails = lookup_mails
        self.live_budget = LIVE_LOOKUP_LIMIT
        self.looked_up_live = 0
        if self.kind == Kind.STATS:
            synced = set(
                SyncRun.objects.filter(
                    connection_id=self.connection_id,
                    kind__in=[SyncKind.USERS, SyncKind.COURSES],
                    state=SyncState.COMPLETED,
                ).values_list("kind", flat=True)
            )
            self.k.users_synced = SyncKind.USERS.value in synced
            self.k.courses_synced = SyncKind.COURSES.value in synced
        self._mails_looked_up: set[str] = set()
        self._user_ids_looked_up: set[str] = set()
        self._courses_looked_up: set[str] = set()
        self._pairs_loaded: set[tuple[str, str]] = set()
        self.counts: Counter = Counter()

    def predict(self, payloads: list[dict]) -> list[dict]:
        """The predictions of the next records, in order (``{"effect": …, "known": […]}``)."""
        if self.kind == Kind.STATS:
            self._learn_stats(payloads)
            predictions = [_predict_stat(p, self.k) for p in payloads]
        else:
            predictions = [_predict_course(p, self.k, self.kind) for p in payloads]
        self.counts.update(p["effect"] for p in predictions)
        return predictions

    def _learn_stats(self, payloads: list[dict]) -> None:
        k = self.k
        mails = {p["userIdentifier"]["value"].lower() for p in payloads if p["userIdentifier"]["type"] == "mail"}
        mails -= self._mails_looked_up
        self._mails_looked_up |= mails
        user_ids = {p["userIdentifier"]["value"] for p in payloads if p["userIdentifier"]["type"] == "internalId"}
        user_ids -= self._user_ids_looked_up
        self._user_ids_looked_up |= user_ids
        if mails or user_ids:
            # Mails match without regard to case, as 360Learning matches them.
            users = (
                LmsUser.objects.current().filter(connection_id=self.connection_id).annotate(mail_lower=Lower("mail"))
            )
            for remote_id, mail, status in users.filter(
                Q(remote_id__in=user_ids) | Q(mail_lower__in=mails)
            ).values_list("remote_id", "mail_lower", "status"):
                k.users_by_id[remote_id] = status
                if mail:
                    k.users_by_mail[mail] = (remote_id, status)
            self._look_up_live(mails - k.users_by_mail.keys())
        internal = {
            p["courseIdentifier"]["value"] for p in payloads if p["courseIdentifier"]["type"] == "internalId"
        } - self._courses_looked_up
        if internal:
            self._courses_looked_up |= internal
            k.course_ids |= set(
                Course.objects.current()
                .filter(connection_id=self.connection_id, remote_id__in=internal)
                .values_list("remote_id", flat=True)
            )
        # The attempts of each (learner, course) pair of this batch not loaded before: an earlier
        # batch's simulated changes to a pair are kept, never overwritten by the cache.
        pairs = {pair for pair in map(self._pair, payloads) if pair is not None} - self._pairs_loaded
        if not pairs:
            return
        self._pairs_loaded |= pairs
        attempts = CourseAttempt.objects.current().filter(
            connection_id=self.connection_id,
            user_remote_id__in={user for user, _ in pairs},
            course_remote_id__in={course for _, course in pairs},
        )
        # Sorted here, not by the database: ORDER BY remote_id makes SQLite walk the whole
        # (connection, remote_id) index instead of the learners' index (one scan a batch).
        rows = attempts.order_by().values_list(
            "remote_id", "user_remote_id", "course_remote_id", "first_activity_at", "last_activity_at", "completed_at"
        )
        for a in sorted(rows):
            if (a[1], a[2]) in pairs:
                k.attempts[(a[1], a[2])].append(_Attempt(a[0], a[3], a[4], a[5]))

    def _look_up_live(self, mails: set[str]) -> None:
        k = self.k
        lookup = self.lookup_mails
        asked = set(sorted(mails)[: self.live_budget]) if lookup else set()
        self.live_budget -= len(asked)
        if not k.users_synced:
            k.uncertain_mails |= mails - asked
        if lookup is None:
            return
        chunks = sorted(asked)
        for start in range(0, len(chunks), LIVE_LOOKUP_CHUNK):
            chunk = set(chunks[start : start + LIVE_LOOKUP_CHUNK])
            try:
                found = lookup(chunk)
            except LmsError:
                # 360Learning cannot be asked now: say so rather than guess.
                k.uncertain_mails |= chunk
                continue
            self.looked_up_live += len(chunk)
            for mail, (remote_id, status) in found.items():
                k.users_by_mail[mail] = (remote_id, status)
                k.users_by_id[remote_id] = status

    def _pair(self, payload: dict) -> tuple[str, str] | None:
        user_ref, course_ref = payload["userIdentifier"], payload["courseIdentifier"]
        if user_ref["type"] == "mail":
            user_id = self.k.users_by_mail.get(user_ref["value"].lower(), (None, None))[0]
        else:
            user_id = user_ref["value"] if user_ref["value"] in self.k.users_by_id else None
        if course_ref["type"] == "externalId":
            course_id = self.k.courses_by_external.get(course_ref["value"])
        else:
            course_id = course_ref["value"] if course_ref["value"] in self.k.course_ids else None
        return (user_id, course_id) if user_id and course_id else None


def _predict_course(payload: dict, k: _Knowledge, kind: str) -> dict:
    course_id = k.courses_by_external.get(payload["externalId"])
    if kind == Kind.ARCHIVE_COURSES:
        if course_id is None:
            return {"effect": REFUSED_UNKNOWN_COURSE, "known": []}
        k.courses_by_external.pop(payload["externalId"])
        return {"effect": COURSE_ARCHIVED, "known": [course_id]}
    if course_id is None:
        k.courses_by_external[payload["externalId"]] = ""  # created by this row; later rows update it
        return {"effect": COURSE_CREATED, "known": []}
    return {"effect": COURSE_UPDATED, "known": [course_id] if course_id else []}


def _predict_stat(payload: dict, k: _Knowledge) -> dict:
    user_ref, course_ref = payload["userIdentifier"], payload["courseIdentifier"]
    if user_ref["type"] == "mail":
        user_id, status = k.users_by_mail.get(user_ref["value"].lower()) or ("", None)
    else:
        user_id, status = (user_ref["value"], k.users_by_id.get(user_ref["value"]))
    if status is None:
        uncertain = user_ref["value"].lower() in k.uncertain_mails if user_ref["type"] == "mail" else not k.users_synced
        return {"effect": CANNOT_PREDICT_LEARNER if uncertain else REFUSED_UNKNOWN_USER, "known": []}
    if status == "deleted":
        return {"effect": REFUSED_DELETED_USER, "known": []}
    if course_ref["type"] == "externalId":
        course_id = k.courses_by_external.get(course_ref["value"])
    else:
        course_id = course_ref["value"] if course_ref["value"] in k.course_ids else None
    if course_id is None:
        return {"effect": REFUSED_UNKNOWN_COURSE if k.courses_synced else CANNOT_PREDICT_COURSE, "known": []}

    first, last = parse_datetime(payload["firstActivityAt"]), parse_datetime(payload["lastActivityAt"])
    completes = payload["progress"] == 100
    existing = k.attempts[(user_id, course_id)]
    known = [a.id for a in existing if a.id]
    ends = [a.end for a in existing if a.end is not None]
    target = None
    if not payload.get("forceNew") and existing and not (ends and first is not None and first > max(ends)):
        open_attempts = [a for a in existing if a.completed is None]
        if not open_attempts:
            return {"effect": REFUSED_COMPLETED, "known": known}
        target = open_attempts[-1]
    if target is None:
        existing.append(_Attempt(None, first, last, last if completes else None))
        effect = ATTEMPT_CREATED
    else:
        target.first, target.last, target.completed = first, last, (last if completes else None)
        effect = ATTEMPT_UPDATED
    return {"effect": effect + (COMPLETES if completes else ""), "known": known, "completes": completes}


def actual_effect(record: ImportRecord, kind: str, *, earlier: AbstractSet[str] = frozenset()) -> str | None:
    """What 360Learning did, in the prediction's words; None while the record is not done.

    A resource that existed before the run (``known``) or that an earlier row of the same run
    created (``earlier``) was updated; any other was created.
    """
    if record.status == RecordStatus.ERROR:
        return REFUSED
    if record.status != RecordStatus.SUCCESS:
        return None
    prediction = record.prediction or {}
    updated = record.resource_id in prediction.get("known", []) or record.resource_id in earlier
    if kind == Kind.STATS:
        base = ATTEMPT_UPDATED if updated else ATTEMPT_CREATED
        return base + (COMPLETES if prediction.get("completes") else "")
    if kind == Kind.ARCHIVE_COURSES:
        return COURSE_ARCHIVED
    return COURSE_UPDATED if updated else COURSE_CREATED


def prediction_matches(predicted: str, actual: str | None) -> bool | None:
    if actual is None or not predicted or predicted.startswith(CANNOT_PREDICT):
        return None
    if actual == REFUSED:
        return predicted.startswith(REFUSED)
    return predicted == actual


@dataclass(frozen=True)
class PredictionReport:
    predicted: dict[str, int]
    matched: int
    mismatched: int
    pending: int
    mismatches: list[tuple[int, str, str]]  # (source line, predicted, actual)


def import_run_prediction_report(*, run: ImportRun, mismatches_shown: int = 100) -> PredictionReport:
    """Predicted against actual outcome, row by row."""
    predicted: Counter = Counter()
    matched = mismatched = pending = 0
    mismatches: list[tuple[int, str, str]] = []
    records = run.records.exclude(status__in=[RecordStatus.INVALID, RecordStatus.SKIPPED]).only(
        "source_line", "status", "resource_id", "prediction"
    )
    earlier: set[str] = set()
    for record in records.order_by("position").iterator(chunk_size=2000):
        expected = (record.prediction or {}).get("effect", "")
        predicted[expected] += 1
        actual = actual_effect(record, run.kind, earlier=earlier)
        if record.resource_id:
            earlier.add(record.resource_id)
        verdict = prediction_matches(expected, actual)
        if verdict is None:
            pending += 1
        elif verdict:
            matched += 1
        else:
            mismatched += 1
            if len(mismatches) < mismatches_shown:
                mismatches.append((record.source_line, expected, actual or ""))
    return PredictionReport(dict(predicted.most_common()), matched, mismatched, pending, mismatches)
