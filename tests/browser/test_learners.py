"""The Learners report in Chromium at 1440 px and 390 px, on the sandbox's two tenants synced:
an admin filters people, opens a 360Learning-only learner by keyboard, finds an iSpring-only
record by e-mail (htmx search) and links it, then undoes it; a manager whose scope is one group
sees only its people, their iSpring results included. No page scrolls sideways; axe finds no
serious violation. Screenshots: var/screenshots/learners-*-{laptop,phone}.png."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from lms_admin.roles import MANAGER_GROUP
from people.models import PersonRecord
from sandbox import seeding
from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import assert_accessible, assert_fits, tab_to
from tests.conftest import PASSWORD, make_account
from tests.reports.conftest import set_scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(connection_360, connection_ispring):
    out = io.StringIO()
    for connection in (connection_360, connection_ispring):
        call_command("sync_lms", "all", "--connection", connection.name, stdout=out, stderr=io.StringIO())
    return connection_360, connection_ispring


def _checked(page) -> None:
    expect(page.locator(".htmx-request")).to_have_count(0)  # a search typed is answered (buttons dim meanwhile)
    assert_fits(page)
    assert_accessible(page)


def test_an_admin_reads_the_learners_and_links_a_record_by_hand(sized_page, alice, synced):
    page = sized_page
    connection_360, connection_ispring = synced
    log_in(page, "alice", PASSWORD)
    page.goto("/reports/")
    page.get_by_role("link", name="Learners", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Learners")).to_be_visible()
    expect(page.locator("table.people")).to_contain_text("Same e-mail")
    expect(page.locator("table.people")).to_contain_text("Module results")
    _checked(page)
    take_screenshot(page, "learners-admin")

    page.get_by_label("Known to").select_option("one")
    expect(page).to_have_url(re.compile(r"presence=one"))
    expect(page.locator("table.people")).not_to_contain_text("Same e-mail")
    only_360 = (
        PersonRecord.objects.filter(connection=connection_360, person__lms_count=1)
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "person_id")
        .first()
        .person
    )
    page.goto(f"/reports/learners/?presence=one&search={only_360.mail}")
    link = page.locator("table.people tbody th a").first
    expect(link).to_have_text(str(only_360))
    tab_to(page, link, limit=60)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=str(only_360))).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=re.compile(connection_360.name))).to_be_visible()
    _checked(page)
    take_screenshot(page, "learner-page-admin")

    # Find an iSpring-only record by its e-mail's domain; pick it and link it, by keyboard.
    page.get_by_label("Name or e-mail").press_sequentially(seeding.ISPRING_ONLY_DOMAIN)
    candidates = page.locator("#link-candidates input[type=radio]")
    expect(candidates.first).to_be_visible()
    expect(page.locator(".htmx-request")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/reports/learners/{only_360.pk}/$"))  # htmx swapped the results only
    first = candidates.first
    picked_label = page.locator("#link-candidates label").first.inner_text()
    tab_to(page, first, limit=10)
    expect(first).to_be_checked()
    _checked(page)
    take_screenshot(page, "learner-page-link-search")
    page.keyboard.press("Tab")  # the other radios are one stop: next is the button
    expect(page.get_by_role("button", name=f"Link to {only_360}")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=2, name=re.compile(connection_ispring.name))).to_be_visible()
    expect(page.locator(".facts").first).to_contain_text("Linked by hand")
    expect(page.get_by_text(re.compile(r"the same person"))).to_be_visible()
    assert picked_label.split(" <")[0] in page.content()
    _checked(page)
    take_screenshot(page, "learner-page-linked")

    page.goto("/audit/")
    expect(page.locator("main")).to_contain_text("learner link")

    page.go_back()
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("heading", level=2, name=re.compile(connection_ispring.name))).to_have_count(0)
    expect(page.locator(".facts").first).to_contain_text("In one LMS only")


def test_a_scoped_manager_sees_only_their_groups_people_with_their_ispring_results(sized_page, synced):
    page = sized_page
    connection_360, connection_ispring = synced
    # A person in both LMSs, and the 360Learning group of their record: Dave's scope.
    both = PersonRecord.objects.filter(connection=connection_360, person__lms_count=2).select_related("user__group")
    anchor = next(record for record in both.order_by("person_id") if record.user.group is not None)
    dave = make_account("dave", MANAGER_GROUP)
    set_scope(dave, anchor.user.group, include_subgroups=False)
    in_group = PersonRecord.objects.filter(connection=connection_360, user__group=anchor.user.group)

    log_in(page, "dave", PASSWORD)
    page.goto("/reports/learners/")
    expect(page.get_by_role("heading", level=1, name="Learners")).to_be_visible()
    count = in_group.values("person_id").distinct().count()
    expect(page.locator(".row-count")).to_have_text(f"{count} {'person' if count == 1 else 'people'}")
    expect(page.locator(".applied-filters")).to_contain_text(f"Your scope: Learners in {anchor.user.group.name}")
    _checked(page)
    take_screenshot(page, "learners-manager")

    page.goto(f"/reports/learners/{anchor.person_id}/")
    expect(page.get_by_role("heading", level=2, name=re.compile(connection_ispring.name))).to_be_visible()
    expect(page.get_by_role("link", name="Link a record")).to_have_count(0)
    expect(page.get_by_role("button", name="Not the same person")).to_have_count(0)
    _checked(page)
    take_screenshot(page, "learner-page-manager")

    outside = PersonRecord.objects.filter(connection=connection_ispring, person__lms_count=1).first()
    response = page.goto(f"/reports/learners/{outside.person_id}/")
    assert response.status == 404
