"""The Learners report on a small local cache (tests/reports/conftest.py ``teams``), plus an
iSpring Learn connection whose learners are some of the same people:

- Sam Quillon (Sales) is in iSpring too, with his e-mail in upper case, and has a passed and an
  overdue module result there;
- Eve Nakamura (Ingénierie) is in iSpring too, with one failed result;
- Ivy Ispring-Only is in iSpring only, with one result in progress.

Dave manages Sales, Erin Ingénierie; Bob sees every learner; Alice is the L&D admin.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from django.test import Client

from integrations.models import AuditEntry
from integrations.providers.ispring import vocabulary as ispring_vocabulary
from integrations.providers.learning360 import vocabulary as vocabulary_360
from integrations.providers.shared_status import SHARED_STATUSES
from lms_cache.models import (
    DETAILED_STATUSES,
    STATUS_REASONS,
    CourseAttempt,
    LmsUser,
    ModuleResult,
    PathSessionUserStat,
)
from people.models import LearnerLink, Person, PersonRecord
from people.services import NOTHING_TO_SEPARATE, people_rematch
from reports import vocabulary
from reports.filters import ReportFilters
from reports.learner_forms import PICK_A_RECORD
from reports.selectors.learners import (
    course_attempt_shared_q,
    learner_list,
    learner_rows,
    module_result_shared_q,
    path_session_shared_q,
)
from tests.reports.conftest import HTMX, Teams, make_connection, make_module_result, make_sync_run, make_user

HTMX_CANDIDATES = {**HTMX, "HX-Target": "link-candidates"}


@dataclass
class People:
    teams: Teams
    ispring: object
    sam: Person
    eve: Person
    ivy: Person
    sam_ispring: LmsUser


@pytest.fixture
def people(teams) -> People:
    ispring = make_connection("Teams iSpring", provider="ispring")
    for kind in ("users", "module-results"):
        make_sync_run(ispring, kind)
    make_sync_run(teams.sessions["spring"].connection, "users")
    sam_ispring = make_user(ispring, "Sam", "Quillon", mail=" SAM@TEAMS.EXAMPLE ")
    eve_ispring = make_user(ispring, "Eve", "Nakamura", mail="eve@teams.example")
    ivy = make_user(ispring, "Ivy", "Ispring-Only", mail="ivy@elsewhere.example")
    common = {"course_id": "c-safety", "module_id": "m-1"}
    make_module_result(ispring, **common, title="Fire safety", status="passed", user_id=sam_ispring.remote_id)
    make_module_result(
        ispring, course_id="c-safety", module_id="m-2", title="First aid", status="in_progress",
        user_id=sam_ispring.remote_id, is_overdue=True,
    )  # fmt: skip
    make_module_result(ispring, **common, title="Fire safety", status="failed", user_id=eve_ispring.remote_id)
    make_module_result(ispring, **common, title="Fire safety", status="in_progress", user_id=ivy.remote_id)
    people_rematch()

    def person(user: LmsUser) -> Person:
        return PersonRecord.objects.get(user=user).person

    return People(
        teams, ispring, person(teams.learners["Sam Quillon"]), person(teams.learners["Eve Nakamura"]), person(ivy),
        sam_ispring,
    )  # fmt: skip


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body, newline="")))


# The shared taxonomy -----------------------------------------------------------------------------
def test_every_raw_status_reads_in_the_shared_taxonomy_as_documented():
    assert vocabulary.path_session_shared_status("notYetStarted") == "not_started"
    assert vocabulary.path_session_shared_status("sessionNotOpened") == "not_started"
    assert vocabulary.path_session_shared_status("toRetake", "mandatoryReplay") == "in_progress"
    assert vocabulary.path_session_shared_status("awaitingCorrection") == "in_progress"
    assert vocabulary.path_session_shared_status("late") == "overdue"
    assert vocabulary.path_session_shared_status("successful") == "completed"
    assert vocabulary.path_session_shared_status("unsuccessful", "sessionEnded") == "failed"
    assert vocabulary.path_session_shared_status("somethingNew") == ""
    assert vocabulary.course_attempt_shared_status(started=False, completed=False) == "not_started"
    assert vocabulary.course_attempt_shared_status(started=True, completed=False) == "in_progress"
    assert vocabulary.course_attempt_shared_status(started=True, completed=True) == "completed"
    assert vocabulary.module_result_shared_status("pending") == "in_progress"
    assert vocabulary.module_result_shared_status("incomplete", True) == "overdue"
    assert vocabulary.module_result_shared_status("not_started", True) == "overdue"
    assert vocabulary.module_result_shared_status("passed", True) == "completed"  # done, late or not
    assert vocabulary.module_result_shared_status("declined") == "failed"
    # Every known raw status has a shared one.
    assert set(vocabulary_360.PATH_SESSION_SHARED_STATUS) == set(DETAILED_STATUSES)
    assert set(ispring_vocabulary.MODULE_RESULT_SHARED_STATUS) == set(ispring_vocabulary.COMPLETION_STATUSES)
    assert {s for s, _, _ in vocabulary.shared_status_sources()} == set(SHARED_STATUSES)


def test_the_shared_status_filters_agree_with_the_vocabulary_row_by_row(people):
    # Rows in every status: the teams' sessions and attempts, and one module result per status and overdue flag.
    for status in vocabulary.completion_statuses():
        for overdue in (False, True):
            make_module_result(
                people.ispring, course_id="c", module_id=f"{status}-{overdue}", title="t", status=status,
                user_id="u", is_overdue=overdue,
            )  # fmt: skip
    stat = PathSessionUserStat.objects.first()
    for status in DETAILED_STATUSES:
        for reason in ("", *STATUS_REASONS.get(status, ())):
            PathSessionUserStat.objects.filter(pk=stat.pk).update(status_type=status, status_reason=reason)
            shared = vocabulary.path_session_shared_status(status, reason)
            assert PathSessionUserStat.objects.filter(path_session_shared_q(shared), pk=stat.pk).exists()
    for result in ModuleResult.objects.all():
        shared = vocabulary.module_result_shared_status(result.completion_status, result.is_overdue)
        matching = {s for s in SHARED_STATUSES if ModuleResult.objects.filter(module_result_shared_q(s), pk=result.pk)}
        assert matching == {shared}
    for attempt in CourseAttempt.objects.all():
        shared = vocabulary.course_attempt_shared_status(
            started=attempt.progress > 0, completed=attempt.completed_at is not None
        )
        matching = {
            s for s in SHARED_STATUSES if CourseAttempt.objects.filter(course_attempt_shared_q(s), pk=attempt.pk)
        }
        assert matching == {shared}


# The report --------------------------------------------------------------------------------------
def test_the_report_lists_each_person_once_with_their_items_per_lms(
    people, manager_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        response = manager_client.get("/reports/learners/")

    html = response.content.decode()
    assert response.status_code == 200
    rows = learner_rows(learner_list(filters=ReportFilters()))
    assert len(rows) == 6  # five 360Learning learners (two also in iSpring), Ivy in iSpring only
    sam = next(r for r in rows if r.person == people.sam)
    assert [r.connection.name for r in sam.records] == ["Teams 360", "Teams iSpring"]
    assert sam.matched == "Same e-mail"
    results = {(i.name, i.raw_status, i.shared) for i in sam.records[1].module_results}
    assert results == {("Fire safety", "passed", "completed"), ("First aid", "in_progress", "overdue")}
    sessions = {(i.name, i.raw_status, i.shared) for i in sam.records[0].path_sessions}
    assert sessions == {("Teams · Spring", "late", "overdue"), ("Sales · Kickoff", "notYetStarted", "not_started")}
    # Raw statuses beside the shared ones.
    assert "In progress — overdue" in html
    assert "Late" in html and "Passed" in html and 'class="badge shared shared-overdue"' in html
    assert f'href="/reports/learners/{people.ivy.pk}/"' in html


def test_filters_narrow_people_by_presence_status_and_name(people, manager_client):
    def names(query: str) -> set[str]:
        response = manager_client.get(f"/reports/learners/?{query}", headers=HTMX)
        assert response.status_code == 200
        return {str(r.person) for r in response.context["rows"]}

    fragment = manager_client.get("/reports/learners/?presence=several", headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="learner-table"') and "<html" not in fragment
    assert names("presence=several") == {"Sam Quillon", "Eve Nakamura"}
    assert names("presence=one") == {"Sol Varga", "Sasha Okonkwo", "Ezra Lindqvist", "Ivy Ispring-Only"}
    assert names("shared_status=failed") == {"Eve Nakamura"}
    assert names("shared_status=overdue") == {"Sam Quillon", "Eve Nakamura"}  # Eve is late in Spring
    assert names("search=ELSEWHERE") == {"Ivy Ispring-Only"}
    # Known to iSpring, with an item in progress anywhere: Eve's Kubernetes attempt; Sam's is overdue.
    assert names(f"connection={people.ispring.pk}&shared_status=in_progress") == {"Eve Nakamura", "Ivy Ispring-Only"}


def test_a_manager_sees_people_of_their_scope_with_their_ispring_results_and_no_one_else(people):
    dave = _client(people.teams.dave)  # Sales

    response = dave.get("/reports/learners/")

    names = {str(r.person) for r in response.context["rows"]}
    assert names == {"Sam Quillon", "Sol Varga", "Sasha Okonkwo"}  # Sasha: a Sales subgroup
    html = response.content.decode()
    assert "First aid" not in html  # summaries, not titles, on the list
    assert dave.get(f"/reports/learners/{people.sam.pk}/").status_code == 200
    page = dave.get(f"/reports/learners/{people.sam.pk}/").content.decode()
    assert "Fire safety" in page and "First aid" in page  # his iSpring results, through his 360 record
    assert dave.get(f"/reports/learners/{people.eve.pk}/").status_code == 404
    assert dave.get(f"/reports/learners/{people.ivy.pk}/").status_code == 404  # iSpring only: no scope field
    rows = _csv(dave.get("/reports/learners/export.csv"))
    assert {r["person"] for r in rows} == names
    assert {r["item"] for r in rows if r["item_type"] == "module result"} == {"Fire safety", "First aid"}


def test_the_learner_page_shows_the_whole_record_across_lmss(people, manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = manager_client.get(f"/reports/learners/{people.sam.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "SAM@TEAMS.EXAMPLE" in html  # the e-mail as iSpring spells it
    assert "Teams · Spring" in html and "Negotiation" in html and "First aid" in html
    assert "Not the same person" not in html and "Link a record" not in html  # managers read only


def test_the_export_is_long_with_provenance(people, manager_client):
    response = manager_client.get("/reports/learners/export.csv?presence=several&provenance=1")

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    sidecar, _, table = body.partition("\n")
    assert sidecar.startswith("# provenance,report=learners")
    assert "Teams iSpring (iSpring module results): sync #" in sidecar and "Teams 360 (Users): sync #" in sidecar
    assert "filters=Known to: In two or more LMSs" in sidecar
    rows = list(csv.DictReader(io.StringIO(table, newline="")))
    assert {r["person"] for r in rows} == {"Sam Quillon", "Eve Nakamura"}
    sam = [r for r in rows if r["person"] == "Sam Quillon"]
    assert {r["item_type"] for r in sam} == {"learner record", "path session", "course attempt", "module result"}
    overdue = next(r for r in sam if r["item"] == "First aid")
    assert (overdue["connection"], overdue["raw_status"], overdue["reason"], overdue["shared_status"]) == (
        "Teams iSpring",
        "in_progress",
        "overdue",
        "overdue",
    )
    assert {r["matched"] for r in sam} == {"Same e-mail"}
    assert response["Content-Disposition"].startswith('attachment; filename="learners_as-of-')
    xlsx = manager_client.get("/reports/learners/export.xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


# Linking by hand (admins) ------------------------------------------------------------------------------
def test_an_admin_links_a_record_found_by_search_then_undoes_it(people, admin_client, alice):
    sol = PersonRecord.objects.get(user=people.teams.learners["Sol Varga"]).person
    ivy_user = LmsUser.objects.get(last_name="Ispring-Only")

    found = admin_client.get(f"/reports/learners/{sol.pk}/?q=ivy", headers=HTMX_CANDIDATES)
    assert found.status_code == 200
    fragment = found.content.decode()
    assert fragment.lstrip().startswith('<div id="link-candidates"')
    assert f'value="{ivy_user.pk}"' in fragment and "Teams iSpring" in fragment
    assert "Sam Quillon" not in admin_client.get(f"/reports/learners/{sol.pk}/?q=quillon").context["candidates"]

    response = admin_client.post(f"/reports/learners/{sol.pk}/link/", {"record": ivy_user.pk})

    linked = PersonRecord.objects.get(user=ivy_user)
    assert response.status_code == 302 and response["Location"] == f"/reports/learners/{linked.person_id}/"
    assert linked.person_id == sol.pk and linked.matched == "hand"
    entry = AuditEntry.objects.get(object_type="learner link")
    assert entry.actor_name == "alice" and "Ivy Ispring-Only" in entry.changes["records"][1]
    audit = admin_client.get("/audit/").content.decode()
    assert "learner link" in audit

    link = LearnerLink.objects.get()
    undone = admin_client.post(f"/reports/learners/{sol.pk}/undo/", {"link": link.pk})

    assert undone.status_code == 302
    assert not LearnerLink.objects.exists()
    assert PersonRecord.objects.get(user=ivy_user).matched == "alone"


def test_an_admin_separates_records_matched_by_e_mail(people, admin_client):
    response = admin_client.post(f"/reports/learners/{people.sam.pk}/separate/", {"record": people.sam_ispring.pk})

    assert response.status_code == 302 and response["Location"] == f"/reports/learners/{people.sam.pk}/"
    assert PersonRecord.objects.get(user=people.sam_ispring).matched == "alone"
    assert Person.objects.get(pk=people.sam.pk).lms_count == 1
    page = admin_client.get(f"/reports/learners/{people.sam.pk}/").content.decode()
    assert "not the same person" in page and "Undo" in page


def test_refused_actions_say_why_in_plain_words(people, admin_client):
    no_pick = admin_client.post(f"/reports/learners/{people.sam.pk}/link/", {})
    assert no_pick.status_code == 400 and PICK_A_RECORD in no_pick.content.decode()
    alone = admin_client.post(
        f"/reports/learners/{people.ivy.pk}/separate/", {"record": LmsUser.objects.get(last_name="Ispring-Only").pk}
    )
    assert alone.status_code == 400  # matched by nobody: not offered, refused
    assert not LearnerLink.objects.exists()
    assert NOTHING_TO_SEPARATE  # the service's own words for a record with no other


def test_managers_cannot_link(people, manager_client):
    response = manager_client.post(f"/reports/learners/{people.sam.pk}/separate/", {"record": people.sam_ispring.pk})
    assert response.status_code == 403
    assert not LearnerLink.objects.exists()


def test_a_big_export_is_written_by_a_worker_under_the_owners_scope(people, settings, tmp_path):
    from reports.background_exports import report_export_run
    from reports.models import ReportExport

    settings.EXPORT_FILES_DIR = tmp_path / "exports"
    settings.EXPORT_BACKGROUND_ROWS = 1
    dave = _client(people.teams.dave)

    response = dave.get("/reports/learners/export.csv", {"presence": "several"})

    export = ReportExport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/exports/{export.pk}/"
    assert (export.report, export.query) == ("learners", "presence=several")
    assert report_export_run(export_id=export.pk)
    export.refresh_from_db()
    download = dave.get(f"/reports/exports/{export.pk}/download/")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"), newline="")))
    assert {r["person"] for r in rows} == {"Sam Quillon"}  # Eve is in both LMSs, but not in Sales
    assert export.rows_written == len(rows) == export.rows_total


def test_export_report_writes_the_learners_with_their_filters(people, tmp_path):
    from django.core.management import call_command

    output = tmp_path / "people.csv"
    out = io.StringIO()

    call_command(
        "export_report", "learners", "--shared-status", "failed", "--output", str(output), "--provenance", stdout=out
    )

    with output.open(encoding="utf-8-sig", newline="") as fh:
        sidecar = fh.readline()
        rows = list(csv.DictReader(fh))
    assert {r["person"] for r in rows} == {"Eve Nakamura"}
    assert "Has an item: Failed" in sidecar
    assert f"Wrote {len(rows)} rows" in out.getvalue()
