"""Remote answers for stubbed tests, shaped by the vendor contracts.

``test_bodies_follow_the_contract`` checks every builder here against the OpenAPI response
schema of its operation, so a stub cannot drift from what the real API answers.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from tests.integrations.clients.conftest import oid

WHEN = "2025-06-30T13:23:56.059Z"


def user(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "_id": oid(n),
        "status": "active",
        "lang": "en",
        "mail": f"learner{n}@example.org",
        "firstName": "Ada",
        "lastName": f"Learner {n}",
        "deletedAt": [],
        "lastLoginDate": WHEN,
        **extra,
    }


def group(n: int, **extra: Any) -> dict[str, Any]:
    return {"_id": oid(n), "name": f"Group {n}", "public": False, "parentId": oid(1), **extra}


def course(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "_id": oid(n),
        "name": f"Course {n}",
        "sourceLang": "en",
        "authorId": oid(900),
        "groupId": oid(901),
        "coAuthorIds": [oid(902)],
        "createdAt": WHEN,
        "defaultLang": "en",
        "modifiedAt": WHEN,
        "status": "published",
        "translations": [
            {"lang": "fr", "published": True, "translatorIds": [], "translatedFields": {"name": f"Cours {n}"}}
        ],
        "type": "external",
        "externalPlatform": "myPlatform",
        **extra,
    }


def course_stat(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "_id": oid(n),
        "versionNumber": 0,
        "lang": "en",
        "firstActivityAt": "2025-06-30T13:00:00.000Z",
        "lastActivityAt": WHEN,
        "timeSpent": 41390,
        "progress": 100,
        "score": 75,
        "completedAt": WHEN,
        "pathId": oid(500),
        "pathSessionId": oid(501),
        "courseId": oid(600),
        "userId": oid(700),
        **extra,
    }


def path(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "_id": oid(n),
        "authorId": oid(900),
        "groupId": oid(901),
        "coAuthorIds": [],
        "createdAt": WHEN,
        "defaultLang": "en",
        "modifiedAt": WHEN,
        "name": f"Path {n}",
        "options": {
            "linearProgression": False,
            "mandatoryReplay": False,
            "displayForum": True,
            "displayClassroomMessages": True,
            "automatedReminders": True,
            "notificationOnStepCreation": False,
        },
        "sourceLang": "en",
        "status": "published",
        "steps": [],
        "translations": [],
        **extra,
    }


def path_session(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "_id": oid(n),
        "mainInstructorId": oid(900),
        "registrationRequestValidation": "disabled",
        "startDate": "2025-01-01T00:00:00.000Z",
        "endDate": "2025-12-31T00:00:00.000Z",
        "createdAt": WHEN,
        "groupId": oid(901),
        "instructorIds": [oid(900)],
        "isAudienceBuilder": False,
        "modifiedAt": WHEN,
        "name": f"Session {n}",
        "pathId": oid(500),
        **extra,
    }


def user_stat(n: int, status: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "_id": oid(n),
        "progress": 40,
        "status": status or {"type": "onTime"},
        "timeSpent": 1200,
        "userId": oid(700 + n),
        "enrolledAt": "2025-01-02T00:00:00.000Z",
        "selfEnrolled": False,
        **extra,
    }


def user_statuses() -> dict[str, Any]:
    return {
        "certificates": 3,
        "usersCountByStatus": {
            "awaitingCorrection": 1,
            "late": 2,
            "notYetStarted": 3,
            "onTime": 4,
            "sessionNotOpened": 0,
            "successful": 5,
            "toRetake": 6,
            "unsuccessful": 7,
        },
    }


def integration(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "_id": oid(n),
        "externalPlatform": f"platform-{n}",
        "authorId": oid(900),
        "groupId": oid(901),
        "defaultCompletion": True,
        "defaultProgress": 0,
        "noGroupPropagation": False,
        **extra,
    }


def bulk_operation(status: str, n: int = 77) -> dict[str, Any]:
    body: dict[str, Any] = {"_id": oid(n), "type": "importExternalStatistics", "createdAt": WHEN, "status": status}
    if status != "pending":
        body["queuedAt"] = WHEN
    if status in ("running", "completed", "error"):
        body["startedAt"] = WHEN
        body["progress"] = {"index": 3, "updatedAt": WHEN}
    if status in ("completed", "error"):
        body["endedAt"] = WHEN
    if status == "error":
        body["errorMessage"] = "The bulk operation stopped at element 3."
    return body


def bulk_results() -> list[dict[str, Any]]:
    return [
        {"input": {"externalId": "c-1"}, "status": "success", "resourceId": oid(1)},
        {"input": {"externalId": "c-2"}, "status": "error", "errorMessage": "No course matches courseIdentifier."},
    ]


def error(code: str, message: str = "A human-readable message.") -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


# iSpring ---------------------------------------------------------------------------------
def ispring_result(n: int, **extra: Any) -> dict[str, Any]:
    body = {
        "userId": f"114dba08-a75e-11eb-b4e5-{n:012x}",
        "courseId": "f0e7400a-ca31-11e9-b6fc-0a580af40a22",
        "moduleId": "5a98720f-41e2-11ea-8a66-0a580af40c6f",
        "moduleTitle": f"Module <{n}> & more",
        "courseItemId": "553964ac-3c5c-11ef-b1c4-02420a200163",
        "enrollmentId": "b9b41af0-f062-11eb-a99d-0242ac190033",
        "accessDate": "2021-07-28T21:00:00+00:00",
        "dueDate": "2021-07-29T21:00:00+00:00",
        "completionStatus": "in_progress",
        "timeSpent": 10,
        "progress": 9.09,
        "awardedScore": 50,
        "passingScore": 80.5,
        "isOverdue": n % 2 == 1,
        "viewsCount": 2,
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def ispring_page(results: list[dict[str, Any]], next_token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"results": results}
    if next_token is not None:
        body["nextPageToken"] = next_token
    return body


def ispring_xml(results: list[dict[str, Any]], next_token: str | None = None) -> str:
    """The same page as XML, the way the seed page shows it (booleans as 0/1)."""
    rows = []
    for result in results:
        fields = []
        for key, value in result.items():
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
            fields.append(f"<{key}>{escape(text)}</{key}>")
        rows.append("<result>" + "".join(fields) + "</result>")
    tail = f"<nextPageToken>{escape(next_token)}</nextPageToken>" if next_token else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<response><results>{"".join(rows)}</results>{tail}</response>'


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<response><results><result><moduleTitle>&lol9;</moduleTitle></result></results></response>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<response><results><result><moduleTitle>&xxe;</moduleTitle></result></results></response>"""
