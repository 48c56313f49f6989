"""Recording what changed, from inside a sync's merge: ``ReportsConfig.ready`` connects the two
recorders to ``lms_cache.signals`` (``sessions_merging``, ``attempts_merging``). They run in the
merge's transaction, before the merge, and only for followed sessions and courses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery

from lms_cache.models import CourseAttempt, CourseAttemptStage, PathSessionUserStat, PathSessionUserStatStage
from reports.models import DigestChange, DigestSubscription

#: The status a course change records: an attempt became completed.
COURSE_COMPLETED = "completed"
BATCH = 2000


def _followers(through: type[models.Model], *, target: str, connection_id: int) -> dict[str, tuple[int, list[int]]]:
    """{remote id of a followed session or course: (its pk, ids of the active subscriptions)}."""
    rows = through._default_manager.filter(
        **{f"{target}__connection_id": connection_id, "digestsubscription__unsubscribed_at__isnull": True}
    ).values_list("digestsubscription_id", f"{target}_id", f"{target}__remote_id")
    followed: dict[str, tuple[int, list[int]]] = {}
    for subscription_id, pk, remote_id in rows:
        followed.setdefault(remote_id, (pk, []))[1].append(subscription_id)
    return followed


def _write(changes: Iterable[DigestChange]) -> int:
    written, batch = 0, []
    for change in changes:
        batch.append(change)
        if len(batch) >= BATCH:
            written += len(DigestChange.objects.bulk_create(batch))
            batch = []
    if batch:
        written += len(DigestChange.objects.bulk_create(batch))
    return written


def digest_changes_record_sessions(*, connection_id: int, run_id: int, now: datetime) -> int:
    """For each followed session the run refreshed: a change per learner whose detailed status
    differs from the cache (or who is new to it), per following subscription. Runs on
    ``sessions_merging``: inside the merge's transaction, before the learners are merged.
    Returns the rows written."""
    followed = _followers(DigestSubscription.sessions.through, target="pathsession", connection_id=connection_id)
    if not followed:
        return 0
    before = PathSessionUserStat.objects.filter(
        connection_id=connection_id, remote_id=OuterRef("remote_id"), gone_at__isnull=True
    ).values("status_type")[:1]
    staged = (
        PathSessionUserStatStage.objects.filter(run_id=run_id, session_remote_id__in=list(followed))
        .annotate(before=Subquery(before))
        .filter(Q(before__isnull=True) | ~Q(before=F("status_type")))
        .values_list("session_remote_id", "user_remote_id", "before", "status_type")
    )
    return _write(
        DigestChange(
            subscription_id=subscription_id,
            session_id=followed[session][0],
            user_remote_id=user,
            old_status=old or "",
            new_status=new,
            sync_run_id=run_id,
            recorded_at=now,
        )
        for session, user, old, new in staged.iterator(chunk_size=BATCH)
        for subscription_id in followed[session][1]
    )


def digest_changes_record_attempts(*, connection_id: int, run_id: int, now: datetime) -> int:
    """For each followed course: a change per attempt of the run that is completed and was not
    before (or is new), per following subscription. Runs on ``attempts_merging``: inside the
    course-stats merge's transaction, before the attempts are merged. Returns the rows written."""
    followed = _followers(DigestSubscription.courses.through, target="course", connection_id=connection_id)
    if not followed:
        return 0
    completed_before = CourseAttempt.objects.filter(
        connection_id=connection_id, remote_id=OuterRef("remote_id"), gone_at__isnull=True, completed_at__isnull=False
    )
    staged = (
        CourseAttemptStage.objects.filter(
            run_id=run_id, course_remote_id__in=list(followed), completed_at__isnull=False
        )
        .exclude(Exists(completed_before))
        .values_list("course_remote_id", "user_remote_id")
    )
    return _write(
        DigestChange(
            subscription_id=subscription_id,
            course_id=followed[course][0],
            user_remote_id=user,
            new_status=COURSE_COMPLETED,
            sync_run_id=run_id,
            recorded_at=now,
        )
        for course, user in staged.iterator(chunk_size=BATCH)
        for subscription_id in followed[course][1]
    )
