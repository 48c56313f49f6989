"""Build one request record per input row, checking every field on the way.

A builder returns ``(payload, errors, notes)``: ``payload`` is the record in the exact v2
request shape (``None`` when any field is invalid), ``errors`` a list of ``(field, reason)``,
``notes`` a list of sentences about what was changed or ignored. Builders never raise for bad
data and never call jsonschema: each field has a precompiled check from ``values``.

Two families, one per input shape:

- ``*_from_cells(values)``: tabular rows, ``values`` = ``{flat field: non-empty cell}``.
  Errors name flat fields (``userMail``, ``translations.fr.name``).
- ``*_from_json(record, preset=...)``: decoded JSON in the request shape (also v1 payloads after
  ``v1`` conversion). Errors name request paths (``userIdentifier.value``, ``sources[0].name``).
  JSON ``null`` is read as "absent". ``preset`` errors (from the v1 conversion) replace the
  builder's own check of those fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from integrations.imports import messages as m, values as v
from integrations.imports.kinds import (
    CONTENT_TYPES,
    COURSE_IDENTIFIER_TYPES,
    DIFFICULTY_LEVELS,
    DURATION_MAX_MINUTES,
    DURATION_MIN_MINUTES,
    LIST_SEPARATOR,
    PROGRESS_MAX,
    PROGRESS_MIN,
    SCORE_MAX,
    SCORE_MIN,
    STAT_RESULTS,
    TIME_SPENT_MIN_MS,
    TRANSLATED_FIELDS,
    TRANSLATION_PREFIX,
    USER_IDENTIFIER_TYPES,
    Kind,
)
from integrations.imports.values import Invalid

Errors = list[tuple[str, str]]
Notes = list[str]
Built = tuple[dict[str, Any] | None, Errors, Notes]
Check = Callable[[str, Any], Any]

_CONTENT_TYPES = v.choices(CONTENT_TYPES)
_DIFFICULTY_LEVELS = v.choices(DIFFICULTY_LEVELS)
_RESULTS = v.choices(STAT_RESULTS)
_COURSE_ID_TYPES = v.choices(COURSE_IDENTIFIER_TYPES)
_USER_ID_TYPES = v.choices(USER_IDENTIFIER_TYPES)


def _absent(value: Any) -> bool:
    return value is None or value == ""


# --- per-field checks, one table per input family ------------------------------------------
def _progress(number: Callable[[str, Any], float]) -> Check:
    # The schema says "expressed as an integer (0-100)": 33.3 is refused, not rounded.
    return lambda f, x: v.in_range(f, number(f, x), PROGRESS_MIN, PROGRESS_MAX, whole=True)


def _score(number: Callable[[str, Any], float]) -> Check:
    return lambda f, x: v.in_range(f, number(f, x), SCORE_MIN, SCORE_MAX)


def _time_spent(number: Callable[[str, Any], float]) -> Check:
    return lambda f, x: v.at_least(f, number(f, x), TIME_SPENT_MIN_MS, " ms")


def _duration(number: Callable[[str, Any], float]) -> Check:
    return lambda f, x: v.in_range(f, number(f, x), DURATION_MIN_MINUTES, DURATION_MAX_MINUTES, whole=True)


def _with(text: Callable[[str, Any], str], then: Callable[..., Any], *args: Any) -> Check:
    return lambda f, x: then(f, text(f, x), *args)


def _checks(text: Callable[[str, Any], str], number: Callable[[str, Any], float], boolean: Check) -> dict[str, Check]:
    return {
        "progress": _progress(number),
        "timeSpent": _time_spent(number),
        "score": _score(number),
        "result": _with(text, v.choice, _RESULTS),
        "lang": _with(text, v.lang),
        "forceNew": boolean,
        "text": text,
        "url": _with(text, v.url),
        "objectId": _with(text, v.object_id),
        "email": _with(text, v.email),
        "difficultyLevel": _with(text, v.choice, _DIFFICULTY_LEVELS),
        "contentType": _with(text, v.choice, _CONTENT_TYPES),
        "duration": _duration(number),
    }


CELL_CHECKS = _checks(v.text_cell, v.number_cell, v.boolean_cell)
JSON_CHECKS = _checks(v.text_json, v.number_json, v.boolean_json)


def _dates(source: dict[str, Any], out: dict[str, Any], errors: Errors) -> None:
    moments: dict[str, datetime] = {}
    for name in ("firstActivityAt", "lastActivityAt"):
        raw = source.get(name)
        if _absent(raw):
            errors.append((name, m.REQUIRED.format(field=name)))
            continue
        try:
            moments[name], out[name] = v.datetime_value(name, raw)
        except Invalid as error:
            errors.append((name, error.reason))
    if len(moments) == 2 and moments["firstActivityAt"] > moments["lastActivityAt"]:
        errors.append(
            ("firstActivityAt", m.DATES_REVERSED.format(first=out["firstActivityAt"], last=out["lastActivityAt"]))
        )


def _stats_scalars(source: dict[str, Any], out: dict[str, Any], errors: Errors, checks: dict[str, Check]) -> None:
    # The JSON family's scalars (stats scalars have the same names flat and in the request).
    for name in ("progress", "timeSpent"):
        raw = source.get(name)
        if _absent(raw):
            errors.append((name, m.REQUIRED.format(field=name)))
            continue
        try:
            out[name] = checks[name](name, raw)
        except Invalid as error:
            errors.append((name, error.reason))
    _dates(source, out, errors)
    for name in ("score", "result", "lang", "forceNew"):
        raw = source.get(name)
        if _absent(raw):
            continue
        try:
            out[name] = checks[name](name, raw)
        except Invalid as error:
            errors.append((name, error.reason))


# --- stats ------------------------------------------------------------------------------------
_STATS_ORDER = (
    "courseIdentifier",
    "userIdentifier",
    "progress",
    "timeSpent",
    "firstActivityAt",
    "lastActivityAt",
    "score",
    "result",
    "lang",
    "forceNew",
)


def _identifier_cells(
    values: dict[str, Any],
    errors: Errors,
    by_value: tuple[str, str, Check],
    by_id: str,
) -> dict[str, str] | None:
    # One of two columns names the course (or learner): its own id kind, or the 360Learning id.
    value_field, value_type, value_check = by_value
    by_value_raw, by_id_raw = values.get(value_field), values.get(by_id)
    try:
        if by_value_raw is not None and by_id_raw is not None:
            errors.append((by_id, m.BOTH_GIVEN.format(first=value_field, second=by_id)))
        elif by_id_raw is not None:
            return {"type": "internalId", "value": CELL_CHECKS["objectId"](by_id, by_id_raw)}
        elif by_value_raw is not None:
            return {"type": value_type, "value": value_check(value_field, by_value_raw)}
        else:
            errors.append((value_field, m.REQUIRED_ONE_OF.format(fields=f"{value_field} or {by_id}")))
    except Invalid as error:
        errors.append((by_id if by_id_raw is not None else value_field, error.reason))
    return None


_REQUIRED = {name: m.REQUIRED.format(field=name) for name in ("progress", "timeSpent")}


def stats_from_cells(values: dict[str, Any]) -> Built:
    """A stats record from flat cells (``courseExternalId``|``courseId``, ``userMail``|``userId``, ...).

    The hot path of a large import, so written out field by field (no table lookups or
    lambdas per cell); the JSON family shares ``_stats_scalars`` instead.
    """
    errors: Errors = []
    out: dict[str, Any] = {}
    get = values.get
    course = _identifier_cells(values, errors, ("courseExternalId", "externalId", v.text_cell), "courseId")
    user = _identifier_cells(values, errors, ("userMail", "mail", _email_cell), "userId")
    if course:
        out["courseIdentifier"] = course
    if user:
        out["userIdentifier"] = user
    try:
        raw = get("progress")
        if raw is None:
            errors.append(("progress", _REQUIRED["progress"]))
        else:
            out["progress"] = v.in_range(
                "progress", v.number_cell("progress", raw), PROGRESS_MIN, PROGRESS_MAX, whole=True
            )
    except Invalid as error:
        errors.append(("progress", error.reason))
    try:
        raw = get("timeSpent")
        if raw is None:
            errors.append(("timeSpent", _REQUIRED["timeSpent"]))
        else:
            out["timeSpent"] = v.at_least("timeSpent", v.number_cell("timeSpent", raw), TIME_SPENT_MIN_MS, " ms")
    except Invalid as error:
        errors.append(("timeSpent", error.reason))
    _dates(values, out, errors)
    raw = get("score")
    if raw is not None:
        try:
            out["score"] = v.in_range("score", v.number_cell("score", raw), SCORE_MIN, SCORE_MAX)
        except Invalid as error:
            errors.append(("score", error.reason))
    for name in ("result", "lang", "forceNew"):
        raw = get(name)
        if raw is not None:
            try:
                out[name] = CELL_CHECKS[name](name, raw)
            except Invalid as error:
                errors.append((name, error.reason))
    if errors:
        return None, errors, []
    return out, errors, []


def _email_cell(field: str, raw: Any) -> str:
    return v.email(field, v.text_cell(field, raw))


def _identifier_json(
    record: dict[str, Any], name: str, types: dict[str, str], errors: Errors, notes: Notes
) -> dict[str, str] | None:
    raw = record.get(name)
    if _absent(raw):
        errors.append((name, m.REQUIRED.format(field=name)))
        return None
    if not isinstance(raw, dict):
        errors.append((name, m.NOT_AN_OBJECT.format(field=name, type=v.type_name(raw))))
        return None
    for key in raw.keys() - {"type", "value"}:
        notes.append(m.NOTE_UNKNOWN_FIELD.format(field=f"{name}.{key}"))
    kind, value = raw.get("type"), raw.get("value")
    result: dict[str, str] = {}
    if _absent(kind):
        errors.append((f"{name}.type", m.REQUIRED.format(field=f"{name}.type")))
    else:
        try:
            result["type"] = JSON_CHECKS["text"](f"{name}.type", kind)
            result["type"] = v.choice(f"{name}.type", result["type"], types)
        except Invalid as error:
            errors.append((f"{name}.type", error.reason))
    field = f"{name}.value"
    if _absent(value):
        errors.append((field, m.REQUIRED.format(field=field)))
        return None
    try:
        text = JSON_CHECKS["text"](field, value)
        if result.get("type") == "internalId":
            text = v.object_id(field, text)
        elif result.get("type") == "mail":
            text = v.email(field, text)
        result["value"] = text
    except Invalid as error:
        errors.append((field, error.reason))
    return result if len(result) == 2 else None


def stats_from_json(record: dict[str, Any], *, preset: Errors = ()) -> Built:
    """A stats record from a decoded ImportExternalStatisticsDTO-shaped object."""
    errors: Errors = list(preset)
    notes: Notes = [m.NOTE_UNKNOWN_FIELD.format(field=k) for k in record if k not in _STATS_KEYS]
    skip = {field for field, _ in preset}
    out: dict[str, Any] = {}
    for name, types in (("courseIdentifier", _COURSE_ID_TYPES), ("userIdentifier", _USER_ID_TYPES)):
        if name not in skip:
            identifier = _identifier_json(record, name, types, errors, notes)
            if identifier:
                out[name] = identifier
    source = {k: val for k, val in record.items() if k not in skip} if skip else record
    before = len(errors)
    _stats_scalars(source, out, errors, JSON_CHECKS)
    if skip:
        # A preset reason (v1: "no globalTime and no default") replaces "timeSpent is required".
        errors[before:] = [e for e in errors[before:] if e[0] not in skip]
    if errors:
        return None, errors, notes
    return {k: out[k] for k in _STATS_ORDER if k in out}, errors, notes


_STATS_KEYS = frozenset(_STATS_ORDER)


def stats_key(payload: dict[str, Any]) -> tuple[str, ...]:
    """Duplicate key of a stats record: course, learner (mail case-insensitive), firstActivityAt."""
    course, user = payload["courseIdentifier"], payload["userIdentifier"]
    value = user["value"].casefold() if user["type"] == "mail" else user["value"]
    return (course["type"], course["value"], user["type"], value, payload["firstActivityAt"])


# --- courses ----------------------------------------------------------------------------------
_COURSE_REQUIRED_TEXT = (
    ("externalId", "text"),
    ("name", "text"),
    ("defaultLang", "lang"),
    ("launchUrl", "url"),
)
_COURSE_OPTIONAL = (
    ("description", "text"),
    ("mobileLaunchUrl", "url"),
    ("imageUrl", "url"),
    ("difficultyLevel", "difficultyLevel"),
    ("contentType", "contentType"),
    ("duration", "duration"),
)
_CHECK_OF_TRANSLATED = {"name": "text", "description": "text", "launchUrl": "url", "mobileLaunchUrl": "url"}
_COURSE_KEYS = frozenset(
    [f for f, _ in _COURSE_REQUIRED_TEXT]
    + [f for f, _ in _COURSE_OPTIONAL]
    + ["subjects", "sources", "authorId", "translations"]
)


def _scalars(
    source: dict[str, Any],
    out: dict[str, Any],
    errors: Errors,
    checks: dict[str, Check],
    *,
    required: bool,
    fields: tuple[tuple[str, str], ...],
) -> None:
    for name, check in fields:
        raw = source.get(name)
        if _absent(raw):
            if required:
                errors.append((name, m.REQUIRED.format(field=name)))
            continue
        try:
            out[name] = checks[check](name, raw)
        except Invalid as error:
            errors.append((name, error.reason))


def _split(cell: Any) -> list[str]:
    return [part.strip() for part in str(cell).split(LIST_SEPARATOR)]


def _subjects_cell(cell: Any) -> list[str]:
    # Empty items ("a||b", a trailing "|") are dropped rather than refused.
    return [part for part in _split(cell) if part] if not _absent(cell) else []


def courses_from_cells(values: dict[str, Any]) -> Built:
    """An external course from flat cells; ``subjects``/``sourceName``/``sourceLogoUrl`` are
    ``|``-separated, ``translations.<lang>.<field>`` cells give translations."""
    errors: Errors = []
    out: dict[str, Any] = {}
    _scalars(values, out, errors, CELL_CHECKS, required=True, fields=_COURSE_REQUIRED_TEXT)
    _scalars(values, out, errors, CELL_CHECKS, required=False, fields=_COURSE_OPTIONAL)
    out["subjects"] = _subjects_cell(values.get("subjects"))
    names = _split(values["sourceName"]) if "sourceName" in values else []
    logos = _split(values["sourceLogoUrl"]) if "sourceLogoUrl" in values else []
    sources: list[dict[str, str]] = []
    if len(logos) > len(names):
        errors.append(("sourceLogoUrl", m.LOGO_WITHOUT_SOURCE.format(logos=len(logos), names=len(names))))
    else:
        for position, name in enumerate(names):
            logo = logos[position] if position < len(logos) else ""
            if not name:
                errors.append(("sourceName", m.EMPTY.format(field="sourceName")))
                continue
            source = {"name": name}
            if logo:
                try:
                    source["logoUrl"] = v.url("sourceLogoUrl", logo)
                except Invalid as error:
                    errors.append(("sourceLogoUrl", error.reason))
            sources.append(source)
    out["sources"] = sources
    if "authorId" in values:
        try:
            out["authorId"] = CELL_CHECKS["objectId"]("authorId", values["authorId"])
        except Invalid as error:
            errors.append(("authorId", error.reason))
    translations: dict[str, dict[str, Any]] = {}
    for name, cell in values.items():
        if not name.startswith(TRANSLATION_PREFIX):
            continue
        lang, _, field = name[len(TRANSLATION_PREFIX) :].partition(".")
        fields = translations.setdefault(lang, {})
        if field == "subjects":
            fields["subjects"] = _subjects_cell(cell)
        else:
            try:
                fields[field] = CELL_CHECKS[_CHECK_OF_TRANSLATED[field]](name, cell)
            except Invalid as error:
                errors.append((name, error.reason))
    if translations:
        out["translations"] = [
            {"lang": lang, "translatedFields": {f: fields[f] for f in TRANSLATED_FIELDS if f in fields}}
            for lang, fields in translations.items()
        ]
    if errors:
        return None, errors, []
    return out, errors, []


def _string_list(field: str, raw: Any, errors: Errors) -> list[str] | None:
    if not isinstance(raw, list):
        errors.append((field, m.NOT_A_LIST.format(field=field, type=v.type_name(raw))))
        return None
    items = []
    for index, item in enumerate(raw):
        try:
            items.append(JSON_CHECKS["text"](f"{field}[{index}]", item))
        except Invalid as error:
            errors.append((f"{field}[{index}]", error.reason))
    return items


def _sources_json(raw: Any, errors: Errors, notes: Notes) -> list[dict[str, str]] | None:
    if not isinstance(raw, list):
        errors.append(("sources", m.NOT_A_LIST.format(field="sources", type=v.type_name(raw))))
        return None
    sources = []
    for index, item in enumerate(raw):
        field = f"sources[{index}]"
        if not isinstance(item, dict):
            errors.append((field, m.NOT_AN_OBJECT.format(field=field, type=v.type_name(item))))
            continue
        notes.extend(m.NOTE_UNKNOWN_FIELD.format(field=f"{field}.{k}") for k in item.keys() - {"name", "logoUrl"})
        source: dict[str, str] = {}
        if _absent(item.get("name")):
            errors.append((f"{field}.name", m.REQUIRED.format(field=f"{field}.name")))
        else:
            try:
                source["name"] = JSON_CHECKS["text"](f"{field}.name", item["name"])
            except Invalid as error:
                errors.append((f"{field}.name", error.reason))
        if not _absent(item.get("logoUrl")):
            try:
                source["logoUrl"] = JSON_CHECKS["url"](f"{field}.logoUrl", item["logoUrl"])
            except Invalid as error:
                errors.append((f"{field}.logoUrl", error.reason))
        sources.append(source)
    return sources


def _translations_json(raw: Any, errors: Errors, notes: Notes) -> list[dict[str, Any]] | None:
    if not isinstance(raw, list):
        errors.append(("translations", m.NOT_A_LIST.format(field="translations", type=v.type_name(raw))))
        return None
    result = []
    langs: set[str] = set()
    for index, item in enumerate(raw):
        field = f"translations[{index}]"
        if not isinstance(item, dict):
            errors.append((field, m.NOT_AN_OBJECT.format(field=field, type=v.type_name(item))))
            continue
        notes.extend(
            m.NOTE_UNKNOWN_FIELD.format(field=f"{field}.{k}") for k in item.keys() - {"lang", "translatedFields"}
        )
        translation: dict[str, Any] = {}
        if _absent(item.get("lang")):
            errors.append((f"{field}.lang", m.REQUIRED.format(field=f"{field}.lang")))
        else:
            try:
                lang = JSON_CHECKS["lang"](f"{field}.lang", item["lang"])
                if lang in langs:
                    errors.append((f"{field}.lang", m.DUPLICATE_LANG.format(field="translations", value=lang)))
                langs.add(lang)
                translation["lang"] = lang
            except Invalid as error:
                errors.append((f"{field}.lang", error.reason))
        fields_raw = item.get("translatedFields")
        fields_name = f"{field}.translatedFields"
        if fields_raw is None:
            errors.append((fields_name, m.REQUIRED.format(field=fields_name)))
        elif not isinstance(fields_raw, dict):
            errors.append((fields_name, m.NOT_AN_OBJECT.format(field=fields_name, type=v.type_name(fields_raw))))
        else:
            notes.extend(
                m.NOTE_UNKNOWN_FIELD.format(field=f"{fields_name}.{k}")
                for k in fields_raw.keys() - set(TRANSLATED_FIELDS)
            )
            translated: dict[str, Any] = {}
            for name in TRANSLATED_FIELDS:
                value = fields_raw.get(name)
                if _absent(value):
                    continue
                if name == "subjects":
                    subjects = _string_list(f"{fields_name}.subjects", value, errors)
                    if subjects is not None:
                        translated["subjects"] = subjects
                    continue
                try:
                    translated[name] = JSON_CHECKS[_CHECK_OF_TRANSLATED[name]](f"{fields_name}.{name}", value)
                except Invalid as error:
                    errors.append((f"{fields_name}.{name}", error.reason))
            translation["translatedFields"] = translated
        result.append(translation)
    return result


def courses_from_json(record: dict[str, Any], *, preset: Errors = ()) -> Built:
    """An external course from a decoded ExternalCourseDTO-shaped object."""
    errors: Errors = list(preset)
    skip = {field for field, _ in preset}
    notes: Notes = [m.NOTE_UNKNOWN_FIELD.format(field=k) for k in record if k not in _COURSE_KEYS]
    out: dict[str, Any] = {}
    source = {k: val for k, val in record.items() if k not in skip} if skip else record
    _scalars(
        source,
        out,
        errors,
        JSON_CHECKS,
        required=True,
        fields=tuple(f for f in _COURSE_REQUIRED_TEXT if f[0] not in skip),
    )
    _scalars(source, out, errors, JSON_CHECKS, required=False, fields=_COURSE_OPTIONAL)
    for name in ("subjects", "sources"):
        if name in skip:
            continue
        raw = source.get(name)
        if raw is None:
            errors.append((name, m.REQUIRED.format(field=name)))
            continue
        listed = _string_list(name, raw, errors) if name == "subjects" else _sources_json(raw, errors, notes)
        if listed is not None:
            out[name] = listed
    if not _absent(source.get("authorId")):
        try:
            out["authorId"] = JSON_CHECKS["objectId"]("authorId", source["authorId"])
        except Invalid as error:
            errors.append(("authorId", error.reason))
    if source.get("translations") is not None:
        translations = _translations_json(source["translations"], errors, notes)
        if translations:
            out["translations"] = translations
    if errors:
        return None, errors, notes
    return out, errors, notes


def course_key(payload: dict[str, Any]) -> tuple[str, ...]:
    """Duplicate key of a course or archive record: its externalId."""
    return (payload["externalId"],)


# --- archive ----------------------------------------------------------------------------------
def archive_from_cells(values: dict[str, Any]) -> Built:
    """An archive record (``{"externalId"}``) from flat cells."""
    errors: Errors = []
    out: dict[str, Any] = {}
    _scalars(values, out, errors, CELL_CHECKS, required=True, fields=(("externalId", "text"),))
    return (None if errors else out), errors, []


def archive_from_json(record: dict[str, Any], *, preset: Errors = ()) -> Built:
    """An archive record from a decoded object. Other keys are ignored without notes: a full
    course record is a fine way to name the course to archive."""
    errors: Errors = list(preset)
    out: dict[str, Any] = {}
    if not preset:
        _scalars(record, out, errors, JSON_CHECKS, required=True, fields=(("externalId", "text"),))
    return (None if errors else out), errors, []


CELL_BUILDERS: dict[Kind, Callable[[dict[str, Any]], Built]] = {
    Kind.STATS: stats_from_cells,
    Kind.COURSES: courses_from_cells,
    Kind.ARCHIVE_COURSES: archive_from_cells,
}
JSON_BUILDERS: dict[Kind, Callable[..., Built]] = {
    Kind.STATS: stats_from_json,
    Kind.COURSES: courses_from_json,
    Kind.ARCHIVE_COURSES: archive_from_json,
}
KEYS: dict[Kind, Callable[[dict[str, Any]], tuple[str, ...]]] = {
    Kind.STATS: stats_key,
    Kind.COURSES: course_key,
    Kind.ARCHIVE_COURSES: course_key,
}
