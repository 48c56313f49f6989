"""360Learning Bulk API v2 operations as a timed state machine.

Bulk operations are advanced by reads of the operation (``bulk_operation_advance``): no worker
is needed and a polling client sees every state, pending → queued → running (one batch of
records applied per read) → completed | error. Effects are applied in batches with bulk ORM
calls, inside the transaction that moves the state.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sandbox import constants as c
from sandbox.errors import SandboxError, parse_datetime
from sandbox.models import (
    KIND_ATTEMPT,
    KIND_BULK_OPERATION,
    KIND_COURSE,
    BulkOperation,
    BulkOperationResult,
    Course,
    CourseAttempt,
    Integration,
    Tenant,
    User,
)


def bulk_operation_create(
    *, tenant: Tenant, integration_oid: str, type: str, records: list[dict[str, Any]], fail: bool = False
) -> BulkOperation:
    """Queue a bulk operation on an integration (202 with its Location).

    ``fail`` (the ``bulk_error`` fault) makes it stop in status ``error`` half-way through.
    Raises ``SandboxError``: 503 bulkAPIDisabled, 404 integrationNotFound,
    429 bulkOperationsConcurrencyLimitReached (with ``retry_after``).
    """
    if not tenant.bulk_api_enabled:
        raise SandboxError(
            503, c.ERROR_BULK_API_DISABLED, "The bulk API is temporarily disabled.", retry_after=c.RETRY_AFTER_SECONDS
        )
    now = timezone.now()
    with transaction.atomic():
        integration = (
            Integration.objects.select_for_update()
            .filter(tenant=tenant, oid=integration_oid, deleted_at__isnull=True)
            .first()
        )
        if integration is None:
            raise SandboxError(404, c.ERROR_INTEGRATION_NOT_FOUND, f"No integration has the id {integration_oid!r}.")
        running = BulkOperation.objects.filter(integration=integration, status__in=c.BULK_UNFINISHED).count()
        if running >= tenant.bulk_concurrency_limit:
            raise SandboxError(
                429,
                c.ERROR_CONCURRENCY_LIMIT,
                f"{running} bulk operations of this integration are not finished; the limit is {tenant.bulk_concurrency_limit}.",
                retry_after=c.RETRY_AFTER_SECONDS,
            )
        return BulkOperation.objects.create(
            tenant=tenant,
            integration=integration,
            integration_oid=integration.oid,
            oid=tenant.object_id(KIND_BULK_OPERATION),
            type=type,
            input=records,
            fail_at_index=len(records) // 2 if fail else None,
            created_at=now,
            state_changed_at=now,
        )


def bulk_operation_advance(*, tenant: Tenant, oid: str) -> BulkOperation:
    """Read a bulk operation, first moving it one state on when it may.

    It moves on when the current state has been shown by an earlier read and has lasted
    ``tenant.bulk_min_state_seconds``; entering ``running`` and every later read while running
    apply the next ``tenant.bulk_batch_size`` records. Raises ``SandboxError`` 404.
    """
    with transaction.atomic():
        # The input (up to 10,000 records) is only loaded when a batch is applied.
        operation = (
            BulkOperation.objects.select_for_update()
            .filter(tenant=tenant, oid=oid)
            .select_related("tenant")
            .defer("input")
            .first()
        )
        if operation is None:
            raise SandboxError(404, c.ERROR_BULK_OPERATION_NOT_FOUND, f"No bulk operation has the id {oid!r}.")
        now = timezone.now()
        waited = (now - operation.state_changed_at).total_seconds()
        if operation.status in c.BULK_UNFINISHED and operation.state_seen and waited >= tenant.bulk_min_state_seconds:
            _step(operation, now)
        operation.state_seen = True
        operation.save(update_fields=_STATE_FIELDS)
    return operation


_STATE_FIELDS = [
    "status",
    "processed",
    "error_message",
    "queued_at",
    "started_at",
    "ended_at",
    "progress_updated_at",
    "state_changed_at",
    "state_seen",
]


def bulk_operation_finish(*, tenant: Tenant, oid: str) -> BulkOperation:
    """Advance an operation until it is completed or errored (demo and tests)."""
    while True:
        operation = bulk_operation_advance(tenant=tenant, oid=oid)
        if operation.status in c.BULK_FINISHED:
            return operation
        if tenant.bulk_min_state_seconds:
            BulkOperation.objects.filter(pk=operation.pk).update(
                state_changed_at=F("state_changed_at") - timedelta(seconds=tenant.bulk_min_state_seconds)
            )


def _step(operation: BulkOperation, now: datetime) -> None:
    operation.state_changed_at = now
    if operation.status == c.BULK_PENDING:
        operation.status = c.BULK_QUEUED
        operation.queued_at = now
        return
    if operation.status == c.BULK_QUEUED:
        operation.status = c.BULK_RUNNING
        operation.started_at = now
        _run_batch(operation, now)
        return
    stop = operation.fail_at_index if operation.fail_at_index is not None else len(operation.input)
    if operation.processed < stop:
        _run_batch(operation, now)
        return
    operation.ended_at = now
    if operation.fail_at_index is not None:
        operation.status = c.BULK_ERROR
        operation.error_message = c.MSG_OPERATION_FAILED.format(index=operation.fail_at_index)
    else:
        operation.status = c.BULK_COMPLETED


def _run_batch(operation: BulkOperation, now: datetime) -> None:
    integration = (
        Integration.objects.filter(pk=operation.integration_id, deleted_at__isnull=True)
        .select_related("author", "group")
        .first()
    )
    if integration is None:
        operation.status = c.BULK_ERROR
        operation.error_message = c.MSG_INTEGRATION_GONE
        operation.ended_at = now
        return
    stop = operation.fail_at_index if operation.fail_at_index is not None else len(operation.input)
    start = operation.processed
    end = min(stop, start + max(1, operation.tenant.bulk_batch_size))
    records = list(enumerate(operation.input[start:end], start=start))
    apply = {
        c.OP_IMPORT_COURSES: _apply_course_upserts,
        c.OP_ARCHIVE_COURSES: _apply_course_archives,
        c.OP_IMPORT_STATISTICS: _apply_statistics,
    }[operation.type]
    outcomes = apply(operation.tenant, integration, records, now)
    BulkOperationResult.objects.bulk_create(
        [
            BulkOperationResult(
                operation=operation,
                index=index,
                status=c.RESULT_ERROR if error else c.RESULT_SUCCESS,
                resource_id=resource_id or "",
                error_message=error or "",
            )
            for index, (resource_id, error) in zip((i for i, _ in records), outcomes, strict=True)
        ],
        batch_size=1000,
    )
    operation.processed = end
    operation.progress_updated_at = now


Outcome = tuple[str | None, str | None]  # (resource id, error message)


def _apply_course_upserts(
    tenant: Tenant, integration: Integration, records: list[tuple[int, dict]], now: datetime
) -> list[Outcome]:
    external_ids = {record["externalId"] for _, record in records}
    courses = {
        course.external_id: course
        for course in Course.objects.filter(integration=integration, external_id__in=external_ids)
    }
    author_oids = {record["authorId"] for _, record in records if record.get("authorId")}
    authors = {
        user.oid: user for user in User.objects.filter(tenant=tenant, oid__in=author_oids).exclude(status="deleted")
    }
    to_create: dict[str, Course] = {}
    to_update: dict[str, Course] = {}
    outcomes: list[Outcome] = []
    for _, record in records:
        author = integration.author
        if record.get("authorId"):
            author = authors.get(record["authorId"])
            if author is None:
                outcomes.append((None, c.MSG_AUTHOR_NOT_FOUND.format(value=record["authorId"])))
                continue
        course = courses.get(record["externalId"])
        if course is None:
            course = Course(
                tenant=tenant,
                oid=tenant.object_id(KIND_COURSE),
                type="external",
                integration=integration,
                external_id=record["externalId"],
                created_at=now,
            )
            courses[course.external_id] = course
            to_create[course.external_id] = course
        elif course.external_id not in to_create:
            to_update[course.external_id] = course
        course.name = record["name"]
        course.description = record.get("description", "")
        course.default_lang = course.source_lang = record["defaultLang"]
        course.author = author
        course.group = integration.group
        course.duration = record.get("duration")
        course.status = "published"
        course.modified_at = now
        course.translations = [
            {
                "lang": translation["lang"],
                "published": True,
                "translatorIds": [],
                "translatedFields": {
                    k: v for k, v in translation["translatedFields"].items() if k in ("name", "description")
                },
            }
            for translation in record.get("translations", [])
        ]
        course.external = {
            k: v
            for k, v in record.items()
            if k not in ("externalId", "name", "description", "defaultLang", "authorId", "duration")
        }
        outcomes.append((course.oid, None))
    Course.objects.bulk_create(to_create.values(), batch_size=500)
    Course.objects.bulk_update(
        to_update.values(),
        [
            "name",
            "description",
            "default_lang",
            "source_lang",
            "author",
            "group",
            "duration",
            "status",
            "modified_at",
            "translations",
            "external",
        ],
        batch_size=500,
    )
    return outcomes


def _apply_course_archives(
    tenant: Tenant, integration: Integration, records: list[tuple[int, dict]], now: datetime
) -> list[Outcome]:
    external_ids = {record["externalId"] for _, record in records}
    courses = dict(
        Course.objects.filter(integration=integration, external_id__in=external_ids).values_list("external_id", "oid")
    )
    # The documents: archiving or restoring a course does not change its modification date.
    Course.objects.filter(integration=integration, external_id__in=courses.keys()).update(status="archived")
    return [
        (courses[record["externalId"]], None)
        if record["externalId"] in courses
        else (None, c.MSG_ARCHIVE_NOT_FOUND.format(value=record["externalId"]))
        for _, record in records
    ]


def _attempt_end(attempt: CourseAttempt) -> datetime | None:
    dates = [d for d in (attempt.last_activity_at, attempt.completed_at) if d is not None]
    return max(dates) if dates else None


def _apply_statistics(
    tenant: Tenant, integration: Integration, records: list[tuple[int, dict]], now: datetime
) -> list[Outcome]:
    """importExternalStatistics, as the endpoint and the migration guide describe it.

    - ``forceNew: true`` always creates an attempt;
    - otherwise a new attempt is created when the user has none on the course, or when
      ``firstActivityAt`` is later than the ``lastActivityAt``/``completedAt`` of every attempt;
    - otherwise the latest non-completed attempt is updated with the values given (v2
      computes nothing); when every attempt is completed the record is refused, unless it
      repeats a completed attempt exactly (a re-sent chunk), which succeeds unchanged;
    - ``progress`` 100 completes the attempt at ``lastActivityAt``.
    """
    ids: dict[str, set[str]] = defaultdict(set)
    for _, record in records:
        ids["user:" + record["userIdentifier"]["type"]].add(record["userIdentifier"]["value"])
        ids["course:" + record["courseIdentifier"]["type"]].add(record["courseIdentifier"]["value"])
    # Only the columns the rule needs: a batch resolves up to 1,000 users and courses.
    users = User.objects.filter(tenant=tenant).only("pk", "oid", "mail", "status")
    courses = Course.objects.only("pk", "oid", "external_id", "default_lang", "version_number")
    users_by_mail = {u.mail.lower(): u for u in users.filter(mail__in={m.lower() for m in ids["user:mail"]})}
    users_by_oid = {u.oid: u for u in users.filter(oid__in=ids["user:internalId"])}
    courses_by_external = {
        co.external_id: co for co in courses.filter(integration=integration, external_id__in=ids["course:externalId"])
    }
    courses_by_oid = {co.oid: co for co in courses.filter(tenant=tenant, oid__in=ids["course:internalId"])}

    resolved: list[tuple[dict, User | None, Course | None, str | None]] = []
    for _, record in records:
        user_ref, course_ref = record["userIdentifier"], record["courseIdentifier"]
        user = (
            users_by_mail.get(user_ref["value"].lower())
            if user_ref["type"] == "mail"
            else users_by_oid.get(user_ref["value"])
        )
        course = (
            courses_by_external.get(course_ref["value"])
            if course_ref["type"] == "externalId"
            else courses_by_oid.get(course_ref["value"])
        )
        error = None
        if user is None:
            error = c.MSG_USER_NOT_FOUND.format(**user_ref)
        elif user.status == "deleted":
            error = c.MSG_USER_DELETED.format(**user_ref)
        elif course is None:
            error = c.MSG_COURSE_NOT_FOUND.format(**course_ref)
        resolved.append((record, user, course, error))

    user_ids = {user.pk for _, user, course, error in resolved if not error}
    course_ids = {course.pk for _, user, course, error in resolved if not error}
    attempts: dict[tuple[int, int], list[CourseAttempt]] = defaultdict(list)
    for attempt in CourseAttempt.objects.filter(user_id__in=user_ids, course_id__in=course_ids).order_by("pk"):
        attempts[(attempt.user_id, attempt.course_id)].append(attempt)

    to_create: list[CourseAttempt] = []
    to_update: dict[int, CourseAttempt] = {}
    outcomes: list[Outcome] = []
    for record, user, course, error in resolved:
        if error:
            outcomes.append((None, error))
            continue
        first = parse_datetime(record["firstActivityAt"])
        last = parse_datetime(record["lastActivityAt"])
        if last < first:
            outcomes.append((None, c.MSG_ACTIVITY_ORDER))
            continue
        existing = attempts[(user.pk, course.pk)]
        ends = [end for end in map(_attempt_end, existing) if end is not None]
        target: CourseAttempt | None = None
        if not record.get("forceNew") and existing and not (ends and first > max(ends)):
            open_attempts = [a for a in existing if a.completed_at is None]
            if not open_attempts:
                same = next((a for a in existing if a.first_activity_at == first and a.last_activity_at == last), None)
                outcomes.append((same.oid, None) if same else (None, c.MSG_COMPLETED_ATTEMPT))
                continue
            target = open_attempts[-1]
        if target is None:
            target = CourseAttempt(tenant=tenant, oid=tenant.object_id(KIND_ATTEMPT), user=user, course=course)
            existing.append(target)
            to_create.append(target)
        elif target.pk is not None:
            to_update[target.pk] = target
        progress = round(record["progress"])
        target.progress = progress
        target.score = round(record["score"]) if record.get("score") is not None else target.score
        target.time_spent_ms = int(record["timeSpent"])
        target.first_activity_at = first
        target.last_activity_at = last
        target.completed_at = last if progress == 100 else None
        target.lang = record.get("lang") or course.default_lang
        target.result = record.get("result", target.result)
        target.version_number = course.version_number
        outcomes.append((target.oid, None))
    CourseAttempt.objects.bulk_create(to_create, batch_size=500)
    CourseAttempt.objects.bulk_update(
        to_update.values(),
        [
            "progress",
            "score",
            "time_spent_ms",
            "first_activity_at",
            "last_activity_at",
            "completed_at",
            "lang",
            "result",
            "version_number",
        ],
        batch_size=500,
    )
    return outcomes
