"""360Learning API v2 client: Core API reads, integration configurations, Bulk API.

Contracts: ``../shared/openapi/360learning-core-api.json`` and
``../shared/openapi/360learning-bulk-api.json`` (each call below names its operationId).

- Auth: OAuth2 client credentials (``POST /api/v2/oauth2/token``, JSON body), token kept
  in a ``TokenStore`` and refreshed before it expires; a ``401`` on a call gets one fresh
  token and one more try.
- Every call sends ``360-api-version: v2.0``.
- Listings are generators that follow ``Link: <url>; rel="next"`` page by page and yield
  frozen dataclasses; only one page is held in memory at a time.
- Filters are keyword arguments ``<field>_<operator>`` (``completed_at_gte=datetime``,
  ``course_id_in=[...]``) turned into bracket parameters (``completedAt[gte]=...``);
  each listing accepts only the filters its operation documents (``TypeError`` otherwise).
  ``in``/``nin`` values are sent as repeated parameters (``courseId[in]=a&courseId[in]=b``,
  deepObject with explode as the spec declares).
- Bulk calls refuse batches over the documented limits before sending (``BatchTooLarge``,
  a ``BadRequest`` and ``ValueError``), are never retried once they may have reached the
  server, and return the bulk operation id from the ``202`` ``Location`` header.

No Django imports here: the Django layer passes credentials and a token store in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import requests

from integrations.clients.errors import AuthError, BadResponse, BatchTooLarge
from integrations.clients.parsing import (
    OBJECT_ID_RE,
    Fields,
    check_object_id,
    format_datetime,
    frozen_mapping,
    json_list,
)
from integrations.clients.transport import (
    CredentialsClient,
    Transport,
)

# Documented maxItems of each bulk ``input`` array: defined once with the import kinds, which
# the import chunks by and tests/integrations/imports/test_kinds.py checks against the document.
from integrations.imports.kinds import COURSES_ARCHIVE_LIMIT, COURSES_UPSERT_LIMIT, STATS_IMPORT_LIMIT

EU_BASE_URL = "https://app.360learning.com"
US_BASE_URL = "https://app.us.360learning.com"
API_VERSION = "v2.0"

T = TypeVar("T")

# Enums the product branches on; other enums (languages, ...) stay plain strings so a
# new language does not break a sync.
USER_STATUSES = frozenset({"active", "invited", "deleted"})
DETAILED_STATUS_TYPES = frozenset(
    {
        "awaitingCorrection",
        "late",
        "notYetStarted",
        "onTime",
        "sessionNotOpened",
        "successful",
        "toRetake",
        "unsuccessful",
    }
)
DETAILED_STATUS_REASONS = frozenset({"mandatoryReplay", "sessionEnded"})
BULK_OPERATION_STATUSES = frozenset({"pending", "queued", "running", "completed", "error"})
BULK_RESULT_STATUSES = frozenset({"success", "error"})


class Learning360Transport(Transport):
    """360Learning error shapes: ``{"error": {"code", "message"}}`` and ``{"error": "invalid_token"}``."""

    # 503 bulkAPIDisabled: "The bulk API is temporarily disabled" - the request was refused.
    refusal_codes = frozenset({"bulkAPIDisabled"})


# Records ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class User:
    """A platform user (UserDTO)."""

    id: str
    status: str  # active | invited | deleted
    lang: str
    mail: str | None
    username: str | None
    first_name: str | None
    last_name: str | None
    job: str | None
    organization: str | None
    phone: str | None
    custom: str | None
    primary_group_id: str | None
    last_login_date: datetime | None
    to_be_deactivated_at: datetime | None
    deleted_at: tuple[datetime, ...]
    reactivated_at: tuple[datetime, ...]

    @classmethod
    def from_json(cls, f: Fields) -> User:
        return cls(
            id=f.object_id("_id"),
            status=f.enum("status", USER_STATUSES),
            lang=f.string("lang"),
            mail=f.opt_string("mail"),
            username=f.opt_string("username"),
            first_name=f.opt_string("firstName"),
            last_name=f.opt_string("lastName"),
            job=f.opt_string("job"),
            organization=f.opt_string("organization"),
            phone=f.opt_string("phone"),
            custom=f.opt_string("custom"),
            primary_group_id=f.opt_object_id("primaryGroupId"),
            last_login_date=f.opt_date_time("lastLoginDate"),
            to_be_deactivated_at=f.opt_date_time("toBeDeactivatedAt"),
            deleted_at=f.date_time_list("deletedAt"),
            reactivated_at=f.date_time_list("reactivatedAt"),
        )


@dataclass(frozen=True, slots=True)
class Group:
    """A group (GroupDTO)."""

    id: str
    name: str
    public: bool
    parent_id: str | None
    custom: str | None
    subdomain: str | None
    url: str | None

    @classmethod
    def from_json(cls, f: Fields) -> Group:
        return cls(
            id=f.object_id("_id"),
            name=f.string("name"),
            public=f.boolean("public"),
            parent_id=f.opt_object_id("parentId"),
            custom=f.opt_string("custom"),
            subdomain=f.opt_string("subdomain"),
            url=f.opt_string("url"),
        )


@dataclass(frozen=True, slots=True)
class Translation:
    """One language version of a course or path's name and description."""

    lang: str
    published: bool
    name: str | None
    description: str | None

    @classmethod
    def from_json(cls, f: Fields) -> Translation:
        fields = f.opt_obj("translatedFields")
        return cls(
            lang=f.string("lang"),
            published=f.boolean("published"),
            name=fields.opt_string("name") if fields else None,
            description=fields.opt_string("description") if fields else None,
        )


@dataclass(frozen=True, slots=True)
class Course:
    """A course (CourseDTO)."""

    id: str
    name: str
    status: str  # archived | deleted | published
    type: str  # elearning standard | external | native
    source_lang: str
    default_lang: str
    author_id: str
    group_id: str
    co_author_ids: tuple[str, ...]
    created_at: datetime
    modified_at: datetime
    description: str | None
    duration: float | None
    external_platform: str | None
    current_version_number: int | None
    collaborative_learning: bool | None
    translations: tuple[Translation, ...]

    @classmethod
    def from_json(cls, f: Fields) -> Course:
        return cls(
            id=f.object_id("_id"),
            name=f.string("name"),
            status=f.string("status"),
            type=f.string("type"),
            source_lang=f.string("sourceLang"),
            default_lang=f.string("defaultLang"),
            author_id=f.object_id("authorId"),
            group_id=f.object_id("groupId"),
            co_author_ids=f.strings("coAuthorIds"),
            created_at=f.date_time("createdAt"),
            modified_at=f.date_time("modifiedAt"),
            description=f.opt_string("description"),
            duration=f.opt_number("duration"),
            external_platform=f.opt_string("externalPlatform"),
            current_version_number=f.opt_integer("currentVersionNumber"),
            collaborative_learning=f.opt_boolean("collaborativeLearning"),
            translations=tuple(Translation.from_json(t) for t in f.objects("translations")),
        )


@dataclass(frozen=True, slots=True)
class CourseStat:
    """One course attempt by one user (CourseStatDTO): the flattened course statistics."""

    id: str
    course_id: str
    user_id: str
    lang: str
    time_spent_ms: float
    progress: int
    score: int | None
    first_activity_at: datetime | None
    last_activity_at: datetime | None
    completed_at: datetime | None
    version_number: int | None
    path_id: str | None
    path_session_id: str | None

    @classmethod
    def from_json(cls, f: Fields) -> CourseStat:
        return cls(
            id=f.object_id("_id"),
            course_id=f.object_id("courseId"),
            user_id=f.object_id("userId"),
            lang=f.string("lang"),
            time_spent_ms=f.number("timeSpent"),
            progress=f.integer("progress"),
            score=f.opt_integer("score"),
            first_activity_at=f.opt_date_time("firstActivityAt"),
            last_activity_at=f.opt_date_time("lastActivityAt"),
            completed_at=f.opt_date_time("completedAt"),
            version_number=f.opt_integer("versionNumber"),
            path_id=f.opt_object_id("pathId"),
            path_session_id=f.opt_object_id("pathSessionId"),
        )


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of a path: its id and type (course, assessment, classroom, ...)."""

    id: str
    type: str


@dataclass(frozen=True, slots=True)
class Path:
    """A path (PathDTO)."""

    id: str
    name: str
    status: str  # archived | published
    author_id: str
    group_id: str
    co_author_ids: tuple[str, ...]
    created_at: datetime
    modified_at: datetime
    default_lang: str
    source_lang: str
    certificate_id: str | None
    description: str | None
    steps: tuple[PathStep, ...]
    translations: tuple[Translation, ...]

    @classmethod
    def from_json(cls, f: Fields) -> Path:
        return cls(
            id=f.object_id("_id"),
            name=f.string("name"),
            status=f.string("status"),
            author_id=f.object_id("authorId"),
            group_id=f.object_id("groupId"),
            co_author_ids=f.strings("coAuthorIds"),
            created_at=f.date_time("createdAt"),
            modified_at=f.date_time("modifiedAt"),
            default_lang=f.string("defaultLang"),
            source_lang=f.string("sourceLang"),
            certificate_id=f.opt_object_id("certificateId"),
            description=f.opt_string("description"),
            steps=tuple(PathStep(id=s.object_id("_id"), type=s.string("type")) for s in f.objects("steps")),
            translations=tuple(Translation.from_json(t) for t in f.objects("translations")),
        )


@dataclass(frozen=True, slots=True)
class PathSession:
    """A path session (PathSessionWithoutTranslationsDTO / PathSessionDTO)."""

    id: str
    path_id: str
    name: str
    group_id: str
    main_instructor_id: str
    instructor_ids: tuple[str, ...]
    start_date: datetime
    end_date: datetime | None
    created_at: datetime
    modified_at: datetime
    is_audience_builder: bool
    registration_request_validation: str
    user_limit: int | None
    root_session_id: str | None
    additional_information: str | None

    @classmethod
    def from_json(cls, f: Fields) -> PathSession:
        return cls(
            id=f.object_id("_id"),
            path_id=f.object_id("pathId"),
            name=f.string("name"),
            group_id=f.object_id("groupId"),
            main_instructor_id=f.object_id("mainInstructorId"),
            instructor_ids=f.strings("instructorIds"),
            start_date=f.date_time("startDate"),
            end_date=f.opt_date_time("endDate"),
            created_at=f.date_time("createdAt"),
            modified_at=f.date_time("modifiedAt"),
            is_audience_builder=f.boolean("isAudienceBuilder"),
            registration_request_validation=f.string("registrationRequestValidation"),
            user_limit=f.opt_integer("userLimit"),
            root_session_id=f.opt_object_id("rootSessionId"),
            additional_information=f.opt_string("additionalInformation"),
        )


@dataclass(frozen=True, slots=True)
class DetailedStatus:
    """A learner's detailed status in a path session: ``type`` and, for ``toRetake``
    and ``unsuccessful``, an optional ``reason`` (``mandatoryReplay`` | ``sessionEnded``)."""

    type: str
    reason: str | None = None

    @classmethod
    def from_json(cls, f: Fields) -> DetailedStatus:
        return cls(
            type=f.enum("type", DETAILED_STATUS_TYPES),
            reason=f.opt_enum("reason", DETAILED_STATUS_REASONS),
        )


@dataclass(frozen=True, slots=True)
class PathSessionUserStat:
    """One learner's statistics in a path session (SessionUserStatDTO)."""

    id: str
    user_id: str
    progress: int
    status: DetailedStatus
    time_spent: float
    enrolled_at: datetime
    self_enrolled: bool
    completed_at: datetime | None
    score: int | None
    unenrolled_at: datetime | None
    certificate_id: str | None
    started_at: datetime | None
    due_date: datetime | None

    @classmethod
    def from_json(cls, f: Fields) -> PathSessionUserStat:
        return cls(
            id=f.object_id("_id"),
            user_id=f.object_id("userId"),
            progress=f.integer("progress"),
            status=DetailedStatus.from_json(f.obj("status")),
            time_spent=f.number("timeSpent"),
            enrolled_at=f.date_time("enrolledAt"),
            self_enrolled=f.boolean("selfEnrolled"),
            completed_at=f.opt_date_time("completedAt"),
            score=f.opt_integer("score"),
            unenrolled_at=f.opt_date_time("unenrolledAt"),
            certificate_id=f.opt_object_id("certificateId"),
            started_at=f.opt_date_time("startedAt"),
            due_date=f.opt_date_time("dueDate"),
        )


@dataclass(frozen=True, slots=True)
class PathSessionStatusCounts:
    """Aggregated user statuses of a path session (AggregatedSessionStatDTO)."""

    certificates: int
    awaiting_correction: int
    late: int
    not_yet_started: int
    on_time: int
    session_not_opened: int
    successful: int
    to_retake: int
    unsuccessful: int

    def by_status(self) -> dict[str, int]:
        """Counts keyed by the remote detailed-status names (``notYetStarted``, ...)."""
        return {
            "awaitingCorrection": self.awaiting_correction,
            "late": self.late,
            "notYetStarted": self.not_yet_started,
            "onTime": self.on_time,
            "sessionNotOpened": self.session_not_opened,
            "successful": self.successful,
            "toRetake": self.to_retake,
            "unsuccessful": self.unsuccessful,
        }

    @classmethod
    def from_json(cls, f: Fields) -> PathSessionStatusCounts:
        counts = f.obj("usersCountByStatus")

        def count(key: str, source: Fields = counts) -> int:
            value = source.integer(key)
            if value < 0:
                raise BadResponse(f"{source.where}: field {key!r} must be a non-negative integer")
            return value

        return cls(
            certificates=count("certificates", f),
            awaiting_correction=count("awaitingCorrection"),
            late=count("late"),
            not_yet_started=count("notYetStarted"),
            on_time=count("onTime"),
            session_not_opened=count("sessionNotOpened"),
            successful=count("successful"),
            to_retake=count("toRetake"),
            unsuccessful=count("unsuccessful"),
        )


@dataclass(frozen=True, slots=True)
class Integration:
    """An integration configuration (IntegrationDTO). ``created_at`` is not in the
    contract's IntegrationDTO but appears in the vendor's migration guide; kept when sent."""

    id: str
    external_platform: str
    author_id: str
    group_id: str
    default_completion: bool | None
    default_progress: int | None
    no_group_propagation: bool | None
    external_platform_logo_url: str | None
    external_platform_unicolor_logo_url: str | None
    created_at: datetime | None

    @classmethod
    def from_json(cls, f: Fields, *, id: str | None = None) -> Integration:
        return cls(
            id=id if id is not None else f.object_id("_id"),
            external_platform=f.string("externalPlatform"),
            author_id=f.object_id("authorId"),
            group_id=f.object_id("groupId"),
            default_completion=f.opt_boolean("defaultCompletion"),
            default_progress=f.opt_integer("defaultProgress"),
            no_group_propagation=f.opt_boolean("noGroupPropagation"),
            external_platform_logo_url=f.opt_string("externalPlatformLogoUrl"),
            external_platform_unicolor_logo_url=f.opt_string("externalPlatformUnicolorLogoUrl"),
            created_at=f.opt_date_time("createdAt"),
        )


@dataclass(frozen=True, slots=True)
class BulkOperation:
    """A bulk operation's state (Pending/Queued/Running/Completed/ErroredOperationDTO).

    ``progress_index`` is the index of the input record being processed.
    """

    id: str
    type: str
    status: str  # pending | queued | running | completed | error
    created_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    progress_index: float | None
    progress_updated_at: datetime | None
    error_message: str | None

    @property
    def is_finished(self) -> bool:
        """True once results can be fetched (``completed`` or ``error``)."""
        return self.status in ("completed", "error")

    @classmethod
    def from_json(cls, f: Fields) -> BulkOperation:
        status = f.enum("status", BULK_OPERATION_STATUSES)
        progress = f.obj("progress") if status in ("running", "completed", "error") else f.opt_obj("progress")
        return cls(
            id=f.object_id("_id"),
            type=f.string("type"),
            status=status,
            created_at=f.date_time("createdAt"),
            queued_at=f.date_time("queuedAt") if status != "pending" else f.opt_date_time("queuedAt"),
            started_at=(
                f.date_time("startedAt")
                if status in ("running", "completed", "error")
                else f.opt_date_time("startedAt")
            ),
            ended_at=f.date_time("endedAt") if status in ("completed", "error") else f.opt_date_time("endedAt"),
            progress_index=progress.number("index") if progress else None,
            progress_updated_at=progress.date_time("updatedAt") if progress else None,
            error_message=f.string("errorMessage") if status == "error" else f.opt_string("errorMessage"),
        )


@dataclass(frozen=True, slots=True)
class BulkResult:
    """The result for one input record of a bulk operation (Success/ErrorResultDTO).

    ``index`` is the record's position in the results, which follow the input order;
    ``input`` is the remote's read-only echo of the record.
    """

    index: int
    status: str  # success | error
    resource_id: str | None
    error_message: str | None
    input: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @classmethod
    def from_json(cls, f: Fields, *, index: int) -> BulkResult:
        status = f.enum("status", BULK_RESULT_STATUSES)
        return cls(
            index=index,
            status=status,
            resource_id=f.string("resourceId") if status == "success" else None,
            error_message=f.string("errorMessage") if status == "error" else None,
            input=frozen_mapping(f.obj("input").data),
        )


# Bulk inputs -----------------------------------------------------------------------------
def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True, slots=True)
class ExternalCourseSource:
    """A content source shown on an external course (ExternalCourseSourceDTO)."""

    name: str
    logo_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _compact({"name": self.name, "logoUrl": self.logo_url})


@dataclass(frozen=True, slots=True)
class ExternalCourseTranslation:
    """One translation of an external course (ExternalCourseTranslationDTO)."""

    lang: str
    name: str | None = None
    description: str | None = None
    launch_url: str | None = None
    mobile_launch_url: str | None = None
    subjects: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        fields = _compact(
            {
                "name": self.name,
                "description": self.description,
                "launchUrl": self.launch_url,
                "mobileLaunchUrl": self.mobile_launch_url,
                "subjects": list(self.subjects) if self.subjects is not None else None,
            }
        )
        return {"lang": self.lang, "translatedFields": fields}


@dataclass(frozen=True, slots=True)
class ExternalCourse:
    """One record of a courses upsert (ExternalCourseDTO); ``duration`` in minutes."""

    external_id: str
    name: str
    launch_url: str
    default_lang: str
    subjects: tuple[str, ...] = ()
    sources: tuple[ExternalCourseSource, ...] = ()
    description: str | None = None
    content_type: str | None = None
    difficulty_level: str | None = None
    duration: int | None = None
    image_url: str | None = None
    mobile_launch_url: str | None = None
    author_id: str | None = None
    translations: tuple[ExternalCourseTranslation, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = _compact(
            {
                "externalId": self.external_id,
                "name": self.name,
                "launchUrl": self.launch_url,
                "defaultLang": self.default_lang,
                "subjects": list(self.subjects),
                "sources": [s.to_json() for s in self.sources],
                "description": self.description,
                "contentType": self.content_type,
                "difficultyLevel": self.difficulty_level,
                "duration": self.duration,
                "imageUrl": self.image_url,
                "mobileLaunchUrl": self.mobile_launch_url,
                "authorId": self.author_id,
            }
        )
        if self.translations:
            data["translations"] = [t.to_json() for t in self.translations]
        return data


@dataclass(frozen=True, slots=True)
class CourseIdentifier:
    """How a stats record names its course: by ``externalId`` or 360Learning ``internalId``."""

    type: Literal["externalId", "internalId"]
    value: str

    @classmethod
    def by_external_id(cls, value: str) -> CourseIdentifier:
        return cls("externalId", value)

    @classmethod
    def by_id(cls, value: str) -> CourseIdentifier:
        return cls("internalId", value)


@dataclass(frozen=True, slots=True)
class UserIdentifier:
    """How a stats record names its learner: by ``mail`` or 360Learning ``internalId``."""

    type: Literal["mail", "internalId"]
    value: str

    @classmethod
    def by_mail(cls, value: str) -> UserIdentifier:
        return cls("mail", value)

    @classmethod
    def by_id(cls, value: str) -> UserIdentifier:
        return cls("internalId", value)


@dataclass(frozen=True, slots=True)
class ExternalCourseStat:
    """One record of a stats import (ImportExternalStatisticsDTO).

    v2 computes nothing: ``progress`` (0-100), ``time_spent_ms`` (>= 1),
    ``first_activity_at`` and ``last_activity_at`` are all required; with
    ``progress == 100`` the last activity is the completion date. ``force_new=True``
    always creates a new attempt.
    """

    course: CourseIdentifier
    user: UserIdentifier
    progress: float
    time_spent_ms: float
    first_activity_at: datetime
    last_activity_at: datetime
    score: float | None = None
    result: Literal["success", "failed"] | None = None
    lang: str | None = None
    force_new: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return _compact(
            {
                "courseIdentifier": {"type": self.course.type, "value": self.course.value},
                "userIdentifier": {"type": self.user.type, "value": self.user.value},
                "progress": self.progress,
                "timeSpent": self.time_spent_ms,
                "firstActivityAt": format_datetime(self.first_activity_at),
                "lastActivityAt": format_datetime(self.last_activity_at),
                "score": self.score,
                "result": self.result,
                "lang": self.lang,
                "forceNew": self.force_new,
            }
        )


# Filters ---------------------------------------------------------------------------------
_ID = frozenset({"eq", "ne", "in", "nin"})
_DATE = frozenset({"lt", "gte"})
_LIST_OPS = frozenset({"in", "nin"})
#: Fields whose values are ObjectIds, checked before sending.
_OBJECT_ID_FIELDS = frozenset(
    {"courseId", "userId", "sessionId", "pathId", "authorId", "groupId", "originalAuthorId", "tagIds", "coAuthorIds"}
)
_DATE_FIELDS = frozenset({"createdAt", "modifiedAt", "completedAt", "startDate", "endDate"})

# Per operation: field -> operators, exactly as the operation's query parameters list them.
USERS_FILTERS = {"mail": _ID, "username": _ID, "status": frozenset({"eq", "ne"})}
COURSES_FILTERS = {
    "createdAt": _DATE,
    "modifiedAt": _DATE,
    "status": frozenset({"eq"}),
    "type": frozenset({"eq"}),
    "authorId": frozenset({"eq"}),
    "groupId": frozenset({"eq"}),
    "originalAuthorId": frozenset({"eq"}),
    "tagIds": frozenset({"in"}),
    "coAuthorIds": frozenset({"in"}),
    "sourceLang": frozenset({"eq", "in"}),
    "collaborativeLearning": frozenset({"eq"}),
}
COURSE_STATS_FILTERS = {"completedAt": _DATE, "courseId": _ID, "userId": _ID}
PATHS_FILTERS = {"createdAt": _DATE, "modifiedAt": _DATE, "status": frozenset({"eq"})}
PATH_SESSIONS_FILTERS = {
    "createdAt": _DATE,
    "modifiedAt": _DATE,
    "startDate": _DATE,
    "endDate": _DATE,
    "sessionId": _ID,
    "pathId": _ID,
}
USER_STATS_FILTERS = {"completedAt": _DATE, "userId": _ID}
INTEGRATIONS_FILTERS = {"externalPlatform": _ID}
BULK_OPERATIONS_FILTERS = {"createdAt": _DATE, "status": frozenset({"eq"}), "type": frozenset({"eq"})}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _filter_value(field: str, op: str, value: object) -> str:
    if field in _DATE_FIELDS:
        if not isinstance(value, datetime):
            raise TypeError(f"{field}[{op}] takes a timezone-aware datetime")
        return format_datetime(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        raise TypeError(f"{field}[{op}] takes a string")
    if field in _OBJECT_ID_FIELDS:
        check_object_id(value, f"{field}[{op}]")
    return value


def filter_params(filters: Mapping[str, object], allowed: Mapping[str, frozenset[str]]) -> list[tuple[str, str]]:
    """Bracket query parameters for ``<field>_<op>=value`` keyword filters.

    ``None`` values are skipped, ``in``/``nin`` take a sequence (one parameter per value).
    Raises ``TypeError`` for a filter the operation does not document or a value of the
    wrong type, ``ValueError`` for a malformed id or a naive datetime.
    """
    params: list[tuple[str, str]] = []
    for name, value in filters.items():
        if value is None:
            continue
        snake_field, _, op = name.rpartition("_")
        field = _camel(snake_field)
        if op not in allowed.get(field, ()):
            documented = ", ".join(
                f"{''.join('_' + c.lower() if c.isupper() else c for c in f)}_{o}"
                for f, ops in sorted(allowed.items())
                for o in sorted(ops)
            )
            raise TypeError(f"unknown filter {name!r}; this listing accepts: {documented or 'none'}")
        key = f"{field}[{op}]"
        if op in _LIST_OPS:
            if isinstance(value, str | bytes) or not isinstance(value, Sequence | frozenset | set):
                raise TypeError(f"{key} takes a sequence of values")
            params.extend((key, _filter_value(field, op, item)) for item in value)
        else:
            params.append((key, _filter_value(field, op, value)))
    return params


def _check_batch(records: Sequence[object], limit: int, what: str) -> None:
    if len(records) == 0:
        raise ValueError(f"{what}: empty batch")
    if len(records) > limit:
        raise BatchTooLarge(
            f"{what}: {len(records)} records exceed the documented limit of {limit:,}; split the batch",
            code="batchTooLarge",
        )


# The client ------------------------------------------------------------------------------
class Learning360Client(CredentialsClient):
    """360Learning API v2 for one platform (one ``client_id``).

    Not thread-safe (one ``requests.Session``): create one client per thread or task.
    Every method raises ``LmsError`` subclasses (see ``errors.py``); arguments that could
    never be valid (malformed ids, unknown filters, over-limit batches) raise
    ``ValueError``/``TypeError`` before anything is sent.
    """

    transport_class = Learning360Transport
    name = "360Learning"
    provider = "360learning"

    def __repr__(self) -> str:
        return f"<Learning360Client {self.base_url} client_id={self.client_id!r}>"

    # Plumbing ----------------------------------------------------------------------------
    def _fetch_token(self, client_secret: str) -> tuple[str, float]:
        # Reference: v2.authentication.GenerateTokenController_generateToken (360learning-core-api.json)
        response = self._transport.request(
            "POST",
            self._transport.url("/api/v2/oauth2/token"),
            # Asking for a token changes nothing remotely: safe to retry.
            idempotent=True,
            json={"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": client_secret},
            headers={"360-api-version": API_VERSION, "Accept": "application/json"},
        )
        return self._token_from(
            self._transport.decode_json(response), "360Learning POST /api/v2/oauth2/token", token_type_required=True
        )

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "360-api-version": API_VERSION,
            "Accept": "application/json",
        }

    def _send(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        expected: tuple[int, ...] = (200,),
        params: list[tuple[str, str]] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """One authenticated call; on a 401 one fresh token and one more try (a 401
        means the remote refused the request, so even a bulk call is safe to resend)."""
        token = self._tokens.token()
        try:
            return self._transport.request(
                method,
                url,
                idempotent=idempotent,
                expected=expected,
                params=params,
                json=json,
                headers=self._headers(token),
            )
        except AuthError as exc:
            if exc.status != 401 or exc.code not in (None, "invalid_token"):
                raise
        token = self._tokens.refresh(token)
        return self._transport.request(
            method,
            url,
            idempotent=idempotent,
            expected=expected,
            params=params,
            json=json,
            headers=self._headers(token),
        )

    def _paginate(self, path: str, params: list[tuple[str, str]], parse: Callable[[Fields], T]) -> Iterator[T]:
        """Yield parsed records page by page, following ``Link rel="next"`` until absent.

        Each page is parsed completely before its first record is yielded, so a contract
        mismatch fails the page before the caller writes half of it.
        """
        url: str | None = self._transport.url(path)
        page_params: list[tuple[str, str]] | None = params
        visited: set[str] = set()
        while url is not None:
            response = self._send("GET", url, idempotent=True, params=page_params)
            where = self._transport.describe("GET", url)
            records = [
                parse(Fields(item, f"{where} item {index}"))
                for index, item in enumerate(json_list(self._transport.decode_json(response), where))
            ]
            next_url = self._transport.next_link(response)
            visited.add(response.url)
            if next_url is not None and next_url in visited:
                raise BadResponse(f"{where}: the next-page link points back to a page already read")
            del response
            # The next link carries the filters itself.
            url, page_params = next_url, None
            yield from records

    def _path(self, template: str, **ids: str) -> str:
        for name, value in ids.items():
            check_object_id(value, name)
        return template.format(**{k: quote(v, safe="") for k, v in ids.items()})

    def _get_object(self, path: str, parse: Callable[[Fields], T]) -> T:
        url = self._transport.url(path)
        response = self._send("GET", url, idempotent=True)
        return parse(Fields(self._transport.decode_json(response), self._transport.describe("GET", url)))

    def _operation_id(self, response: requests.Response) -> str:
        """The bulk operation id from a 202's ``Location: .../api/v2/bulk/operations/{id}``."""
        where = self._transport.describe(response.request.method or "?", response.url)
        location = response.headers.get("Location", "")
        segments = urlsplit(location).path.rstrip("/").split("/")
        if len(segments) < 2 or segments[-2] != "operations" or not OBJECT_ID_RE.match(segments[-1]):
            # The operation was accepted; we just cannot track it. The caller reconciles
            # (GET /api/v2/bulk/operations) rather than resending.
            raise BadResponse(
                f"{where}: HTTP 202 without a bulk operation URL in Location",
                status=response.status_code,
                may_have_been_applied=True,
            )
        return segments[-1]

    def _parse_applied(self, response: requests.Response, parse: Callable[[Fields], T]) -> T:
        """Parse the answer to a state-changing call: if it is unreadable, the change
        still happened, so the error says it may have been applied."""
        where = self._transport.describe(response.request.method or "?", response.url)
        try:
            return parse(Fields(self._transport.decode_json(response, may_have_been_applied=True), where))
        except BadResponse as exc:
            exc.may_have_been_applied = True
            raise

    # Core API reads ----------------------------------------------------------------------
    def users(self, **filters: object) -> Iterator[User]:
        """All users, 500 a page. Filters: ``mail_{eq,ne,in,nin}``,
        ``username_{eq,ne,in,nin}``, ``status_{eq,ne}``."""
        params = filter_params(filters, USERS_FILTERS)
        # Reference: v2.users.GetUsersController_getUsers (360learning-core-api.json)
        return self._paginate("/api/v2/users", params, User.from_json)

    def groups(self) -> Iterator[Group]:
        """All groups, 500 a page (the operation has no filters)."""
        # Reference: v2.groups.GetGroupsController_getGroups (360learning-core-api.json)
        return self._paginate("/api/v2/groups", [], Group.from_json)

    def courses(self, **filters: object) -> Iterator[Course]:
        """All courses, 500 a page. Filters: ``created_at_{lt,gte}``, ``modified_at_{lt,gte}``,
        ``status_eq``, ``type_eq``, ``author_id_eq``, ``group_id_eq``, ``original_author_id_eq``,
        ``tag_ids_in``, ``co_author_ids_in``, ``source_lang_{eq,in}``, ``collaborative_learning_eq``."""
        params = filter_params(filters, COURSES_FILTERS)
        # Reference: v2.courses.GetCoursesController_getCourses (360learning-core-api.json)
        return self._paginate("/api/v2/courses", params, Course.from_json)

    def course_stats(self, **filters: object) -> Iterator[CourseStat]:
        """All course attempts, 500 a page. Filters: ``completed_at_{lt,gte}``,
        ``course_id_{eq,ne,in,nin}``, ``user_id_{eq,ne,in,nin}``."""
        params = filter_params(filters, COURSE_STATS_FILTERS)
        # Reference: v2.courses.GetAllCourseStatsController_getAllCourseStats (360learning-core-api.json)
        return self._paginate("/api/v2/courses/stats", params, CourseStat.from_json)

    def paths(self, **filters: object) -> Iterator[Path]:
        """All paths, 200 a page. Filters: ``created_at_{lt,gte}``, ``modified_at_{lt,gte}``, ``status_eq``."""
        params = filter_params(filters, PATHS_FILTERS)
        # Reference: v2.paths.GetPathsController_getPaths (360learning-core-api.json)
        return self._paginate("/api/v2/paths", params, Path.from_json)

    def path_sessions(self, **filters: object) -> Iterator[PathSession]:
        """All path sessions of the platform, 500 a page. Filters: ``created_at``,
        ``modified_at``, ``start_date``, ``end_date`` (``_lt``/``_gte``),
        ``session_id_{eq,ne,in,nin}``, ``path_id_{eq,ne,in,nin}``."""
        params = filter_params(filters, PATH_SESSIONS_FILTERS)
        # Reference: v2.paths.GetAllPathSessionsController_getAllPathSessions (360learning-core-api.json)
        return self._paginate("/api/v2/paths/sessions", params, PathSession.from_json)

    def path_session_user_stats(
        self, path_id: str, session_id: str, **filters: object
    ) -> Iterator[PathSessionUserStat]:
        """Per-learner statistics of a path session, 2,000 a page. Filters:
        ``completed_at_{lt,gte}``, ``user_id_{eq,ne,in,nin}``.
        Raises ``NotFound`` (pathNotFound, sessionNotFound), ``BadRequest`` (sessionNotBelongToPath)."""
        path = self._path(
            "/api/v2/paths/{path_id}/sessions/{session_id}/user-stats", path_id=path_id, session_id=session_id
        )
        params = filter_params(filters, USER_STATS_FILTERS)
        # Reference: v2.paths.GetUserStatsController_getUserStats (360learning-core-api.json)
        return self._paginate(path, params, PathSessionUserStat.from_json)

    def path_session_user_statuses(self, path_id: str, session_id: str) -> PathSessionStatusCounts:
        """Counts of learners per detailed status and certificates issued for a path session.
        Raises ``NotFound`` (pathNotFound, sessionNotFound), ``BadRequest`` (sessionNotBelongToPath)."""
        path = self._path(
            "/api/v2/paths/{path_id}/sessions/{session_id}/user-statuses", path_id=path_id, session_id=session_id
        )
        # Reference: v2.paths.v2.paths.GetSessionStatsController_getSessionStats (360learning-core-api.json)
        return self._get_object(path, PathSessionStatusCounts.from_json)

    # Integrations ------------------------------------------------------------------------
    def integrations(self, **filters: object) -> Iterator[Integration]:
        """All integration configurations, 100 a page. Filters: ``external_platform_{eq,ne,in,nin}``."""
        params = filter_params(filters, INTEGRATIONS_FILTERS)
        # Reference: v2.integrations.GetIntegrationsController_getIntegrations (360learning-core-api.json)
        return self._paginate("/api/v2/integrations", params, Integration.from_json)

    def integration_create(
        self,
        *,
        external_platform: str,
        group_id: str,
        author_id: str,
        default_completion: bool | None = None,
        default_progress: int | None = None,
        no_group_propagation: bool | None = None,
        external_platform_logo_url: str | None = None,
        external_platform_unicolor_logo_url: str | None = None,
    ) -> Integration:
        """Create an integration configuration; returns it with its remote id.

        Never retried once sent: a lost answer raises ``RemoteUnavailable`` with
        ``may_have_been_applied=True`` (re-read ``integrations(external_platform_eq=...)``
        to reconcile). Raises ``BadRequest`` (duplicateExternalPlatform,
        integrationsLimitReached, reservedPlatformName), ``NotFound`` (groupNotFound, userNotFound).
        """
        check_object_id(group_id, "group_id")
        check_object_id(author_id, "author_id")
        body = _compact(
            {
                "externalPlatform": external_platform,
                "groupId": group_id,
                "authorId": author_id,
                "defaultCompletion": default_completion,
                "defaultProgress": default_progress,
                "noGroupPropagation": no_group_propagation,
                "externalPlatformLogoUrl": external_platform_logo_url,
                "externalPlatformUnicolorLogoUrl": external_platform_unicolor_logo_url,
            }
        )
        url = self._transport.url("/api/v2/integrations")
        # Reference: v2.integrations.CreateIntegrationController_createIntegration (360learning-core-api.json)
        response = self._send("POST", url, idempotent=False, expected=(201,), json=body)
        return self._parse_applied(response, Integration.from_json)

    _EDITABLE = {
        "external_platform": "externalPlatform",
        "group_id": "groupId",
        "author_id": "authorId",
        "default_completion": "defaultCompletion",
        "default_progress": "defaultProgress",
        "no_group_propagation": "noGroupPropagation",
        "external_platform_logo_url": "externalPlatformLogoUrl",
        "external_platform_unicolor_logo_url": "externalPlatformUnicolorLogoUrl",
    }

    def integration_edit(self, integration_id: str, **changes: object) -> Integration:
        """PATCH the given fields of an integration configuration (others stay unchanged).

        ``changes`` take the snake_case names of ``integration_create``'s arguments.
        Not retried once sent (see ``integration_create``). Raises ``NotFound``
        (integrationNotFound, groupNotFound, userNotFound), ``BadRequest``.
        """
        path = self._path("/api/v2/integrations/{integration_id}", integration_id=integration_id)
        unknown = set(changes) - set(self._EDITABLE)
        if unknown:
            raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
        if not changes:
            raise ValueError("integration_edit needs at least one change")
        for key in ("group_id", "author_id"):
            if key in changes:
                check_object_id(changes[key], key)  # type: ignore[arg-type]
        body = {self._EDITABLE[k]: v for k, v in changes.items()}
        url = self._transport.url(path)
        # Reference: v2.integrations.EditIntegrationController_editIntegration (360learning-core-api.json)
        response = self._send("PATCH", url, idempotent=False, json=body)
        # The 200 body is a BaseIntegrationDTO, which has no _id.
        return self._parse_applied(response, lambda f: Integration.from_json(f, id=integration_id))

    def integration_delete(self, integration_id: str) -> None:
        """Delete an integration configuration (the remote archives its content).

        Not retried once sent. Raises ``NotFound`` (integrationNotFound), ``BadRequest``
        (reservedPlatformName).
        """
        url = self._transport.url(self._path("/api/v2/integrations/{integration_id}", integration_id=integration_id))
        # Reference: v2.integrations.DeleteIntegrationController_deleteIntegration (360learning-core-api.json)
        self._send("DELETE", url, idempotent=False, expected=(204,))

    # Bulk API ----------------------------------------------------------------------------
    def bulk_courses_upsert(self, integration_id: str, courses: Sequence[ExternalCourse | Mapping[str, Any]]) -> str:
        """Queue an upsert of up to 10,000 external courses; returns the bulk operation id.

        Records are ``ExternalCourse``s or mappings already in the API's shape.
        Raises ``BatchTooLarge`` (over 10,000, nothing sent), ``ValueError`` (empty),
        ``RateLimited`` (bulkOperationsConcurrencyLimitReached, not applied) and
        ``RemoteUnavailable`` (``may_have_been_applied`` False for bulkAPIDisabled, True
        when the answer was lost). Never retried once sent.
        """
        _check_batch(courses, COURSES_UPSERT_LIMIT, "courses upsert")
        path = self._path("/api/v2/bulk/integrations/{integration_id}/courses", integration_id=integration_id)
        body = {"input": [c.to_json() if isinstance(c, ExternalCourse) else dict(c) for c in courses]}
        # Reference: v2.bulk.integrations.ImportExternalCoursesController_importExternalCourses (360learning-bulk-api.json)
        response = self._send("PUT", self._transport.url(path), idempotent=False, expected=(202,), json=body)
        return self._operation_id(response)

    def bulk_courses_archive(self, integration_id: str, external_ids: Sequence[str]) -> str:
        """Queue the archiving of up to 1,000 external courses by ``externalId``; returns
        the bulk operation id. Raises as ``bulk_courses_upsert`` (limit 1,000)."""
        if isinstance(external_ids, str):
            raise TypeError("external_ids must be a sequence of strings")
        _check_batch(external_ids, COURSES_ARCHIVE_LIMIT, "courses archive")
        path = self._path("/api/v2/bulk/integrations/{integration_id}/courses", integration_id=integration_id)
        body = {"input": [{"externalId": external_id} for external_id in external_ids]}
        # Reference: v2.bulk.integrations.ArchiveExternalCoursesController_archiveExternalCourses (360learning-bulk-api.json)
        response = self._send("DELETE", self._transport.url(path), idempotent=False, expected=(202,), json=body)
        return self._operation_id(response)

    def bulk_stats_import(self, integration_id: str, stats: Sequence[ExternalCourseStat | Mapping[str, Any]]) -> str:
        """Queue an import of up to 10,000 learner statistics; returns the bulk operation id.
        Raises as ``bulk_courses_upsert`` (limit 10,000)."""
        _check_batch(stats, STATS_IMPORT_LIMIT, "stats import")
        path = self._path("/api/v2/bulk/integrations/{integration_id}/stats", integration_id=integration_id)
        body = {"input": [s.to_json() if isinstance(s, ExternalCourseStat) else dict(s) for s in stats]}
        # Reference: v2.bulk.integrations.ImportExternalStatisticsController_importExternalStatistics (360learning-bulk-api.json)
        response = self._send("POST", self._transport.url(path), idempotent=False, expected=(202,), json=body)
        return self._operation_id(response)

    def bulk_operation(self, operation_id: str) -> BulkOperation:
        """The current state of a bulk operation. Raises ``NotFound`` (bulkOperationNotFound)."""
        path = self._path("/api/v2/bulk/operations/{operation_id}", operation_id=operation_id)
        # Reference: v2.bulk.operations.GetBulkOperationController_getBulkOperation (360learning-bulk-api.json)
        return self._get_object(path, BulkOperation.from_json)

    def bulk_operations(self, **filters: object) -> Iterator[BulkOperation]:
        """All bulk operations, 20 a page, to reconcile after a lost answer. Filters:
        ``created_at_{lt,gte}``, ``status_eq``, ``type_eq``."""
        params = filter_params(filters, BULK_OPERATIONS_FILTERS)
        # Reference: v2.bulk.operations.GetBulkOperationsController_getBulkOperations (360learning-bulk-api.json)
        return self._paginate("/api/v2/bulk/operations", params, BulkOperation.from_json)

    def bulk_operation_results(self, operation_id: str) -> Iterator[BulkResult]:
        """One result per input record, in input order, for a ``completed`` or ``error`` operation.

        The contract returns them in one body (no ``Link`` header documented); a ``Link``
        would still be followed. Raises ``BadRequest`` (bulkOperationNotRun), ``NotFound``.
        """
        path = self._path("/api/v2/bulk/operations/{operation_id}/results", operation_id=operation_id)
        counter = itertools.count()
        # Reference: v2.bulk.operations.GetBulkOperationResultsController_getBulkOperationResults (360learning-bulk-api.json)
        return self._paginate(path, [], lambda f: BulkResult.from_json(f, index=next(counter)))
