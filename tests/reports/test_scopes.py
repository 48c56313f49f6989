"""Manager scope: the same scope narrows every report page, every count, every export.

The actors are the ``teams`` fixture's (tests/reports/conftest.py).
"""

from __future__ import annotations

import csv
import io
import zipfile

from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, get_resolver
from django.utils.html import escape
from openpyxl import load_workbook

from integrations.models import AuditEntry
from lms_admin.roles import ACCESS_REPORTS, MANAGER_GROUP
from lms_cache.models import LmsUser
from people.services import learner_link_decide, people_rematch
from reports.models import ManagerScope
from reports.scopes import MATCHED_ONLY, NO_SCOPE, WHOLE_SESSION_HIDDEN
from tests.conftest import make_account
from tests.lms_admin.test_access_matrix import _access, _walk
from tests.reports.conftest import ENGINEERING, SALES, Teams, make_user, set_scope


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    """Everything a response shows: a page, a CSV, or an XLSX's cell values."""
    return _body_text(b"".join(response.streaming_content) if response.streaming else response.content)


def _body_text(body: bytes) -> str:
    if zipfile.is_zipfile(io.BytesIO(body)):  # an XLSX workbook
        workbook = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            " ".join(str(c) for c in row if c is not None)
            for sheet in workbook
            for row in sheet.iter_rows(values_only=True)
        )
    return body.decode("utf-8-sig")


def _report_urls(teams: Teams) -> list[str]:
    """Every report and export URL pattern (managers' and admins' pages), filled in for each
    session and both file formats, plus filtered variants."""
    urls = []
    for route, pattern in _walk(get_resolver()):
        if not isinstance(pattern, URLPattern) or _access(pattern) != ACCESS_REPORTS:
            continue
        if not route.startswith("reports/") or "<int:pk>" in route and "digests/" in route:
            continue
        for session in teams.sessions.values():
            for file_format in ("csv", "xlsx"):
                url = "/" + route.replace("<int:pk>", str(session.pk)).replace("<export:file_format>", file_format)
                urls += [url, url + "?status=late", url + "?search=e&sort=-progress", url + "?provenance=1"]
    return sorted(set(urls))


def test_two_managers_with_disjoint_scopes_never_see_each_others_learners_in_any_report_or_export(teams):
    urls = _report_urls(teams)
    assert len(urls) > 60

    def traces(names):  # what would give a learner away: last name, mail, 360Learning id
        return [value for n in names for value in (n.split()[1], teams.learners[n].mail, teams.learners[n].remote_id)]

    others = {"dave": traces(ENGINEERING), "erin": traces(SALES)}
    seen = {"dave": set(), "erin": set()}
    for manager in (teams.dave, teams.erin):
        client = _client(manager)
        for url in urls:
            response = client.get(url)
            # 404: a session with no learner in scope; 403: the trend, which counts the whole session.
            expected = (403, 404) if "/trend." in url else (200, 404)
            assert response.status_code in expected, (manager.username, url, response.status_code)
            text = _text(response)
            for value in others[manager.username]:
                assert value not in text, (manager.username, url, value)
            seen[manager.username].update(n for n in (*SALES, *ENGINEERING) if n.split()[1] in text)
    # Each saw their own learners somewhere.
    assert seen["dave"] == set(SALES) and seen["erin"] == set(ENGINEERING)


def _csv_rows(client: Client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, url
    return list(csv.DictReader(io.StringIO(_text(response), newline="")))


def test_scoped_counts_differ_by_team_and_add_up_to_the_admins(teams, admin_client):
    dave, erin = _client(teams.dave), _client(teams.erin)

    def enrolled(client):
        return {
            row["path_session"]: int(row["enrolled"]) for row in _csv_rows(client, "/reports/path-sessions/export.csv")
        }

    assert enrolled(admin_client) == {"Teams · Spring": 5, "Sales · Kickoff": 2}
    assert enrolled(dave) == {"Teams · Spring": 3, "Sales · Kickoff": 2}
    assert enrolled(erin) == {"Teams · Spring": 2}  # no Ingénierie learner in the kickoff: not listed

    spring = teams.sessions["spring"].pk
    by_status = {}
    for name, client in (("admin", admin_client), ("dave", dave), ("erin", erin)):
        rows = _csv_rows(client, f"/reports/path-sessions/{spring}/statuses.csv")
        by_status[name] = {(r["status"], r["reason"]): int(r["learners"]) for r in rows}
    assert by_status["dave"][("late", "")] == 1 and by_status["erin"][("late", "")] == 1
    assert {key: by_status["dave"][key] + by_status["erin"][key] for key in by_status["admin"]} == by_status["admin"]

    def attempts(client):
        return {row["course"]: int(row["attempts"]) for row in _csv_rows(client, "/reports/courses/export.csv")}

    assert attempts(admin_client) == {"Kubernetes": 1, "Negotiation": 5}
    assert attempts(dave) == {"Negotiation": 3}
    assert attempts(erin) == {"Kubernetes": 1, "Negotiation": 2}

    page = dave.get(f"/reports/path-sessions/{spring}/").content.decode()
    assert "3 learners" in page and "Your scope: Learners in Sales (with their subgroups)." in page


def test_a_session_without_a_learner_in_scope_is_not_found(teams):
    kickoff = teams.sessions["kickoff"].pk
    erin = _client(teams.erin)
    assert erin.get(f"/reports/path-sessions/{kickoff}/").status_code == 404
    assert erin.get(f"/reports/path-sessions/{kickoff}/learners.csv").status_code == 404
    assert "Sales · Kickoff" not in erin.get("/reports/path-sessions/").content.decode()


def test_subgroups_are_in_scope_unless_switched_off(teams):
    spring = teams.sessions["spring"].pk
    dave = _client(teams.dave)
    assert "Okonkwo" in dave.get(f"/reports/path-sessions/{spring}/").content.decode()

    set_scope(teams.dave, teams.groups["sales"], include_subgroups=False)
    html = dave.get(f"/reports/path-sessions/{spring}/").content.decode()
    assert "Okonkwo" not in html and "Quillon" in html


def test_a_rule_can_compare_a_custom_field_with_the_managers_own_mail(teams):
    teams.erin.email = "Ingénierie@teams.example"
    teams.erin.save()
    set_scope(teams.erin, rule_field="custom", rule_custom_field="Manager", rule_value_is_manager_mail=True)
    rows = _csv_rows(_client(teams.erin), f"/reports/path-sessions/{teams.sessions['spring'].pk}/learners.csv")
    assert sorted(f"{r['first_name']} {r['last_name']}" for r in rows) == sorted(ENGINEERING)


def test_a_rule_on_the_mail_and_groups_keep_learners_in_either_or_in_both(teams):
    spring = teams.sessions["spring"].pk
    url = f"/reports/path-sessions/{spring}/learners.csv"
    set_scope(
        teams.erin,
        teams.groups["engineering"],
        rule_field="mail",
        rule_operator="equals",
        rule_value="SAM@teams.example",
    )
    names = sorted(r["first_name"] for r in _csv_rows(_client(teams.erin), url))
    assert names == ["Eve", "Ezra", "Sam"]  # any: Ingénierie, or Sam's mail (case-insensitive)

    set_scope(
        teams.erin,
        teams.groups["engineering"],
        rule_field="mail",
        rule_operator="ends_with",
        rule_value="e@teams.example",
        match="all",
    )
    assert [r["first_name"] for r in _csv_rows(_client(teams.erin), url)] == [
        "Eve"
    ]  # all: Ingénierie and a mail ending in e@


def test_a_manager_without_a_scope_sees_no_learner_and_is_told_why(teams):
    frank = _client(make_account("frank", MANAGER_GROUP))
    overview = frank.get("/reports/path-sessions/").content.decode()
    assert escape(NO_SCOPE) in overview and "0 path sessions" in overview
    assert frank.get(f"/reports/path-sessions/{teams.sessions['spring'].pk}/").status_code == 404
    assert _csv_rows(frank, "/reports/attempts/export.csv") == []
    assert escape(NO_SCOPE) in frank.get("/reports/").content.decode()


def test_scoped_readers_see_neither_the_lms_counts_nor_the_trend_and_cannot_export_it(teams, admin_client):
    spring = teams.sessions["spring"].pk
    dave = _client(teams.dave)
    html = dave.get(f"/reports/path-sessions/{spring}/").content.decode()
    assert escape(WHOLE_SESSION_HIDDEN) in html and "360Learning’s count" not in html
    rows = _csv_rows(dave, f"/reports/path-sessions/{spring}/statuses.csv")
    assert {r["lms_count"] for r in rows} == {""}
    refused = dave.get(f"/reports/path-sessions/{spring}/trend.csv")
    assert refused.status_code == 403 and refused.content.decode() == WHOLE_SESSION_HIDDEN

    assert "360Learning’s count" in admin_client.get(f"/reports/path-sessions/{spring}/").content.decode()
    assert admin_client.get(f"/reports/path-sessions/{spring}/trend.csv").status_code == 200


def test_an_ispring_result_is_in_a_managers_scope_when_its_matched_360learning_learner_is(teams, cache, manager_client):
    # cache's iSpring learners user-0 … user-5: Sam (Sales) under another case and spaces, Eve
    # (Ingénierie) linked by hand from another e-mail, the others in iSpring Learn only.
    sam, eve = teams.learners["Sam Quillon"], teams.learners["Eve Nakamura"]
    ispring = {
        user_id: make_user(cache.ispring, user_id, "iSpring", mail=mail)
        for user_id, mail in (("user-1", f"  {sam.mail.upper()} "), ("user-2", "eve.old@teams.example"))
    }
    LmsUser.objects.filter(pk=ispring["user-1"].pk).update(remote_id="user-1")
    LmsUser.objects.filter(pk=ispring["user-2"].pk).update(remote_id="user-2")
    people_rematch()
    learner_link_decide(actor=None, first=eve, second=ispring["user-2"], same_person=True)
    dave, erin = _client(teams.dave), _client(teams.erin)

    html = dave.get("/reports/module-results/").content.decode()

    assert escape(MATCHED_ONLY) in html and "Sécurité" in html
    assert sorted(r["user_id"] for r in _csv_rows(dave, "/reports/module-results/rows.csv")) == ["user-1", "user-1"]
    assert sorted(r["user_id"] for r in _csv_rows(erin, "/reports/module-results/rows.csv")) == ["user-2", "user-2"]
    assert len(_csv_rows(manager_client, "/reports/module-results/rows.csv")) == 8  # Bob: every learner
    frank = _client(make_account("frank", MANAGER_GROUP))  # no scope: nothing
    assert _csv_rows(frank, "/reports/module-results/rows.csv") == []


def test_sorting_sessions_by_enrolled_counts_the_learners_inset_scope(teams):
    spring, kickoff = teams.sessions["spring"], teams.sessions["kickoff"]
    set_scope(teams.dave, teams.groups["sales"], include_subgroups=False)  # Spring: Sam, Sol; Kickoff: Sam, Sol
    rows = _csv_rows(_client(teams.dave), "/reports/path-sessions/export.csv?sort=-enrolled")
    assert [(r["path_session"], r["enrolled"]) for r in rows] == [("Sales · Kickoff", "2"), ("Teams · Spring", "2")]
    assert spring.enrolled_count == 5 and kickoff.enrolled_count == 2


# The admin pages -----------------------------------------------------------------------------
def test_the_manager_list_shows_each_managers_scope_in_words(teams, admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        html = admin_client.get("/managers/").content.decode()
    assert (
        "Learners in Sales (with their subgroups)" in html and "Learners in Ingénierie (with their subgroups)" in html
    )
    assert f'href="/managers/{teams.dave.pk}/scope/"' in html


def test_an_admin_sets_a_scope_and_the_audit_log_says_what_changed(teams, admin_client, alice):
    url = f"/managers/{teams.erin.pk}/scope/"
    page = admin_client.get(url).content.decode()
    assert "Sales EMEA (Teams 360)" in page and 'name="groups"' in page

    response = admin_client.post(
        url,
        {
            "groups": [teams.groups["sales"].pk],
            "include_subgroups": "on",
            "rule_field": "",
            "rule_operator": "equals",
            "match": "any",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/managers/"
    scope = ManagerScope.objects.get(user=teams.erin)
    assert list(scope.groups.all()) == [teams.groups["sales"]]
    entry = AuditEntry.objects.get(object_type="manager scope", action="update")
    assert entry.actor == alice and entry.changes["groups"][1].startswith("Sales (")
    rows = _csv_rows(_client(teams.erin), f"/reports/path-sessions/{teams.sessions['spring'].pk}/learners.csv")
    assert sorted(r["first_name"] for r in rows) == ["Sam", "Sasha", "Sol"]


def test_a_rule_without_a_value_is_refused_on_its_field_and_nothing_changes(teams, admin_client):
    url = f"/managers/{teams.erin.pk}/scope/"
    response = admin_client.post(url, {"rule_field": "custom", "rule_operator": "equals", "match": "any"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="field-rule_custom_field"' in html and "Name the custom field the rule reads." in html
    assert "Give the value to compare with" in html
    assert list(ManagerScope.objects.get(user=teams.erin).groups.all()) == [teams.groups["engineering"]]


def test_the_scope_page_of_someone_who_is_not_a_manager_is_not_found(teams, admin_client, alice):
    assert admin_client.get(f"/managers/{alice.pk}/scope/").status_code == 404


def test_the_workbook_of_a_scoped_export_holds_only_theset_scope(teams):
    response = _client(teams.erin).get(f"/reports/path-sessions/{teams.sessions['spring'].pk}/learners.xlsx")
    text = _text(response)
    assert "Nakamura" in text and "Lindqvist" in text and "Quillon" not in text


def test_a_scoped_managers_pages_read_a_bounded_number_of_queries(teams, django_assert_max_num_queries):
    dave = _client(teams.dave)
    for url in ("/reports/path-sessions/", f"/reports/path-sessions/{teams.sessions['spring'].pk}/"):
        with django_assert_max_num_queries(15):
            assert dave.get(url).status_code == 200
        with django_assert_max_num_queries(15):
            assert dave.get(url, headers={"HX-Request": "true", "HX-Target": "learner-table"}).status_code == 200


def test_the_scope_form_offers_groups_as_a_labelled_checkbox_list_with_a_search_box_for_script(teams, admin_client):
    html = admin_client.get(f"/managers/{teams.erin.pk}/scope/").content.decode()
    picker = html.split('<fieldset class="field group-picker"')[1].split("</fieldset>")[0]
    assert 'data-disabled-by="id_every_learner"' in picker and "<legend>Groups</legend>" in picker
    # Erin's scope holds Ingénierie: its box is ticked, and counted.
    engineering = teams.groups["engineering"]
    assert 'type="checkbox" name="groups"' in picker and f'value="{engineering.pk}"' in picker
    assert "1 group selected" in picker and picker.count(" checked") == 2  # the group, and subgroups
    # The search box needs script (static/js/app.js shows it); its label names it.
    assert '<div class="group-filter" hidden data-group-filter-box>' in picker
    assert '<label for="group-filter">Find a group</label>' in picker


def test_groups_are_ignored_while_every_learner_is_ticked(teams, admin_client):
    response = admin_client.post(
        f"/managers/{teams.erin.pk}/scope/",
        {"every_learner": "on", "groups": [teams.groups["sales"].pk], "rule_operator": "equals", "match": "any"},
    )
    assert response.status_code == 302
    scope = ManagerScope.objects.get(user=teams.erin)
    assert scope.every_learner and not scope.groups.exists()
    # The subgroups box sat in the disabled fieldset, so it was not sent: the stored choice stays.
    assert scope.include_subgroups


def test_an_unknown_group_is_named_in_the_error_summary_and_linked_to_the_groups(teams, admin_client):
    html = admin_client.post(
        f"/managers/{teams.erin.pk}/scope/", {"groups": ["999999"], "rule_operator": "equals", "match": "any"}
    ).content.decode()
    # The summary's link puts the focus on the first group's box.
    assert 'href="#id_groups_0"' in html and 'id="id_groups_0"' in html
    assert '<fieldset class="field group-picker has-error" id="field-groups"' in html
