"""What the Bulk API v2 takes: external courses and their statistics as frozen dataclasses,
each turned into the documented JSON body by ``to_json``. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from integrations.clients.parsing import (
    format_datetime,
)


def without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without its ``None`` values: optional fields are left out, never sent as null."""
    return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True, slots=True)
class ExternalCourseSource:
    """A content source shown on an external course (ExternalCourseSourceDTO)."""

    name: str
    logo_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return without_nulls({"name": self.name, "logoUrl": self.logo_url})


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
        fields = without_nulls(
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
        data = without_nulls(
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
        return without_nulls(
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
