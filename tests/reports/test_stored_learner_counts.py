"""The learner counts a sessions sync stores (``PathSessionLearnerCount``) answer the sessions
overview and a session's breakdown with the very numbers counting the learners live gives: for
a reader who sees every learner and for a manager whose scope is made of groups, on the
sandbox LMS synced over real HTTP. A re-sync refreshes them; a session synced before they
existed, or a scope with a rule they cannot answer, is counted live."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection as db
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from lms_cache.models import LmsGroup, PathSession, PathSessionLearnerCount, PathSessionUserStat
from reports.charts import StatusCounts
from reports.filters import ReportFilters
from reports.models import ManagerScope
from reports.scopes import Rule, Scope, reader_scope
from reports.selectors.path_sessions import (
    path_session_breakdown,
    path_session_learner_count,
    path_session_learners,
    path_session_list,
    path_session_status_counts,
)
from sandbox import models as remote
from tests.conftest import make_account
from tests.reports.conftest import breakdown_counts, breakdown_enrolled

pytestmark = pytest.mark.django_db(transaction=True)

LEARNERS_TABLE = PathSessionUserStat._meta.db_table


def _sync_sessions(connection, *kinds: str) -> None:
    for kind in kinds or ("users", "paths", "sessions"):
        call_command("sync_lms", kind, "--connection", connection.name, "--full", stdout=io.StringIO())


@pytest.fixture
def synced(connection_360):
    _sync_sessions(connection_360)
    return connection_360


@pytest.fixture
def sessions(synced) -> list[PathSession]:
    found = list(PathSession.objects.current().select_related("path", "connection", "stats_run", "lms_counts"))
    assert len(found) == 6
    return found


@pytest.fixture
def group_scope(synced) -> Scope:
    """Dana, a manager who sees the learners of the two largest groups (without subgroups)."""
    largest = Counter(PathSessionUserStat.objects.current().values_list("group_remote_id", flat=True))
    remote_ids = [remote_id for remote_id, _ in largest.most_common() if remote_id][:2]
    dana = make_account("dana", "Manager")
    row = ManagerScope.objects.create(user=dana, include_subgroups=False)
    row.groups.set(LmsGroup.objects.filter(connection=synced, remote_id__in=remote_ids))
    scope = reader_scope(user=dana)
    assert scope is not None and scope.rule is None and len(scope.groups) == 2
    return scope


def _counted(session: PathSession, scope: Scope | None = None) -> StatusCounts:
    """The session's learners per status and reason counted here, in Python, from the cache."""
    learners = PathSessionUserStat.objects.current().filter(session=session)
    if scope is not None:
        groups = [remote_id for connection_id, remote_id in scope.groups if connection_id == session.connection_id]
        learners = learners.filter(group_remote_id__in=groups)
    rows = list(learners.values_list("status_type", "status_reason", "has_certificate"))
    return StatusCounts(
        counts=dict(Counter((status, reason) for status, reason, _ in rows)),
        certificates=sum(1 for *_, certificate in rows if certificate),
    )


def _reads_learners(queries) -> bool:
    return any(LEARNERS_TABLE in query["sql"] for query in queries.captured_queries)


def _refetch(sessions: list[PathSession]) -> list[PathSession]:
    pks = [session.pk for session in sessions]
    return list(PathSession.objects.filter(pk__in=pks).select_related("stats_run", "connection", "lms_counts"))


def test_the_sync_stores_counts_per_group_and_per_session_that_sum_to_its_learners(sessions):
    for session in sessions:
        assert session.learner_counts_run_id == session.stats_run_id
        rows = PathSessionLearnerCount.objects.filter(session=session)
        whole = Counter({(r.status_type, r.status_reason): r.learners for r in rows if r.whole_session})
        per_group: Counter = Counter()
        for r in rows:
            if not r.whole_session:
                per_group[(r.status_type, r.status_reason)] += r.learners
        assert whole == per_group == Counter(_counted(session).counts)
        assert sum(whole.values()) == session.enrolled_count
    # The sandbox gives some learners a reason: the stored counts keep it apart.
    reasons = set(PathSessionLearnerCount.objects.exclude(status_reason="").values_list("status_type", "status_reason"))
    assert reasons & {("toRetake", "mandatoryReplay"), ("unsuccessful", "sessionEnded")}


def test_stored_counts_equal_live_counts_for_every_learner_and_for_a_manager_of_groups(sessions, group_scope):
    for scope in (None, group_scope):
        filters = ReportFilters(scope=scope)
        with CaptureQueriesContext(db) as queries:
            overview = path_session_status_counts(sessions=sessions, filters=filters)
            breakdowns = {s.pk: path_session_breakdown(session=s, filters=filters) for s in sessions}
        assert not _reads_learners(queries), "the stored counts answer without counting learners"

        # The same selectors counting live (the sessions as if synced before the counts existed).
        for session in sessions:
            session.learner_counts_run_id = None
        live_overview = path_session_status_counts(sessions=sessions, filters=filters)
        for session in sessions:
            live = path_session_breakdown(session=session, filters=filters)
            expected = _counted(session, scope)
            assert overview[session.pk] == live_overview[session.pk] == expected, session.name
            assert breakdowns[session.pk].counts == live.counts == expected
            assert breakdowns[session.pk].rows == live.rows
        sessions = _refetch(sessions)

    in_scope = sum(c.enrolled for c in overview.values())
    assert 0 < in_scope < sum(s.enrolled_count for s in sessions), "the manager sees some learners, not all"


def test_a_scope_with_a_rule_is_counted_live_and_right(sessions, group_scope):
    groups = {remote_id for _, remote_id in group_scope.groups}
    rule = Rule(ManagerScope.RuleField.MAIL, "", ManagerScope.Operator.CONTAINS, "a")
    filters = ReportFilters(scope=Scope(groups=group_scope.groups, rule=rule))

    with CaptureQueriesContext(db) as queries:
        counts = path_session_status_counts(sessions=sessions, filters=filters)

    assert _reads_learners(queries)
    for session in sessions:
        rows = PathSessionUserStat.objects.current().filter(session=session)
        expected = Counter(
            (status, reason)
            for status, reason, group, mail in rows.values_list(
                "status_type", "status_reason", "group_remote_id", "mail"
            )
            if group in groups or "a" in mail.lower()
        )
        assert counts[session.pk].counts == dict(expected), session.name


def test_a_resync_refreshes_the_stored_counts_when_a_learner_changes_status(synced, sessions, group_scope):
    session = max(sessions, key=lambda s: s.enrolled_count)
    learner = (
        remote.PathSessionUserStat.objects.filter(session__oid=session.remote_id)
        .exclude(status_type="successful")
        .select_related("user")
        .first()
    )
    before = path_session_breakdown(session=session, filters=ReportFilters()).counts
    old = (learner.status_type, learner.status_reason)
    learner.status_type, learner.status_reason, learner.progress = "successful", "", 100
    learner.save()
    # And one learner leaves the session: the cache marks them gone, the counts leave them out.
    leaver = remote.PathSessionUserStat.objects.filter(session__oid=session.remote_id).exclude(pk=learner.pk).first()
    left = (leaver.status_type, leaver.status_reason)
    leaver.delete()

    _sync_sessions(synced, "sessions")

    (session,) = _refetch([session])
    assert session.learner_counts_run_id == session.stats_run_id
    assert not PathSessionLearnerCount.objects.filter(session=session).exclude(sync_run_id=session.stats_run_id)
    for scope in (None, group_scope):
        after = path_session_breakdown(session=session, filters=ReportFilters(scope=scope)).counts
        assert after == _counted(session, scope)
    after = path_session_breakdown(session=session, filters=ReportFilters()).counts
    expected = Counter(before.counts)
    expected[old] -= 1
    expected[left] -= 1
    expected[("successful", "")] += 1
    assert after.counts == {key: n for key, n in expected.items() if n}
    assert after.enrolled == before.enrolled - 1 == session.enrolled_count
    # The snapshot the trend reads was taken from the same counts.
    snapshot = session.snapshots.order_by("-taken_at", "-pk").first()
    assert snapshot.sync_run_id == session.stats_run_id
    assert snapshot.counts_by_type() == {k: v for k, v in after.by_type().items() if v}


def test_a_session_synced_before_the_counts_existed_shows_its_learners_counted_live(
    sessions, group_scope, manager_client
):
    session = max(sessions, key=lambda s: s.enrolled_count)
    stored = {
        scope: path_session_breakdown(session=session, filters=ReportFilters(scope=scope)).counts
        for scope in (None, group_scope)
    }
    # As a sync from before this change left it: no stored counts, no mark.
    PathSessionLearnerCount.objects.filter(session=session).delete()
    PathSession.objects.filter(pk=session.pk).update(learner_counts_run_id=None)
    (session,) = _refetch([session])

    for scope in (None, group_scope):
        with CaptureQueriesContext(db) as queries:
            live = path_session_breakdown(session=session, filters=ReportFilters(scope=scope)).counts
        assert _reads_learners(queries)
        assert live == stored[scope] == _counted(session, scope)

    response = manager_client.get(f"/reports/path-sessions/{session.pk}/")
    html = response.content.decode()
    assert breakdown_counts(html) == stored[None].by_type()
    assert breakdown_enrolled(html)[:2] == ["Enrolled", f"{stored[None].enrolled:,}"]

    # The overview mixes both: this session counted live, the others read from their stored counts.
    others = [s for s in sessions if s.pk != session.pk]
    with CaptureQueriesContext(db) as queries:
        counts = path_session_status_counts(sessions=[session, *others], filters=ReportFilters())
    assert len(queries.captured_queries) == 2
    for s in [session, *others]:
        assert counts[s.pk] == _counted(s)


def test_counts_of_an_older_sync_are_not_read_once_another_sync_swapped_the_learners_in(sessions):
    session = max(sessions, key=lambda s: s.enrolled_count)
    # A sync that merged the learners without storing counts (an older worker during a deploy).
    PathSession.objects.filter(pk=session.pk).update(learner_counts_run_id=session.stats_run_id - 1)
    PathSessionLearnerCount.objects.filter(session=session).update(learners=999)
    (session,) = _refetch([session])

    breakdown = path_session_breakdown(session=session, filters=ReportFilters())

    assert breakdown.counts == _counted(session)


def test_a_group_filter_and_the_overview_sorts_read_the_stored_counts_with_the_same_numbers(sessions, group_scope):
    session = max(sessions, key=lambda s: s.enrolled_count)
    group = LmsGroup.objects.get(remote_id=sorted(group_scope.groups)[0][1])
    for scope in (None, group_scope):
        base = ReportFilters(scope=scope)
        breakdown = path_session_breakdown(session=session, filters=base)
        for filters in (base.but(group=group), base.but(group=group, status="onTime"), base.but(status="late")):
            listed = path_session_learners(session=session, filters=filters).count()
            with CaptureQueriesContext(db) as queries:
                count = path_session_learner_count(session=session, breakdown=breakdown, filters=filters)
            assert count == listed
            assert not _reads_learners(queries)
        assert path_session_learner_count(session=session, breakdown=breakdown, filters=base.but(search="a")) is None

        for sort in ("-completion", "-enrolled"):
            filters = base.but(sort=sort)
            stored = [(s.pk, getattr(s, "completion_rate", None)) for s in path_session_list(filters=filters)]
            PathSession.objects.update(learner_counts_run_id=None)
            live = [(s.pk, getattr(s, "completion_rate", None)) for s in path_session_list(filters=filters)]
            PathSession.objects.filter(pk__in=[s.pk for s in sessions]).update(learner_counts_run_id=F("stats_run_id"))
            assert stored == live
            if sort == "-completion":
                assert any(rate for _, rate in stored)
