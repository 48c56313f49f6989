"""Convert v1 API payloads (seeds: importExternalCoursesStats, importExternalCourses) to v2 records.

v1 stats (``{"statistics": [...]}``, at most 20 records in v1; any count accepted here):
``externalId``, ``mail``, ``progress``, ``score``, ``result``, ``globalTime``, ``completedAt``,
``firstActivity``, ``lastActivity``. v2 computes nothing, so each required field is renamed,
derived or defaulted by these rules, in this order (the first that applies wins):

- ``courseIdentifier`` = ``{type: "externalId", value: externalId}``;
  ``userIdentifier`` = ``{type: "mail", value: mail}``.
- ``progress``: 100 when ``completedAt`` is given (v1 set it so, and replaced any other value);
  else v1 ``progress``; else ``V1Defaults.progress``.
- ``lastActivityAt``: ``completedAt`` (at progress 100 v2 reads it as the completion date;
  a different v1 ``lastActivity`` is then dropped, with a note); else ``lastActivity``; else
  ``firstActivity``; else ``V1Defaults.last_activity_at``.
- ``firstActivityAt``: ``firstActivity``; else ``lastActivity``; else ``completedAt``; else
  ``V1Defaults.first_activity_at``; else the defaulted ``lastActivityAt``.
- ``timeSpent``: ``globalTime`` (milliseconds in both); else ``V1Defaults.time_spent_ms``.
  It is never derived from dates: wall-clock time between two activities is not time spent.
- ``score`` and ``result`` are copied; ``lang`` and ``forceNew`` (new in v2) come from
  ``V1Defaults.lang`` / ``V1Defaults.force_new`` when given, else are left out.

A required field none of these rules can fill is reported on the row as ``V1_MISSING`` ("...
the v1 record has no globalTime and no default was given"). Every derived or defaulted value
adds a note to the row (``messages.NOTE_V1_*``), shown in the preview.

v1 courses (``{"authorId", "externalPlatformLogoUrl", "externalCourses": [...]}``): ``title`` →
``name``, ``language`` → ``defaultLang``, ``thumbnailUrl`` → ``imageUrl``, ``courseDuration`` →
``duration`` (rounded to whole minutes, at least 1, with a note); ``externalId``,
``launchUrl``, ``mobileLaunchUrl``, ``description``, ``difficultyLevel``, ``contentType`` are
copied; ``alternativeLanguages`` become ``translations`` with empty ``translatedFields`` (v2 then
shows the default-language texts); ``subjects`` and ``sources`` (required in v2, absent in v1)
come from ``V1Defaults.subjects`` / ``V1Defaults.source_name`` or are empty, with a note;
``authors`` and other v1 fields are dropped with a note. The payload-level ``authorId`` and
``externalPlatformLogoUrl`` belong to the v2 integration configuration and are not sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.imports import messages as m, values as v
from integrations.imports.kinds import PROGRESS_MAX, PROGRESS_MIN, TIME_SPENT_MIN_MS

V1_STATS_FIELDS = frozenset(
    {"externalId", "mail", "progress", "score", "result", "globalTime", "completedAt", "firstActivity", "lastActivity"}
)
V1_COURSE_FIELDS = frozenset(
    {
        "externalId",
        "launchUrl",
        "mobileLaunchUrl",
        "thumbnailUrl",
        "title",
        "description",
        "language",
        "alternativeLanguages",
        "authors",
        "courseDuration",
        "difficultyLevel",
        "contentType",
    }
)
#: Top-level keys of a v1 courses payload that v2 keeps on the integration configuration.
V1_COURSES_TOP_LEVEL = ("authorId", "externalPlatformLogoUrl")


@dataclass(frozen=True, slots=True)
class V1Defaults:
    """Values the admin supplies for what v1 computed and v2 requires.

    Dates may be aware datetimes, naive datetimes (read as UTC) or ISO 8601 strings. Raises
    ``ValueError`` on construction when a default itself is invalid, so a bad default fails once
    rather than on every row.
    """

    progress: float | None = None
    time_spent_ms: float | None = None
    first_activity_at: datetime | str | None = None
    last_activity_at: datetime | str | None = None
    lang: str | None = None
    force_new: bool | None = None
    subjects: tuple[str, ...] = ()
    source_name: str | None = None
    source_logo_url: str | None = None

    def __post_init__(self) -> None:
        try:
            if self.progress is not None:
                v.in_range("progress", v.number_json("progress", self.progress), PROGRESS_MIN, PROGRESS_MAX, whole=True)
            if self.time_spent_ms is not None:
                v.at_least("timeSpent", v.number_json("timeSpent", self.time_spent_ms), TIME_SPENT_MIN_MS, " ms")
            for name in ("first_activity_at", "last_activity_at"):
                if getattr(self, name) is not None:
                    v.datetime_value(name, getattr(self, name))
            if self.lang is not None:
                v.lang("lang", self.lang)
            if self.source_logo_url is not None:
                v.url("source_logo_url", self.source_logo_url)
        except v.Invalid as error:
            raise ValueError(f"invalid v1 default: {error.reason}") from None


@dataclass(frozen=True, slots=True)
class Converted:
    """A v1 record in the v2 request shape, not yet validated.

    ``errors`` are ``(v2 field, reason)`` for required fields no rule could fill; ``notes``
    explain each derived or defaulted value.
    """

    record: dict[str, Any]
    notes: tuple[str, ...]
    errors: tuple[tuple[str, str], ...]


def _given(record: dict[str, Any], key: str) -> bool:
    return record.get(key) not in (None, "")


def convert_stat(record: dict[str, Any], defaults: V1Defaults) -> Converted:
    """A v1 externalCourseStats object as an ImportExternalStatisticsDTO-shaped record."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    errors: list[tuple[str, str]] = []
    for v1_name, v2_name, kind in (
        ("externalId", "courseIdentifier", "externalId"),
        ("mail", "userIdentifier", "mail"),
    ):
        if _given(record, v1_name):
            out[v2_name] = {"type": kind, "value": record[v1_name]}
        else:
            errors.append((v2_name, m.REQUIRED.format(field=v1_name)))

    completed = record.get("completedAt") if _given(record, "completedAt") else None
    first = record.get("firstActivity") if _given(record, "firstActivity") else None
    last = record.get("lastActivity") if _given(record, "lastActivity") else None

    if completed is not None:
        out["progress"] = 100
        if not _given(record, "progress"):
            notes.append(m.NOTE_V1_PROGRESS_FROM_COMPLETED)
        elif record["progress"] != 100:
            notes.append(m.NOTE_V1_PROGRESS_REPLACED.format(value=record["progress"]))
    elif _given(record, "progress"):
        out["progress"] = record["progress"]
    elif defaults.progress is not None:
        out["progress"] = defaults.progress
        notes.append(
            m.NOTE_V1_DEFAULT.format(field="progress", value=defaults.progress, sources="progress or completedAt")
        )
    else:
        errors.append(("progress", m.V1_MISSING.format(field="progress", sources="progress or completedAt")))

    if _given(record, "globalTime"):
        out["timeSpent"] = record["globalTime"]
    elif defaults.time_spent_ms is not None:
        out["timeSpent"] = defaults.time_spent_ms
        notes.append(
            m.NOTE_V1_DEFAULT.format(field="timeSpent", value=f"{defaults.time_spent_ms} ms", sources="globalTime")
        )
    else:
        errors.append(("timeSpent", m.V1_MISSING.format(field="timeSpent", sources="globalTime")))

    if completed is not None:
        out["lastActivityAt"] = completed
        if last is not None and last != completed:
            notes.append(m.NOTE_V1_LAST_ACTIVITY_DROPPED.format(value=last))
    elif last is not None:
        out["lastActivityAt"] = last
    elif first is not None:
        out["lastActivityAt"] = first
        notes.append(
            m.NOTE_V1_DERIVED.format(
                field="lastActivityAt", source="firstActivity", value=first, missing="lastActivity or completedAt"
            )
        )
    elif defaults.last_activity_at is not None:
        out["lastActivityAt"] = v.canonical_datetime(defaults.last_activity_at)
        notes.append(
            m.NOTE_V1_DEFAULT.format(
                field="lastActivityAt",
                value=out["lastActivityAt"],
                sources="lastActivity, completedAt or firstActivity",
            )
        )
    else:
        errors.append(
            (
                "lastActivityAt",
                m.V1_MISSING.format(field="lastActivityAt", sources="lastActivity, completedAt or firstActivity"),
            )
        )

    if first is not None:
        out["firstActivityAt"] = first
    elif last is not None or completed is not None:
        source, value = ("lastActivity", last) if last is not None else ("completedAt", completed)
        out["firstActivityAt"] = value
        notes.append(
            m.NOTE_V1_DERIVED.format(field="firstActivityAt", source=source, value=value, missing="firstActivity")
        )
    elif defaults.first_activity_at is not None or "lastActivityAt" in out:
        value = (
            v.canonical_datetime(defaults.first_activity_at)
            if defaults.first_activity_at is not None
            else out["lastActivityAt"]
        )
        out["firstActivityAt"] = value
        notes.append(
            m.NOTE_V1_DEFAULT.format(
                field="firstActivityAt", value=value, sources="firstActivity, lastActivity or completedAt"
            )
        )
    else:
        errors.append(
            (
                "firstActivityAt",
                m.V1_MISSING.format(field="firstActivityAt", sources="firstActivity, lastActivity or completedAt"),
            )
        )

    for name in ("score", "result"):
        if _given(record, name):
            out[name] = record[name]
    if defaults.lang is not None:
        out["lang"] = defaults.lang
        notes.append(m.NOTE_V1_DEFAULT.format(field="lang", value=defaults.lang, sources="lang (new in v2)"))
    if defaults.force_new is not None:
        out["forceNew"] = defaults.force_new
        notes.append(
            m.NOTE_V1_DEFAULT.format(field="forceNew", value=defaults.force_new, sources="forceNew (new in v2)")
        )
    notes.extend(m.NOTE_V1_IGNORED_FIELD.format(field=k) for k in record if k not in V1_STATS_FIELDS)
    return Converted(out, tuple(notes), tuple(errors))


_COURSE_RENAMES = (
    ("externalId", "externalId"),
    ("title", "name"),
    ("language", "defaultLang"),
    ("launchUrl", "launchUrl"),
    ("description", "description"),
    ("mobileLaunchUrl", "mobileLaunchUrl"),
    ("thumbnailUrl", "imageUrl"),
    ("difficultyLevel", "difficultyLevel"),
    ("contentType", "contentType"),
)


def convert_course(record: dict[str, Any], defaults: V1Defaults) -> Converted:
    """A v1 externalCourse object as an ExternalCourseDTO-shaped record."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    errors: list[tuple[str, str]] = []
    for v1_name, v2_name in _COURSE_RENAMES:
        if _given(record, v1_name):
            out[v2_name] = record[v1_name]
        elif v1_name != v2_name and v2_name in ("name", "defaultLang"):
            # Name the v1 field the user's file lacks, not the v2 one.
            errors.append((v2_name, m.REQUIRED.format(field=v1_name)))

    duration = record.get("courseDuration")
    if duration is not None:
        if (
            isinstance(duration, int | float)
            and not isinstance(duration, bool)
            and math.isfinite(duration)
            and not float(duration).is_integer()
        ):
            rounded = max(1, math.floor(duration + 0.5))
            notes.append(m.NOTE_V1_DURATION_ROUNDED.format(value=duration, rounded=rounded))
            duration = rounded
        out["duration"] = duration

    if defaults.subjects:
        out["subjects"] = list(defaults.subjects)
    else:
        out["subjects"] = []
    notes.append(m.NOTE_V1_DEFAULT.format(field="subjects", value=out["subjects"], sources="subjects"))
    if defaults.source_name:
        source = {"name": defaults.source_name}
        if defaults.source_logo_url:
            source["logoUrl"] = defaults.source_logo_url
        out["sources"] = [source]
    else:
        out["sources"] = []
    notes.append(m.NOTE_V1_DEFAULT.format(field="sources", value=out["sources"], sources="sources"))

    alternatives = record.get("alternativeLanguages")
    if alternatives:
        if isinstance(alternatives, list) and all(isinstance(lang, str) for lang in alternatives):
            langs = [lang for lang in dict.fromkeys(alternatives) if lang != record.get("language")]
            if langs:
                out["translations"] = [{"lang": lang, "translatedFields": {}} for lang in langs]
                notes.append(m.NOTE_V1_TRANSLATIONS.format(langs=", ".join(langs)))
        else:
            errors.append(
                ("translations", m.NOT_A_LIST.format(field="alternativeLanguages", type=v.type_name(alternatives)))
            )
    if record.get("authors"):
        notes.append(m.NOTE_V1_AUTHORS_DROPPED.format(value=record["authors"]))
    notes.extend(m.NOTE_V1_IGNORED_FIELD.format(field=k) for k in record if k not in V1_COURSE_FIELDS)
    return Converted(out, tuple(notes), tuple(errors))


def convert_archive(record: dict[str, Any], defaults: V1Defaults) -> Converted:
    """A v1 externalCourse object as an archive record: only its externalId matters."""
    if _given(record, "externalId"):
        return Converted({"externalId": record["externalId"]}, (), ())
    return Converted({}, (), (("externalId", m.REQUIRED.format(field="externalId")),))


def looks_like_v1(record: Any, *, stats: bool) -> bool:
    """Whether a bare JSON record is in the v1 shape rather than the v2 one (decided on the
    first record of a top-level array)."""
    if not isinstance(record, dict):
        return False
    if stats:
        return (
            "courseIdentifier" not in record
            and "userIdentifier" not in record
            and ("mail" in record or "externalId" in record)
        )
    return "name" not in record and "defaultLang" not in record and ("title" in record or "language" in record)
