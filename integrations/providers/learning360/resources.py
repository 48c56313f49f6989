"""360Learning API v2 resources as the client yields them: frozen dataclasses parsed from the
documented schemas (each names its DTO in 360learning-core-api.json or -bulk-api.json), and the
enums the product branches on. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.clients.errors import BadResponse
from integrations.clients.parsing import (
    Fields,
    frozen_mapping,
)

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
