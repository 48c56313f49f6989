"""What each import kind sends, read from the vendor's Bulk API request schemas.

Source of truth: ``../shared/openapi/360learning-bulk-api.json``:

- ``courses``: ``PUT /api/v2/bulk/integrations/{integrationId}/courses``
  (ImportExternalCoursesBody → ExternalCourseDTO), ``maxItems`` 10,000.
- ``archive-courses``: ``DELETE /api/v2/bulk/integrations/{integrationId}/courses``
  (ArchiveExternalCoursesBody → ArchiveExternalCourseDTO), ``maxItems`` 1,000.
- ``stats``: ``POST /api/v2/bulk/integrations/{integrationId}/stats``
  (ImportExternalStatisticsBody → ImportExternalStatisticsDTO), ``maxItems`` 10,000.

The enums and limits below are copies of the schema's values so that validation needs no
document at run time; ``tests/integrations/imports/test_kinds.py`` compares every one of them
with the shipped document, so a vendor change fails the suite instead of drifting silently.

Tabular files (CSV, XLSX) use *flat field names*: one column per scalar of the request record,
``courseExternalId``/``courseId`` for ``courseIdentifier`` and ``userMail``/``userId`` for
``userIdentifier``; lists are ``|``-separated cells (``subjects``), ``sourceName`` and
``sourceLogoUrl`` give ``sources`` (``|``-separated, pairwise), and course translations are
columns named ``translations.<lang>.<field>`` (suggested from headers such as ``name_fr``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """The three imports, named as on the command line (``run_import {courses,archive-courses,stats}``)
    and as ``ImportRun.kind`` stores them; ``label`` is what the pages show."""

    COURSES = "courses"
    ARCHIVE_COURSES = "archive-courses"
    STATS = "stats"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: dict[Kind, str] = {
    Kind.COURSES: "Courses upsert",
    Kind.ARCHIVE_COURSES: "Courses archive",
    Kind.STATS: "Learner statistics",
}
#: (value, label) of each kind: the model fields' and forms' ``choices``.
KIND_CHOICES: list[tuple[str, str]] = [(kind.value, kind.label) for kind in Kind]


#: ``maxItems`` of each request's ``input`` array.
COURSES_UPSERT_LIMIT = 10_000
COURSES_ARCHIVE_LIMIT = 1_000
STATS_IMPORT_LIMIT = 10_000
LIMITS: dict[Kind, int] = {
    Kind.COURSES: COURSES_UPSERT_LIMIT,
    Kind.ARCHIVE_COURSES: COURSES_ARCHIVE_LIMIT,
    Kind.STATS: STATS_IMPORT_LIMIT,
}

#: (HTTP method, path template) of each kind's bulk call.
OPERATIONS: dict[Kind, tuple[str, str]] = {
    Kind.COURSES: ("PUT", "/api/v2/bulk/integrations/{integrationId}/courses"),
    Kind.ARCHIVE_COURSES: ("DELETE", "/api/v2/bulk/integrations/{integrationId}/courses"),
    Kind.STATS: ("POST", "/api/v2/bulk/integrations/{integrationId}/stats"),
}

# Enums, in the document's order (``el`` is listed twice there; once is enough here).
LANGS: tuple[str, ...] = (
    "bg", "cs", "da", "de", "el", "en", "es", "fi", "fr", "hr", "ht_HT", "hu", "id", "it", "ja",
    "kar_MM", "ko", "lt", "mh_MH", "nl", "nl_BE", "no", "pl", "pt", "ro", "ru", "rw_RW", "sk", "sl",
    "so_SO", "sv", "sw_KE", "th", "ti_ET", "tr", "uk", "zh", "am_ET", "bn", "bs", "ca", "cy", "en_CA",
    "en_GB", "es_AR", "es_MX", "et", "fr_CA", "gu", "he_IL", "hy", "kk", "km", "lo", "lv", "mi",
    "mn_MN", "mr", "ms", "my_MM", "nn_NO", "or", "pa", "pt_BR", "pt_MZ", "rn_BI", "si", "ta", "te",
    "tl_PH", "ur", "uz", "yo_NG", "zh_tw", "hi", "sr", "ar", "vi", "zh_HANT",
)  # fmt: skip
CONTENT_TYPES: tuple[str, ...] = (
    "article", "assessment", "audiobook", "book", "certificate", "channel", "course", "curriculum",
    "interactive", "journey", "labs", "linkedContent", "mooc", "podcast", "program", "roleplay",
    "specialization", "topvoice", "video",
)  # fmt: skip
DIFFICULTY_LEVELS: tuple[str, ...] = ("advanced", "beginner", "intermediate")
STAT_RESULTS: tuple[str, ...] = ("success", "failed")
COURSE_IDENTIFIER_TYPES: tuple[str, ...] = ("externalId", "internalId")
USER_IDENTIFIER_TYPES: tuple[str, ...] = ("mail", "internalId")

# Numeric bounds of the schema (ImportExternalStatisticsDTO, ExternalCourseDTO).
PROGRESS_MIN, PROGRESS_MAX = 0, 100
SCORE_MIN, SCORE_MAX = 0, 100
TIME_SPENT_MIN_MS = 1
DURATION_MIN_MINUTES, DURATION_MAX_MINUTES = 1, 100_000

#: Fields of ExternalCourseTranslatedFields, in the document's order.
TRANSLATED_FIELDS: tuple[str, ...] = ("description", "launchUrl", "mobileLaunchUrl", "name", "subjects")
#: Separator of list cells in tabular files (subjects, sourceName, sourceLogoUrl).
LIST_SEPARATOR = "|"
TRANSLATION_PREFIX = "translations."


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One flat field a tabular column can be mapped to.

    ``aliases`` are header spellings suggested for it, compared after normalisation (case,
    spaces, ``_``, ``-`` and ``.`` ignored); earlier aliases win when several headers match.
    """

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    #: The column guide of the new-import page and the downloadable templates read these:
    #: how to write a cell, a cell that passes validation, and what 360Learning does with it.
    format: str = ""
    example: str = ""
    effect: str = ""


@dataclass(frozen=True, slots=True)
class Requirement:
    """A required field, satisfied by mapping any one of ``fields``."""

    fields: tuple[str, ...]

    @property
    def label(self) -> str:
        return " or ".join(self.fields)


_DATE_FORMAT = "Date and time, ISO 8601: 2025-03-01T09:30:00Z (no zone: UTC; a bare date: midnight UTC)"
_OBJECT_ID_FORMAT = "24 hexadecimal characters"

STATS_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "courseExternalId",
        "Course external id",
        ("externalId", "courseExternalId", "externalCourseId", "course", "courseCode"),
        format="Text: the external id the course was imported with",
        example="coursera-python-101",
        effect="Finds the external course of this integration that the statistics are about.",
    ),
    FieldSpec(
        "courseId",
        "Course 360Learning id",
        ("courseId", "courseInternalId", "internalCourseId"),
        format=_OBJECT_ID_FORMAT,
        example="",
        effect="Finds the course by its 360Learning id instead (give one of the two course columns, not both).",
    ),
    FieldSpec(
        "userMail",
        "Learner e-mail",
        ("userMail", "mail", "email", "e-mail", "emailAddress", "userEmail", "learnerEmail", "learnerMail"),
        format="E-mail address of an existing 360Learning user",
        example="learner@example.com",
        effect="Finds the learner (case does not matter); an unknown e-mail makes 360Learning refuse the row.",
    ),
    FieldSpec(
        "userId",
        "Learner 360Learning id",
        ("userId", "userInternalId", "learnerId"),
        format=_OBJECT_ID_FORMAT,
        example="",
        effect="Finds the learner by their 360Learning id instead (give one of the two learner columns, not both).",
    ),
    FieldSpec(
        "progress",
        "Progress (0-100)",
        ("progress", "progression", "progressPercent", "completion", "completionPercent", "percentComplete"),
        format="Whole number from 0 to 100 (50 or 50%)",
        example="100",
        effect="Sets the attempt's progress; 100 completes the course, on the last activity date.",
    ),
    FieldSpec(
        "timeSpent",
        "Time spent (ms)",
        ("timeSpent", "timeSpentMs", "globalTime"),
        format="Milliseconds, at least 1 (30 minutes = 1800000)",
        example="1800000",
        effect="Sets the time the learner spent on the attempt.",
    ),
    FieldSpec(
        "firstActivityAt",
        "First activity",
        ("firstActivityAt", "firstActivity", "startedAt", "startDate", "firstAccess"),
        format=_DATE_FORMAT,
        example="2025-03-01T09:00:00Z",
        effect="Start of the attempt; later than every existing attempt's end, it starts a new attempt.",
    ),
    FieldSpec(
        "lastActivityAt",
        "Last activity (completion date at 100%)",
        ("lastActivityAt", "lastActivity", "completedAt", "completionDate", "lastAccess"),
        format=f"{_DATE_FORMAT}; not before the first activity",
        example="2025-03-01T09:30:00Z",
        effect="Last time the learner worked on it; the completion date when progress is 100.",
    ),
    FieldSpec(
        "score",
        "Score (0-100)",
        ("score", "grade"),
        format="Number from 0 to 100",
        example="85",
        effect="Sets the attempt's score.",
    ),
    FieldSpec(
        "result",
        "Result (success|failed)",
        ("result", "outcome"),
        format="success or failed",
        example="success",
        effect="Marks the attempt passed or failed.",
    ),
    FieldSpec(
        "lang",
        "Language played",
        ("lang", "language", "locale"),
        format="Language code, e.g. en, fr, pt_BR",
        example="en",
        effect="Records which language version the learner played.",
    ),
    FieldSpec(
        "forceNew",
        "Force a new attempt",
        ("forceNew", "newAttempt"),
        format="true or false (also yes/no, 1/0)",
        example="false",
        effect="true always creates a new attempt instead of updating the learner's open one.",
    ),
)

_EXTERNAL_ID = FieldSpec(
    "externalId",
    "External id",
    ("externalId", "courseExternalId", "id", "courseId", "code", "courseCode"),
    format="Text, unique in this integration",
    example="coursera-python-101",
    effect="Identifies the course: a new id creates a course, a known one updates it.",
)

COURSES_FIELDS: tuple[FieldSpec, ...] = (
    _EXTERNAL_ID,
    FieldSpec(
        "name",
        "Name",
        ("name", "title", "courseName", "courseTitle"),
        format="Text",
        example="Python for beginners",
        effect="The course title learners see.",
    ),
    FieldSpec(
        "defaultLang",
        "Default language",
        ("defaultLang", "language", "lang", "locale"),
        format="Language code, e.g. en, fr, pt_BR",
        example="en",
        effect="The course's main language.",
    ),
    FieldSpec(
        "launchUrl",
        "Launch URL",
        ("launchUrl", "url", "link", "courseUrl"),
        format="https:// address",
        example="https://www.coursera.org/learn/python",
        effect="Where learners are sent when they open the course.",
    ),
    FieldSpec(
        "description",
        "Description",
        ("description", "summary"),
        format="Text",
        example="The basics of Python in six short lessons.",
        effect="Shown on the course page.",
    ),
    FieldSpec(
        "mobileLaunchUrl",
        "Mobile launch URL",
        ("mobileLaunchUrl", "mobileUrl"),
        format="https:// address",
        example="https://m.coursera.org/learn/python",
        effect="Opened instead of the launch URL on the mobile app.",
    ),
    FieldSpec(
        "imageUrl",
        "Image URL",
        ("imageUrl", "thumbnailUrl", "thumbnail", "image"),
        format="https:// address of an image",
        example="https://example.com/python.png",
        effect="The course's cover image.",
    ),
    FieldSpec(
        "difficultyLevel",
        "Difficulty",
        ("difficultyLevel", "difficulty", "level"),
        format=", ".join(DIFFICULTY_LEVELS),
        example="beginner",
        effect="Shown as the course's level.",
    ),
    FieldSpec(
        "contentType",
        "Content type",
        ("contentType", "type"),
        format="One of: " + ", ".join(CONTENT_TYPES),
        example="course",
        effect="Shown as the kind of content (course, video, podcast…).",
    ),
    FieldSpec(
        "duration",
        "Duration (minutes)",
        ("duration", "durationMinutes", "courseDuration", "minutes"),
        format=f"Whole number of minutes, {DURATION_MIN_MINUTES} to {DURATION_MAX_MINUTES:,}",
        example="90",
        effect="Shown as the course's expected length.",
    ),
    FieldSpec(
        "subjects",
        "Subjects (|-separated)",
        ("subjects", "subject", "topics"),
        format="Texts separated by |",
        example="Programming|Python",
        effect="Tags the course with these subjects (empty: none).",
    ),
    FieldSpec(
        "sourceName",
        "Source names (|-separated)",
        ("sourceName", "sources", "source", "provider"),
        format="Texts separated by |",
        example="Coursera",
        effect="Names the course's providers (empty: none).",
    ),
    FieldSpec(
        "sourceLogoUrl",
        "Source logo URLs (|-separated)",
        ("sourceLogoUrl", "sourceLogo", "providerLogo"),
        format="https:// addresses separated by |, in the order of the source names",
        example="https://example.com/coursera.png",
        effect="The logo of each source.",
    ),
    FieldSpec(
        "authorId",
        "Author 360Learning id",
        ("authorId",),
        format=_OBJECT_ID_FORMAT,
        example="",
        effect="The course's author; empty: the integration's author.",
    ),
)

ARCHIVE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        _EXTERNAL_ID.name,
        _EXTERNAL_ID.label,
        _EXTERNAL_ID.aliases,
        format="Text: the external id the course was imported with",
        example=_EXTERNAL_ID.example,
        effect="Archives the course with this external id: learners no longer see it; its statistics stay.",
    ),
)

FIELDS: dict[Kind, tuple[FieldSpec, ...]] = {
    Kind.STATS: STATS_FIELDS,
    Kind.COURSES: COURSES_FIELDS,
    Kind.ARCHIVE_COURSES: ARCHIVE_FIELDS,
}

#: Required fields of each request record, in flat names. ``subjects`` and ``sources`` are
#: required arrays in ExternalCourseDTO but may be empty, so tabular files need no column for
#: them (an absent column sends ``[]``).
REQUIREMENTS: dict[Kind, tuple[Requirement, ...]] = {
    Kind.STATS: (
        Requirement(("courseExternalId", "courseId")),
        Requirement(("userMail", "userId")),
        Requirement(("progress",)),
        Requirement(("timeSpent",)),
        Requirement(("firstActivityAt",)),
        Requirement(("lastActivityAt",)),
    ),
    Kind.COURSES: (
        Requirement(("externalId",)),
        Requirement(("name",)),
        Requirement(("defaultLang",)),
        Requirement(("launchUrl",)),
    ),
    Kind.ARCHIVE_COURSES: (Requirement(("externalId",)),),
}


def as_kind(kind: Kind | str) -> Kind:
    """``kind`` as a ``Kind``; raises ``ValueError`` for an unknown name."""
    try:
        return Kind(kind)
    except ValueError:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(k.value for k in Kind)}") from None


def field_names(kind: Kind | str) -> tuple[str, ...]:
    """The flat field names a column can be mapped to for ``kind`` (translation fields aside)."""
    return tuple(spec.name for spec in FIELDS[as_kind(kind)])


def translation_field(lang: str, field: str) -> str:
    """The flat name of a translated course field: ``translations.<lang>.<field>``."""
    return f"{TRANSLATION_PREFIX}{lang}.{field}"


def parse_translation_field(name: str) -> tuple[str, str] | None:
    """``(lang, field)`` for a valid ``translations.<lang>.<field>`` name, else None."""
    if not name.startswith(TRANSLATION_PREFIX):
        return None
    lang, _, field = name[len(TRANSLATION_PREFIX) :].partition(".")
    if lang in LANG_SET and field in TRANSLATED_FIELDS:
        return lang, field
    return None


def is_field(kind: Kind | str, name: str) -> bool:
    """True when ``name`` is a flat field of ``kind`` (translation fields count for courses)."""
    kind = as_kind(kind)
    if name in _FIELD_SETS[kind]:
        return True
    return kind is Kind.COURSES and parse_translation_field(name) is not None


LANG_SET = frozenset(LANGS)
_FIELD_SETS = {kind: frozenset(spec.name for spec in specs) for kind, specs in FIELDS.items()}
