"""A small local cache, written straight into the database (no LMS, no HTTP), for fast report tests.

Who is in it (the ``cache`` fixture):

- "Acme 360", a 360Learning connection, synced an hour ago (sync runs of every kind), with
  the groups Sales and Ingénierie and the path "Onboarding <b>2025</b>" (untrusted markup).
- Its session "Onboarding · Cohort 1" (ongoing) has one learner in every detailed status and
  reason, and a few whose names are hard on a CSV file or a page:
  Zoë "Z" O'Brien-Dubois, whose last name holds a comma and a new line;
  a learner literally named ``=HYPERLINK("http://evil.example","click")``;
  and Mallory ``<script>alert(1)</script>``, who is also late.
  The LMS's own counts match the cache; two sync snapshots give a trend.
- Its session "Onboarding · Cohort 0" ended long ago; "Onboarding · Cohort 2" opens next month.
- Course statistics: two courses, a handful of attempts (one by Mallory on a course named
  ``<img src=x onerror=alert(1)>``).
- "Acme iSpring", an iSpring Learn connection, with module results in several completion
  statuses, one module titled ``<script>alert(1)</script>``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncState
from lms_admin.roles import MANAGER_GROUP
from lms_cache.models import (
    Course,
    CourseAttempt,
    LmsGroup,
    LmsUser,
    ModuleResult,
    Path,
    PathSession,
    PathSessionSnapshot,
    PathSessionStatusCounts,
    PathSessionUserStat,
)
from reports.models import ManagerScope
from reports.scopes import manager_scope_update
from tests.conftest import make_account
from tests.support.html import find, find_all, text

SCRIPT = "<script>alert(1)</script>"
HYPERLINK = '=HYPERLINK("http://evil.example","click")'
HTMX = {"HX-Request": "true"}


# Reading a path session's page (parsed, tests/support/html.py) ---------------------------------
def breakdown_cells(html: str) -> list[tuple[str, str]]:
    """(learners, share without %) of each row of the breakdown table's body."""
    rows = find_all(find(find(html, "table", id="breakdown-table"), "tbody"), "tr")
    counts = [find_all(row, "td", class_="num")[:2] for row in rows]
    return [(text(count), text(share).removesuffix("%")) for count, share in counts]


def breakdown_counts(html: str) -> dict[str, int]:
    """The breakdown's learners per status type (its reasons added up), read from the page."""
    counts: dict[str, int] = {}
    status = None
    for row in find_all(find(find(html, "table", id="breakdown-table"), "tbody"), "tr"):
        # A status's first row names it (<th scope=rowgroup … <code>late</code>); its reasons follow.
        for header in find_all(row, "th"):
            status = text(find(header, "code"))
        learners = text(find_all(row, "td", class_="num")[0]).replace(",", "")
        counts[status] = counts.get(status, 0) + int(learners)
    return counts


def breakdown_enrolled(html: str) -> list[str]:
    """The breakdown's footer cells: Enrolled, learners, share, the LMS's own count."""
    return [text(cell) for cell in find(find(html, "table", id="breakdown-table"), "tfoot").children[0].children]


_ids = itertools.count(1)


def remote_id(prefix: str = "") -> str:
    return f"{prefix}{next(_ids):024x}"[-24:]


def make_connection(name: str, provider: str = "360learning") -> Connection:
    connection = Connection.objects.create(
        name=name, provider=provider, base_url="http://127.0.0.1:9", client_id="not-used"
    )
    connection.client_secret = "not-used"
    connection.save()
    return connection


def make_sync_run(connection: Connection, kind: str, *, ended_ago: timedelta = timedelta(hours=1), **extra) -> SyncRun:
    now = timezone.now()
    return SyncRun.objects.create(
        connection=connection,
        kind=kind,
        state=SyncState.COMPLETED,
        started_at=now - ended_ago - timedelta(minutes=2),
        ended_at=now - ended_ago,
        **extra,
    )


def make_group(connection: Connection, name: str) -> LmsGroup:
    return LmsGroup.objects.create(connection=connection, remote_id=remote_id(), name=name, synced_at=timezone.now())


def make_user(
    connection: Connection, first: str, last: str, *, group: LmsGroup | None = None, mail: str = ""
) -> LmsUser:
    return LmsUser.objects.create(
        connection=connection,
        remote_id=remote_id(),
        first_name=first,
        last_name=last,
        mail=mail or f"{next(_ids)}@acme.example",
        status="active",
        group=group,
        group_remote_id=group.remote_id if group else "",
        synced_at=timezone.now(),
    )


def make_path(connection: Connection, name: str) -> Path:
    return Path.objects.create(
        connection=connection, remote_id=remote_id(), name=name, status="published", lang="en", synced_at=timezone.now()
    )


def make_session(
    connection: Connection,
    path: Path,
    name: str,
    *,
    starts_in: timedelta,
    lasts: timedelta | None,
    run: SyncRun | None = None,
    **extra,
) -> PathSession:
    now = timezone.now()
    return PathSession.objects.create(
        connection=connection,
        remote_id=remote_id(),
        path=path,
        path_remote_id=path.remote_id,
        name=name,
        start_date=now + starts_in,
        end_date=now + starts_in + lasts if lasts is not None else None,
        synced_at=now,
        stats_synced_at=run.ended_at if run else None,
        stats_run=run,
        **extra,
    )


def make_learner(
    session: PathSession, user: LmsUser | None = None, *, status: str, reason: str = "", **fields
) -> PathSessionUserStat:
    now = timezone.now()
    completed = status == "successful" or (status == "unsuccessful" and not reason)
    values = {
        "first_name": user.first_name if user else "Learner",
        "last_name": user.last_name if user else f"#{next(_ids)}",
        "mail": user.mail if user else f"{next(_ids)}@acme.example",
        "group_remote_id": user.group_remote_id if user else "",
        "progress": 100 if completed else (0 if status in ("notYetStarted", "sessionNotOpened") else 40),
        "score": 80 if status == "successful" else None,
        "time_spent_ms": 3_723_000,
        "started_at": session.start_date + timedelta(days=1),
        "completed_at": now - timedelta(days=1) if completed else None,
        "has_certificate": status == "successful",
        **fields,
    }
    return PathSessionUserStat.objects.create(
        connection=session.connection,
        remote_id=remote_id(),
        session=session,
        session_remote_id=session.remote_id,
        user=user,
        user_remote_id=user.remote_id if user else remote_id(),
        status_type=status,
        status_reason=reason,
        synced_at=now,
        **values,
    )


def store_lms_counts(session: PathSession, **overrides) -> PathSessionStatusCounts:
    """The LMS's own user-statuses counts for ``session``: the cache's, unless overridden."""
    counts: dict[str, int] = dict.fromkeys(PathSessionStatusCounts.FIELD_BY_STATUS.values(), 0)
    for status in PathSessionUserStat.objects.current().filter(session=session).values_list("status_type", flat=True):
        counts[PathSessionStatusCounts.FIELD_BY_STATUS[status]] += 1
    counts.update(overrides)
    certificates = PathSessionUserStat.objects.filter(session=session, has_certificate=True).count()
    row, _ = PathSessionStatusCounts.objects.update_or_create(
        session=session,
        defaults={
            "connection": session.connection,
            "fetched_at": timezone.now(),
            "certificates": certificates,
            **counts,
        },
    )
    return row


def make_attempt(
    user: LmsUser, course: Course, *, completed_days_ago: float | None, score: int | None = None, **fields
) -> CourseAttempt:
    now = timezone.now()
    completed = now - timedelta(days=completed_days_ago) if completed_days_ago is not None else None
    return CourseAttempt.objects.create(
        connection=user.connection,
        remote_id=remote_id(),
        course=course,
        course_remote_id=course.remote_id,
        user=user,
        user_remote_id=user.remote_id,
        progress=100 if completed else 50,
        score=score,
        time_spent_ms=600_000,
        first_activity_at=(completed or now) - timedelta(hours=2),
        last_activity_at=completed or now,
        completed_at=completed,
        synced_at=now,
        **fields,
    )


def make_course(connection: Connection, name: str) -> Course:
    return Course.objects.create(
        connection=connection,
        remote_id=remote_id(),
        name=name,
        status="published",
        type="native",
        lang="en",
        synced_at=timezone.now(),
    )


def make_module_result(
    connection: Connection, *, course_id: str, module_id: str, title: str, status: str, user_id: str, **fields
) -> ModuleResult:
    now = timezone.now()
    return ModuleResult.objects.create(
        connection=connection,
        remote_id=remote_id(),
        user_id=user_id,
        user_status=fields.pop("user_status", 1),
        course_id=course_id,
        module_id=module_id,
        module_title=title,
        course_item_id=remote_id(),
        access_date=now - timedelta(days=10),
        completion_date=now - timedelta(days=1) if status in ("complete", "passed", "failed") else None,
        completion_status=status,
        time_spent_seconds=300,
        progress=100.0 if status in ("complete", "passed") else 20.0,
        synced_at=now,
        **fields,
    )


@dataclass
class Cache:
    acme: Connection
    ispring: Connection
    sales: LmsGroup
    engineering: LmsGroup
    path: Path
    session: PathSession
    ended: PathSession
    upcoming: PathSession
    zoe: LmsUser
    formula: LmsUser
    mallory: LmsUser
    courses: list[Course] = field(default_factory=list)
    sessions_run: SyncRun | None = None

    @property
    def learners(self):
        return PathSessionUserStat.objects.filter(session=self.session)


EVERY_STATUS = [
    ("notYetStarted", ""),
    ("onTime", ""),
    ("late", ""),
    ("awaitingCorrection", ""),
    ("successful", ""),
    ("toRetake", ""),
    ("toRetake", "mandatoryReplay"),
    ("unsuccessful", ""),
    ("unsuccessful", "sessionEnded"),
]


@pytest.fixture
def cache(db) -> Cache:
    acme = make_connection("Acme 360")
    runs = {
        kind: make_sync_run(acme, kind, source_api="360Learning v2 + v1")
        for kind in ("users", "sessions", "course-stats")
    }
    sales, engineering = make_group(acme, "Sales"), make_group(acme, "Ingénierie")
    zoe = make_user(acme, 'Zoë "Z"', "O'Brien-Dubois, Jr.\nsecond line", group=engineering, mail="zoe@acme.example")
    formula = make_user(acme, HYPERLINK, "Formula", group=sales, mail="@formula@acme.example")
    mallory = make_user(acme, "Mallory", SCRIPT, group=sales, mail="mallory@acme.example")
    path = make_path(acme, "Onboarding <b>2025</b>")
    session = make_session(
        acme,
        path,
        "Onboarding · Cohort 1",
        starts_in=-timedelta(days=20),
        lasts=timedelta(days=60),
        run=runs["sessions"],
    )
    ended = make_session(
        acme,
        path,
        "Onboarding · Cohort 0",
        starts_in=-timedelta(days=300),
        lasts=timedelta(days=60),
        run=runs["sessions"],
    )
    upcoming = make_session(
        acme,
        path,
        "Onboarding · Cohort 2",
        starts_in=timedelta(days=30),
        lasts=timedelta(days=60),
        run=runs["sessions"],
    )
    for status, reason in EVERY_STATUS:
        make_learner(session, status=status, reason=reason, custom_fields={"Country": "France"})
    make_learner(session, zoe, status="successful", custom_fields={"Country": "Österreich", "Employee ID": "E-1"})
    make_learner(session, formula, status="onTime", custom_fields={"Country": "=1+1"})
    make_learner(session, mallory, status="late", custom_fields={"Country": SCRIPT})
    gone = make_learner(session, status="late")
    PathSessionUserStat.objects.filter(pk=gone.pk).update(gone_at=timezone.now())  # left the session: not counted
    for status, reason in (("successful", ""), ("unsuccessful", "sessionEnded"), ("unsuccessful", "sessionEnded")):
        make_learner(ended, status=status, reason=reason)
    make_learner(upcoming, status="sessionNotOpened")
    for s in (session, ended, upcoming):
        s.enrolled_count = PathSessionUserStat.objects.current().filter(session=s).count()
        s.save(update_fields=["enrolled_count"])
        store_lms_counts(s)
    now = timezone.now()
    PathSessionSnapshot.objects.create(
        connection=acme, session=session, taken_at=now - timedelta(days=2), enrolled=10,
        counts={"notYetStarted": {"": 6}, "onTime": {"": 3}, "late": {"": 1}},
    )  # fmt: skip
    PathSessionSnapshot.objects.create(
        connection=acme, session=session, sync_run=runs["sessions"], taken_at=now - timedelta(hours=1), enrolled=12,
        counts={"notYetStarted": {"": 1}, "onTime": {"": 2}, "late": {"": 2}, "successful": {"": 2},
                "toRetake": {"": 1, "mandatoryReplay": 1}, "unsuccessful": {"": 1, "sessionEnded": 1},
                "awaitingCorrection": {"": 1}},
    )  # fmt: skip
    courses = [make_course(acme, "Écoute active, niveau 2"), make_course(acme, "<img src=x onerror=alert(1)>")]
    make_attempt(zoe, courses[0], completed_days_ago=3, score=90)
    make_attempt(zoe, courses[1], completed_days_ago=None)
    make_attempt(formula, courses[0], completed_days_ago=40, score=70)
    make_attempt(mallory, courses[1], completed_days_ago=1, score=55)
    make_attempt(mallory, courses[0], completed_days_ago=None)

    ispring = make_connection("Acme iSpring", provider="ispring")
    make_sync_run(ispring, "module-results", source_api="iSpring Learn")
    for n, status in enumerate(("not_started", "in_progress", "complete", "passed", "failed", "complete")):
        make_module_result(
            ispring,
            course_id="course-a",
            module_id="module-1",
            title="Sécurité — module 1",
            status=status,
            user_id=f"user-{n}",
        )
    make_module_result(
        ispring,
        course_id="course-a",
        module_id="module-2",
        title=SCRIPT,
        status="in_progress",
        user_id="user-1",
        user_status=3,
    )
    make_module_result(
        ispring,
        course_id="course-b",
        module_id="module-3",
        title="Hygiène",
        status="passed",
        user_id="user-2",
        is_overdue=True,
    )
    return Cache(
        acme,
        ispring,
        sales,
        engineering,
        path,
        session,
        ended,
        upcoming,
        zoe,
        formula,
        mallory,
        courses,
        runs["sessions"],
    )


# Two teams, two managers (the scope and digest tests) ------------------------------------------
# All of "Teams 360":
# - Sales, with its subgroup Sales EMEA, and Ingénierie.
# - Sales learners: Sam Quillon and Sol Varga (Sales), Sasha Okonkwo (Sales EMEA).
#   Ingénierie learners: Eve Nakamura and Ezra Lindqvist.
# - "Teams · Spring" has all five; "Sales · Kickoff" has Sam and Sol only.
# - Everyone has an attempt on "Negotiation"; Eve also on "Kubernetes".
# - Dave manages Sales (with its subgroups), Erin manages Ingénierie.
@dataclass
class Teams:
    sessions: dict
    courses: dict
    groups: dict
    learners: dict  # name → LmsUser
    dave: User
    erin: User


SALES = ("Sam Quillon", "Sol Varga", "Sasha Okonkwo")
ENGINEERING = ("Eve Nakamura", "Ezra Lindqvist")


def set_scope(manager: User, *groups: LmsGroup, **values) -> ManagerScope:
    fields = {
        "every_learner": False,
        "include_subgroups": True,
        "rule_field": "",
        "rule_custom_field": "",
        "rule_operator": "equals",
        "rule_value": "",
        "rule_value_is_manager_mail": False,
        "match": "any",
        **values,
    }
    return manager_scope_update(manager=manager, values=fields, groups=list(groups), actor=None)


@pytest.fixture
def teams(db) -> Teams:
    connection = make_connection("Teams 360")
    run = make_sync_run(connection, "sessions", source_api="360Learning v2 + v1")
    make_sync_run(connection, "course-stats", source_api="360Learning v2")
    sales, engineering = make_group(connection, "Sales"), make_group(connection, "Ingénierie")
    emea = make_group(connection, "Sales EMEA")
    LmsGroup.objects.filter(pk=emea.pk).update(parent_remote_id=sales.remote_id)
    group_of = {"Sam Quillon": sales, "Sol Varga": sales, "Sasha Okonkwo": emea, "Eve Nakamura": engineering}
    group_of["Ezra Lindqvist"] = engineering
    learners = {}
    for name, group in group_of.items():
        first, last = name.split()
        learners[name] = make_user(connection, first, last, group=group, mail=f"{first.lower()}@teams.example")
    path = make_path(connection, "Teams path")
    spring = make_session(
        connection, path, "Teams · Spring", starts_in=-timedelta(days=5), lasts=timedelta(days=30), run=run
    )
    kickoff = make_session(
        connection, path, "Sales · Kickoff", starts_in=-timedelta(days=2), lasts=timedelta(days=9), run=run
    )
    statuses = {"Sam Quillon": "late", "Sol Varga": "successful", "Sasha Okonkwo": "onTime"}
    statuses |= {"Eve Nakamura": "late", "Ezra Lindqvist": "toRetake"}
    for name, user in learners.items():
        make_learner(spring, user, status=statuses[name], custom_fields={"Manager": f"{user.group.name}@teams.example"})
    for name in ("Sam Quillon", "Sol Varga"):
        make_learner(kickoff, learners[name], status="notYetStarted")
    for session in (spring, kickoff):
        session.enrolled_count = session.user_stats.count()
        session.save(update_fields=["enrolled_count"])
        store_lms_counts(session)
    negotiation, kubernetes = make_course(connection, "Negotiation"), make_course(connection, "Kubernetes")
    for user in learners.values():
        make_attempt(user, negotiation, completed_days_ago=2, score=70)
    make_attempt(learners["Eve Nakamura"], kubernetes, completed_days_ago=None)
    dave = make_account("dave", MANAGER_GROUP)
    erin = make_account("erin", MANAGER_GROUP)
    set_scope(dave, sales)
    set_scope(erin, engineering)
    return Teams(
        sessions={"spring": spring, "kickoff": kickoff},
        courses={"negotiation": negotiation, "kubernetes": kubernetes},
        groups={"sales": sales, "emea": emea, "engineering": engineering},
        learners=learners,
        dave=dave,
        erin=erin,
    )
