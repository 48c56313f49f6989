"""Rows → the JSON (and XML) shapes the vendor documents define. Optional fields are omitted
when empty, as the documents mark them optional rather than nullable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from sandbox import constants as c
from sandbox.models import BulkOperation, BulkOperationResult, Course, Group, Integration, Path, PathSession, User


def iso(value: datetime | None) -> str | None:
    """``YYYY-MM-DDThh:mm:ss.sssZ`` (360Learning's format), or None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_offset(value: datetime | None) -> str | None:
    """``YYYY-MM-DDThh:mm:ss+00:00`` (iSpring's format), or None."""
    return None if value is None else value.astimezone(UTC).replace(microsecond=0).isoformat()


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != ""}


def user_json(user: User, *, primary_group_oid: str | None) -> dict[str, Any]:
    return _compact(
        {
            "_id": user.oid,
            "mail": user.mail,
            "username": user.username,
            "status": user.status,
            "lang": user.lang,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "job": user.job,
            "organization": user.organization,
            "phone": user.phone,
            "primaryGroupId": primary_group_oid,
            "deletedAt": [iso(user.deleted_at)] if user.deleted_at else None,
            "lastLoginDate": iso(user.last_login_at),
        }
    )


def group_json(group: Group, *, parent_oid: str | None) -> dict[str, Any]:
    return _compact(
        {"_id": group.oid, "name": group.name, "public": group.public, "custom": group.custom, "parentId": parent_oid}
    )


def course_json(course: Course, *, author_oid: str, group_oid: str, external_platform: str | None) -> dict[str, Any]:
    data = {
        "_id": course.oid,
        "name": course.name,
        "description": course.description,
        "sourceLang": course.source_lang,
        "defaultLang": course.default_lang,
        "authorId": author_oid,
        "groupId": group_oid,
        "coAuthorIds": list(course.co_author_oids),
        "createdAt": iso(course.created_at),
        "modifiedAt": iso(course.modified_at),
        "status": course.status,
        "translations": list(course.translations),
        "type": course.type,
        "duration": course.duration,
        "currentVersionNumber": course.version_number,
        "collaborativeLearning": course.collaborative_learning,
        "externalPlatform": external_platform if course.type == "external" else None,
    }
    return _compact(data) | {"coAuthorIds": data["coAuthorIds"], "translations": data["translations"]}


ATTEMPT_FIELDS = (
    "oid",
    "version_number",
    "lang",
    "first_activity_at",
    "last_activity_at",
    "time_spent_ms",
    "progress",
    "score",
    "completed_at",
    "path__oid",
    "path_session__oid",
    "course__oid",
    "user__oid",
)


def attempt_json(row: dict[str, Any]) -> dict[str, Any]:
    """A ``CourseAttempt.objects.values(*ATTEMPT_FIELDS)`` row as a CourseStatDTO."""
    return _compact(
        {
            "_id": row["oid"],
            "versionNumber": row["version_number"],
            "lang": row["lang"],
            "firstActivityAt": iso(row["first_activity_at"]),
            "lastActivityAt": iso(row["last_activity_at"]),
            "timeSpent": row["time_spent_ms"],
            "progress": row["progress"],
            "score": row["score"],
            "completedAt": iso(row["completed_at"]),
            "pathId": row["path__oid"],
            "pathSessionId": row["path_session__oid"],
            "courseId": row["course__oid"],
            "userId": row["user__oid"],
        }
    )


def path_json(path: Path, *, author_oid: str, group_oid: str) -> dict[str, Any]:
    return _compact(
        {
            "_id": path.oid,
            "name": path.name,
            "description": path.description,
            "authorId": author_oid,
            "groupId": group_oid,
            "certificateId": path.certificate_outline_oid,
            "createdAt": iso(path.created_at),
            "modifiedAt": iso(path.modified_at),
            "defaultLang": path.default_lang,
            "sourceLang": path.source_lang,
            "status": path.status,
        }
    ) | {"coAuthorIds": [], "options": path.options, "steps": path.steps, "translations": []}


def session_json(
    session: PathSession, *, path_oid: str, group_oid: str, instructor_oid: str, with_translations: bool
) -> dict[str, Any]:
    data = _compact(
        {
            "_id": session.oid,
            "name": session.name,
            "pathId": path_oid,
            "groupId": group_oid,
            "mainInstructorId": instructor_oid,
            "registrationRequestValidation": session.registration_request_validation,
            "startDate": iso(session.start_date),
            "endDate": iso(session.end_date),
            "userLimit": session.user_limit,
            "createdAt": iso(session.created_at),
            "modifiedAt": iso(session.modified_at),
        }
    ) | {"instructorIds": list(session.instructor_oids), "isAudienceBuilder": session.is_audience_builder}
    if with_translations:
        data["translations"] = []
    return data


USER_STAT_FIELDS = (
    "oid",
    "progress",
    "status_type",
    "status_reason",
    "time_spent_ms",
    "score",
    "completed_at",
    "enrolled_at",
    "unenrolled_at",
    "started_at",
    "due_date",
    "certificate_oid",
    "self_enrolled",
    "user__oid",
)


def status_json(status_type: str, reason: str) -> dict[str, str]:
    return {"type": status_type, "reason": reason} if reason else {"type": status_type}


def user_stat_json(row: dict[str, Any]) -> dict[str, Any]:
    """A ``PathSessionUserStat.objects.values(*USER_STAT_FIELDS)`` row as a SessionUserStatDTO."""
    return _compact(
        {
            "_id": row["oid"],
            "userId": row["user__oid"],
            "progress": row["progress"],
            "timeSpent": row["time_spent_ms"],
            "score": row["score"],
            "completedAt": iso(row["completed_at"]),
            "enrolledAt": iso(row["enrolled_at"]),
            "unenrolledAt": iso(row["unenrolled_at"]),
            "startedAt": iso(row["started_at"]),
            "dueDate": iso(row["due_date"]),
            "certificateId": row["certificate_oid"],
        }
    ) | {"status": status_json(row["status_type"], row["status_reason"]), "selfEnrolled": row["self_enrolled"]}


def integration_json(integration: Integration) -> dict[str, Any]:
    """IntegrationDTO (also the PATCH answer: BaseIntegrationDTO plus the id)."""
    return _compact(
        {
            "_id": integration.oid,
            "externalPlatform": integration.external_platform,
            "groupId": integration.group.oid,
            "authorId": integration.author.oid,
            "externalPlatformLogoUrl": integration.external_platform_logo_url,
            "externalPlatformUnicolorLogoUrl": integration.external_platform_unicolor_logo_url,
            "defaultCompletion": integration.default_completion,
            "defaultProgress": integration.default_progress,
            "noGroupPropagation": integration.no_group_propagation,
            # Not in IntegrationDTO, but in the migration guide's example answer.
            "createdAt": iso(integration.created_at),
        }
    )


def bulk_operation_json(operation: BulkOperation) -> dict[str, Any]:
    """One of Pending/Queued/Running/Completed/ErroredOperationDTO, by status."""
    data: dict[str, Any] = {
        "_id": operation.oid,
        "type": operation.type,
        "createdAt": iso(operation.created_at),
        "status": operation.status,
    }
    if operation.status != c.BULK_PENDING:
        data["queuedAt"] = iso(operation.queued_at)
    if operation.status in (c.BULK_RUNNING, c.BULK_COMPLETED, c.BULK_ERROR):
        data["startedAt"] = iso(operation.started_at or operation.queued_at)
        data["progress"] = {
            # "The index of the last processed element".
            "index": max(0, operation.processed - 1),
            "updatedAt": iso(operation.progress_updated_at or operation.started_at or operation.queued_at),
        }
    if operation.status in c.BULK_FINISHED:
        data["endedAt"] = iso(operation.ended_at)
    if operation.status == c.BULK_ERROR:
        data["errorMessage"] = operation.error_message
    return data


def bulk_result_json(result: BulkOperationResult, record: dict[str, Any]) -> dict[str, Any]:
    if result.status == c.RESULT_SUCCESS:
        return {"input": record, "status": c.RESULT_SUCCESS, "resourceId": result.resource_id}
    return {"input": record, "status": c.RESULT_ERROR, "errorMessage": result.error_message}


# --- iSpring ------------------------------------------------------------------------------------
ISPRING_FIELDS = (
    "user_uuid",
    "course_uuid",
    "module_uuid",
    "module_title",
    "course_item_uuid",
    "enrollment_uuid",
    "access_date",
    "due_date",
    "expiration_date",
    "completion_date",
    "time_spent_s",
    "completion_status",
    "awarded_score",
    "passing_score",
    "progress",
    "is_overdue",
    "views_count",
)


def ispring_result_json(row: dict[str, Any]) -> dict[str, Any]:
    """A ``values(*ISPRING_FIELDS)`` row as a LearnerModuleResult (JSON types)."""
    return _compact(
        {
            "userId": row["user_uuid"],
            "courseId": row["course_uuid"],
            "moduleTitle": row["module_title"],
            "moduleId": row["module_uuid"],
            "courseItemId": row["course_item_uuid"],
            "enrollmentId": row["enrollment_uuid"],
            "accessDate": iso_offset(row["access_date"]),
            "dueDate": iso_offset(row["due_date"]),
            "expirationDate": iso_offset(row["expiration_date"]),
            "completionDate": iso_offset(row["completion_date"]),
            "timeSpent": row["time_spent_s"],
            "completionStatus": row["completion_status"],
            "awardedScore": row["awarded_score"],
            "passingScore": row["passing_score"],
            "progress": row["progress"],
            "isOverdue": row["is_overdue"],
            "viewsCount": row["views_count"],
        }
    )


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"  # the documented XML writes isOverdue as 0/1
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def ispring_results_xml(results: list[dict[str, Any]], next_page_token: str | None) -> bytes:
    """``<response><results><result>…</result></results>[<nextPageToken>]</response>``."""
    response = ElementTree.Element("response")
    container = ElementTree.SubElement(response, "results")
    for result in results:
        node = ElementTree.SubElement(container, "result")
        for key, value in result.items():
            ElementTree.SubElement(node, key).text = _xml_text(value)
    if next_page_token:
        ElementTree.SubElement(response, "nextPageToken").text = next_page_token
    return _document(response)


#: What ``ispring_user_json`` reads of a ``sandbox.models.IspringUser`` (``values(...)``).
ISPRING_USER_FIELDS = ("user_uuid", "status", "role", "department_uuid", "login", "email", "first_name", "last_name")


def ispring_user_json(row: dict[str, Any]) -> dict[str, Any]:
    """A ``values(*ISPRING_USER_FIELDS)`` row as a /users profile (``fields`` as an object)."""
    return {
        "userId": row["user_uuid"],
        "status": row["status"],
        "role": row["role"],
        "departmentId": row["department_uuid"],
        "groups": [],
        "fields": {
            "login": row["login"],
            "email": row["email"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
        },
    }


def ispring_users_xml(profiles: list[dict[str, Any]], next_page_token: str | None) -> bytes:
    """``<response><userProfile>…</userProfile>…[<nextPageToken>]</response>``; ``fields`` holds
    one child element per field, ``groups`` one ``<id>`` per group."""
    response = ElementTree.Element("response")
    for profile in profiles:
        node = ElementTree.SubElement(response, "userProfile")
        for key, value in profile.items():
            child = ElementTree.SubElement(node, key)
            if key == "fields":
                for name, text in value.items():
                    ElementTree.SubElement(child, name).text = text
            elif key == "groups":
                for group in value:
                    ElementTree.SubElement(child, "id").text = group
            else:
                child.text = _xml_text(value)
    if next_page_token:
        ElementTree.SubElement(response, "nextPageToken").text = next_page_token
    return _document(response)


def _document(root: ElementTree.Element) -> bytes:
    # The declaration exactly as the vendor's page shows it (ElementTree writes single quotes).
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode").encode()


def ispring_error_xml(code: int, message: str) -> bytes:
    response = ElementTree.Element("response")
    ElementTree.SubElement(response, "code").text = str(code)
    ElementTree.SubElement(response, "message").text = message
    return _document(response)
