"""An import's records as people read them: learner and course by name, the ids secondary.

Names come from the local cache of the run's connection (users and courses synced from the
LMS); a record whose learner or course the cache does not know shows its identifier alone.
Each page of records needs two queries for its names, whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.dateparse import parse_datetime

from integrations.imports.kinds import Kind
from integrations.models import ImportRecord, ImportRun
from lms_cache.models import Course, LmsUser


@dataclass(frozen=True, slots=True)
class Named:
    """Something shown by name, its identifier secondary. ``name`` is empty when unknown."""

    name: str
    detail: str = ""  # a learner's e-mail
    ident: str = ""  # the id or external id the file gave
    ident_label: str = ""  # "external id", "360Learning id", "e-mail"


@dataclass(frozen=True, slots=True)
class RecordRow:
    record: ImportRecord
    learner: Named | None
    course: Named | None
    # As the payload holds them: JSON numbers, whole or not.
    progress: float | None = None
    score: float | None = None
    time_spent_ms: float | None = None
    first_activity: datetime | None = None
    last_activity: datetime | None = None

    @property
    def effect(self) -> str:
        return (self.record.prediction or {}).get("effect", "")

    @property
    def time_spent(self) -> str:
        """ "1 h 05 min", "12 min", "40 s": the milliseconds of the file in words."""
        if self.time_spent_ms is None:
            return ""
        seconds = round(self.time_spent_ms / 1000)
        if seconds < 60:
            return f"{seconds} s"
        minutes = seconds // 60
        return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _lower_mails(payloads: Iterable[dict]) -> set[str]:
    return {
        p["userIdentifier"]["value"].lower()
        for p in payloads
        if p.get("userIdentifier", {}).get("type") == "mail" and p["userIdentifier"].get("value")
    }


def _ids(payloads: Iterable[dict], key: str, kind: str) -> set[str]:
    return {p[key]["value"] for p in payloads if p.get(key, {}).get("type") == kind and p[key].get("value")}


def _learners(connection_id: int, payloads: Sequence[dict]) -> tuple[dict[str, Named], dict[str, Named]]:
    mails, ids = _lower_mails(payloads), _ids(payloads, "userIdentifier", "internalId")
    by_mail: dict[str, Named] = {}
    by_id: dict[str, Named] = {}
    if not (mails or ids):
        return by_mail, by_id
    users = LmsUser.objects.filter(connection_id=connection_id).annotate(mail_lower=Lower("mail"))
    for user in users.filter(Q(mail_lower__in=mails) | Q(remote_id__in=ids)).only(
        "remote_id", "mail", "first_name", "last_name", "username"
    ):
        name = " ".join(filter(None, (user.first_name, user.last_name))) or user.username
        if user.mail:
            by_mail[user.mail.lower()] = Named(name, user.mail, user.remote_id, "360Learning id")
        by_id[user.remote_id] = Named(name, user.mail, user.remote_id, "360Learning id")
    return by_mail, by_id


def _courses(run: ImportRun, payloads: Sequence[dict]) -> tuple[dict[str, str], dict[str, str]]:
    """(external id → name, 360Learning id → name) of the courses the payloads name."""
    if run.kind == Kind.STATS:
        externals = _ids(payloads, "courseIdentifier", "externalId")
        internals = _ids(payloads, "courseIdentifier", "internalId")
    else:
        externals, internals = {p["externalId"] for p in payloads if p.get("externalId")}, set()
    if not (externals or internals):
        return {}, {}
    courses = Course.objects.filter(connection_id=run.integration.connection_id).filter(
        Q(remote_id__in=internals) | Q(external_id__in=externals, external_platform=run.integration.external_platform)
    )
    by_external: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for remote_id, external_id, name in courses.values_list("remote_id", "external_id", "name"):
        by_id[remote_id] = name
        if external_id:
            by_external[external_id] = name
    return by_external, by_id


def _number(value) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def import_record_rows(*, run: ImportRun, records: Sequence[ImportRecord]) -> list[RecordRow]:
    """``records`` (of ``run``) with their learner and course by name where the cache knows them."""
    payloads = [r.payload for r in records if isinstance(r.payload, dict)]
    learners_by_mail, learners_by_id = (
        _learners(run.integration.connection_id, payloads) if run.kind == Kind.STATS else ({}, {})
    )
    courses_by_external, courses_by_id = _courses(run, payloads)
    rows = []
    for record in records:
        payload = record.payload if isinstance(record.payload, dict) else {}
        if run.kind == Kind.STATS:
            rows.append(
                _stats_row(record, payload, learners_by_mail, learners_by_id, courses_by_external, courses_by_id)
            )
        else:
            external = payload.get("externalId", "")
            name = payload.get("name") or courses_by_external.get(external, "")
            rows.append(RecordRow(record, None, Named(name, "", external, "external id")))
    return rows


def _stats_row(record, payload, learners_by_mail, learners_by_id, courses_by_external, courses_by_id) -> RecordRow:
    user = payload.get("userIdentifier") or {}
    if user.get("type") == "mail":
        known = learners_by_mail.get(str(user.get("value", "")).lower())
        learner = Named(known.name, user["value"], known.ident, known.ident_label) if known else None
        learner = learner or Named("", user.get("value", ""), "", "")
    else:
        learner = learners_by_id.get(user.get("value", "")) or Named("", "", user.get("value", ""), "360Learning id")
    course_ref = payload.get("courseIdentifier") or {}
    value = course_ref.get("value", "")
    if course_ref.get("type") == "internalId":
        course = Named(courses_by_id.get(value, ""), "", value, "360Learning id")
    else:
        course = Named(courses_by_external.get(value, ""), "", value, "external id")
    first, last = payload.get("firstActivityAt"), payload.get("lastActivityAt")
    return RecordRow(
        record,
        learner,
        course,
        progress=_number(payload.get("progress")),
        score=_number(payload.get("score")),
        time_spent_ms=_number(payload.get("timeSpent")),
        first_activity=parse_datetime(first) if isinstance(first, str) else None,
        last_activity=parse_datetime(last) if isinstance(last, str) else None,
    )
