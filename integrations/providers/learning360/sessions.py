"""The sessions kind: path sessions, their learners' statistics, the LMS's status counts, a
snapshot per session for trends, the reconciliation of both counts, and the status changes of
the sessions someone follows by digest (``lms_cache.signals.sessions_merging``).

For each session whose statistics are refreshed:

1. ``…/user-statuses``: the LMS's own counts per detailed status (and certificates);
2. API v1 ``…/stats`` where the connection has v1 credentials: names, mails, custom fields,
   certificate and ``userStatus`` per learner, and v1's ``userStatus`` counts. v1 answers a
   session in one body, so sessions over ``V1_MAX_LEARNERS`` skip it (memory stays bounded);
   without v1, names and mails come from the users cache and v2 fills everything else;
3. ``…/user-stats``, 2,000 learners a page, staged as the pages arrive.

Everything is merged in one transaction once every session is fetched (``staging``): the
sessions, their learners (a learner no longer listed is marked gone), the LMS counts, the
learner counts per group, status and reason that the reports read (``derived``), a
``PathSessionSnapshot`` per session, and the reconciliation: the local count of each
detailed status (and of certificates) against the LMS's; sessions that differ are listed in
``SyncRun.reconciliation`` and on the snapshot. A report therefore never sees half a session.

Which sessions are refreshed: all of them on a full run; otherwise those never synced, not
ended, modified since their last sync, or ended less than ``ENDED_GRACE`` before it (the LMS
settles final statuses such as ``unsuccessful/sessionEnded`` once a session ends). The
user-stats listing has no "changed since" filter (``completedAt`` misses progress), so a
refreshed session is always listed whole.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from integrations.clients.errors import AuthError, NotFound, PermissionDenied
from integrations.providers.learning360 import records as learning360_records
from integrations.providers.learning360.client_v1 import Learning360V1Client, PathSessionUserStatV1
from integrations.providers.learning360.connect import learning360_client, learning360_v1_client
from integrations.providers.learning360.resources import PathSessionStatusCounts as RemoteCounts, PathSessionUserStat
from integrations.providers.learning360.sync import SESSIONS_PAGE, SOURCE_V2, USER_STATS_PAGE
from integrations.sync import messages, records
from integrations.sync.context import SyncContext
from integrations.sync.derived import (
    learner_activity_of_sessions,
    learner_counts_store,
    user_custom_fields_from_run,
)
from integrations.sync.staging import Row, stage_mark_gone, stage_merge
from lms_cache.models import (
    DETAILED_STATUSES,
    ENDED_GRACE,
    LmsUser,
    PathSession,
    PathSessionLearnerCount,
    PathSessionSnapshot,
    PathSessionStage,
    PathSessionStatusCounts,
    PathSessionUserStat as CachedUserStat,
    PathSessionUserStatStage,
)
from lms_cache.signals import sessions_merging

V1_MAX_LEARNERS = 10_000
SOURCE_V2_V1 = "360Learning v2 + v1"
#: Sessions per IN (…) list when the merge works on many sessions at once.
CHUNK = 500


@dataclass(frozen=True)
class SessionTarget:
    remote_id: str
    path_remote_id: str
    name: str


@dataclass
class FetchedSession:
    target: SessionTarget
    lms: RemoteCounts
    v1_user_status: dict[str, int]
    fetched_at: datetime


@dataclass
class _V1:
    client: Learning360V1Client | None
    refused: bool = False
    used: bool = False
    too_big: int = 0
    unknown: int = 0
    notes: list[str] = field(default_factory=list)


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Which sessions ---------------------------------------------------------------------------------
def sessions_to_refresh(ctx: SyncContext) -> list[SessionTarget]:
    """The staged sessions whose learners this run lists (see the module docstring)."""
    staged = (
        PathSessionStage.objects.filter(run_id=ctx.run_id)
        .order_by("start_date", "remote_id")
        .values_list("remote_id", "path_remote_id", "name", "end_date", "remote_modified_at")
    )
    synced = dict(
        PathSession.objects.filter(connection_id=ctx.connection.pk).values_list("remote_id", "stats_synced_at")
    )
    targets = []
    for remote_id, path_remote_id, name, end_date, modified_at in staged.iterator():
        last = synced.get(remote_id)
        if (
            ctx.full
            or last is None
            or end_date is None
            or last < end_date + ENDED_GRACE
            or (modified_at is not None and modified_at > last)
        ):
            targets.append(SessionTarget(remote_id, path_remote_id, name))
    return targets


# Fetching ----------------------------------------------------------------------------------------
def _v1_learners(v1: _V1, target: SessionTarget, enrolled: int) -> tuple[dict[str, PathSessionUserStatV1], dict]:
    """v1's learners of a session by user id, and its userStatus counts; empty when v1 is not
    configured, refused, too big for one body, or does not know the session."""
    if v1.client is None or v1.refused:
        return {}, {}
    if enrolled > V1_MAX_LEARNERS:
        v1.too_big += 1
        return {}, {}
    try:
        stats = v1.client.path_session_stats(target.remote_id)
    except NotFound:
        v1.unknown += 1
        return {}, {}
    except (AuthError, PermissionDenied) as exc:
        # A wrong or revoked v1 key must not stop the statistics v2 can still bring.
        v1.refused = True
        v1.notes.append(messages.V1_REFUSED.format(detail=exc.message))
        return {}, {}
    v1.used = True
    return {learner.user_id: learner for learner in stats.user_stats}, dict(stats.user_status_counts)


def _learner_rows(
    ctx: SyncContext, batch: list[PathSessionUserStat], target: SessionTarget, v1: dict[str, PathSessionUserStatV1]
) -> list[Row]:
    # One query per page for the names, mails and groups the users cache knows.
    known = {
        remote_id: (first, last, mail, group)
        for remote_id, first, last, mail, group in LmsUser.objects.filter(
            connection_id=ctx.connection.pk, remote_id__in={stat.user_id for stat in batch}
        ).values_list("remote_id", "first_name", "last_name", "mail", "group_remote_id")
    }
    return [
        learning360_records.user_stat_row(
            stat, session_remote_id=target.remote_id, v1=v1.get(stat.user_id), known=known.get(stat.user_id)
        )
        for stat in batch
    ]


def sync_sessions(ctx: SyncContext) -> None:
    ctx.source_api = SOURCE_V2
    connection = ctx.connection
    fetched: list[FetchedSession] = []
    v1 = _V1(client=learning360_v1_client(connection))
    try:
        with learning360_client(connection) as client:
            ctx.stage(
                records.PATH_SESSIONS,
                client.path_sessions(),
                lambda batch: [learning360_records.session_row(s) for s in batch],
                page_size=SESSIONS_PAGE,
                label="Path sessions",
            )
            targets = sessions_to_refresh(ctx)
            for index, target in enumerate(targets, 1):
                label = f"Session {index} of {len(targets)}: {target.name[:80]}"
                ctx.heartbeat(label)
                try:
                    counts = client.path_session_user_statuses(target.path_remote_id, target.remote_id)
                    learners, v1_counts = _v1_learners(v1, target, sum(counts.by_status().values()))
                    if v1.used:
                        ctx.source_api = SOURCE_V2_V1
                    ctx.stage(
                        records.USER_STATS,
                        client.path_session_user_stats(target.path_remote_id, target.remote_id),
                        functools.partial(_learner_rows, ctx, target=target, v1=learners),
                        page_size=USER_STATS_PAGE,
                        label=label,
                    )
                except NotFound:
                    # Deleted while we were listing: drop what was staged of it, keep the rest.
                    PathSessionUserStatStage.objects.filter(
                        run_id=ctx.run_id, session_remote_id=target.remote_id
                    ).delete()
                    ctx.warn(messages.SESSION_NOT_FOUND.format(session=target.name))
                    continue
                fetched.append(FetchedSession(target, counts, v1_counts, timezone.now()))
                del learners
    finally:
        if v1.client is not None:
            v1.client.close()
    for note in v1.notes:
        ctx.warn(note)
    if v1.too_big:
        ctx.warn(messages.V1_SESSION_TOO_BIG.format(sessions=v1.too_big, limit=V1_MAX_LEARNERS))
    if v1.unknown:
        ctx.warn(messages.V1_SESSION_UNKNOWN.format(count=v1.unknown))
    ctx.next_cursor = {"full_at": ctx.started_at.isoformat() if ctx.full else ctx.cursor.get("full_at")}
    ctx.commit(lambda: _apply(ctx, fetched))


# Merging -----------------------------------------------------------------------------------------
def _apply(ctx: SyncContext, fetched: list[FetchedSession]) -> None:
    connection_id, now = ctx.connection.pk, ctx.started_at
    run_id = ctx.run_id

    sessions = stage_merge(records.PATH_SESSIONS, run_id=run_id, connection_id=connection_id, now=now)
    sessions.removed = stage_mark_gone(
        records.PATH_SESSIONS, run_id=run_id, scope=PathSession.objects.filter(connection_id=connection_id), now=now
    )
    ctx.add("sessions", sessions)

    # Before the merge overwrites them, in its transaction: digests note the status changes.
    sessions_merging.send(CachedUserStat, connection_id=connection_id, run_id=run_id, now=now)
    learners = stage_merge(records.USER_STATS, run_id=run_id, connection_id=connection_id, now=now)
    user_custom_fields_from_run(connection_id=connection_id, run_id=run_id)
    session_pks: dict[str, int] = {}
    for chunk in _chunks([f.target.remote_id for f in fetched]):
        session_pks.update(
            PathSession.objects.filter(connection_id=connection_id, remote_id__in=chunk).values_list("remote_id", "pk")
        )
    pks = list(session_pks.values())
    for chunk in _chunks(pks):
        learners.removed += stage_mark_gone(
            records.USER_STATS, run_id=run_id, scope=CachedUserStat.objects.filter(session_id__in=chunk), now=now
        )
    ctx.add("learners", learners)

    for chunk in _chunks(pks):
        learner_counts_store(connection_id=connection_id, run_id=run_id, session_pks=chunk)
    local, certificates, enrolled = _local_counts(run_id)
    counts_rows, snapshots, session_rows = [], [], []
    for item in fetched:
        pk = session_pks[item.target.remote_id]
        lms = item.lms.by_status()
        lms_with_certificates = {**lms, "certificates": item.lms.certificates}
        mine = {status: sum(local[pk].get(status, {}).values()) for status in DETAILED_STATUSES}
        differences = {
            name: {"local": value, "lms": lms_with_certificates.get(name, 0)}
            for name, value in {**mine, "certificates": certificates[pk]}.items()
            if value != lms_with_certificates.get(name, 0)
        }
        # Statuses the LMS reports that this product does not know yet still count.
        for name, value in lms.items():
            if name not in mine and value:
                differences[name] = {"local": 0, "lms": value}
        if differences:
            ctx.record_difference(item.target.remote_id, label=item.target.name, differences=differences)
        counts_rows.append(
            PathSessionStatusCounts(
                connection_id=connection_id,
                session_id=pk,
                certificates=item.lms.certificates,
                v1_user_status=item.v1_user_status,
                fetched_at=item.fetched_at,
                sync_run_id=run_id,
                **{PathSessionStatusCounts.FIELD_BY_STATUS[s]: n for s, n in lms.items()},
            )
        )
        snapshots.append(
            PathSessionSnapshot(
                connection_id=connection_id,
                session_id=pk,
                sync_run_id=run_id,
                taken_at=item.fetched_at,
                enrolled=enrolled[pk],
                certificates=certificates[pk],
                counts={status: dict(reasons) for status, reasons in local[pk].items()},
                lms_counts=lms_with_certificates,
                differences=differences,
            )
        )
        session_rows.append(PathSession(pk=pk, enrolled_count=enrolled[pk], stats_synced_at=now, stats_run_id=run_id))

    count_fields = [*PathSessionStatusCounts.FIELD_BY_STATUS.values(), "certificates", "v1_user_status"]
    PathSessionStatusCounts.objects.bulk_create(
        counts_rows,
        update_conflicts=True,
        unique_fields=["session"],
        update_fields=[*count_fields, "fetched_at", "sync_run"],
    )
    PathSessionSnapshot.objects.bulk_create(snapshots)
    PathSession.objects.bulk_update(session_rows, ["enrolled_count", "stats_synced_at", "stats_run"], batch_size=CHUNK)
    for chunk in _chunks([item.target.remote_id for item in fetched]):
        learner_activity_of_sessions(connection_id=connection_id, session_remote_ids=chunk)
    differing = len(ctx.reconciliation)
    ctx.summary.append(f"{len(fetched)} session(s) refreshed, {differing} with counts that differ from 360Learning's")


def _local_counts(run_id: int) -> tuple[dict[int, dict[str, dict[str, int]]], dict[int, int], dict[int, int]]:
    """Per session the run refreshed: learners per detailed status and reason, certificates, and
    learners, read from the whole-session counts the run just stored (the snapshot and the
    reports then show the very same numbers)."""
    local: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    certificates: dict[int, int] = defaultdict(int)
    enrolled: dict[int, int] = defaultdict(int)
    rows = PathSessionLearnerCount.objects.filter(sync_run_id=run_id, whole_session=True).values_list(
        "session_id", "status_type", "status_reason", "learners", "certificates"
    )
    for session_id, status, reason, n, with_certificate in rows:
        local[session_id][status][reason] = n
        enrolled[session_id] += n
        certificates[session_id] += with_certificate
    return local, certificates, enrolled
