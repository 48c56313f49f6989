"""Manager scope and freshness in Chromium, at 1440 px and 390 px: an admin sets a manager's
scope to one group, found with the group picker's search box and ticked from the keyboard; the
manager's overview then shows only that group's learners, says as of when (sync run, source)
with the stale badge once the data is older than the connection allows, and the manager
follows a session by e-mail digest. Screenshots: var/screenshots/scope-*-{laptop,phone}.png."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import SyncRun
from lms_admin.roles import MANAGER_GROUP
from lms_cache.models import LmsGroup, PathSession, PathSessionUserStat
from reports.models import DigestSubscription
from tests.browser.conftest import log_in, take_screenshot
from tests.conftest import PASSWORD, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(connection_360):
    call_command("sync_lms", "all", "--connection", connection_360.name, stdout=io.StringIO())
    return connection_360


def _largest_group() -> LmsGroup:
    """The group with the most learners in the cached sessions."""
    counts: dict[str, int] = {}
    for remote_id in PathSessionUserStat.objects.values_list("group_remote_id", flat=True):
        counts[remote_id] = counts.get(remote_id, 0) + 1
    return LmsGroup.objects.get(remote_id=max(counts, key=counts.get))


def test_an_admin_scopes_a_manager_who_then_sees_only_that_group_with_its_freshness(sized_page, alice, synced):
    page = sized_page

    def screenshot(name: str) -> None:
        take_screenshot(page, name)

    dave = make_account("dave", MANAGER_GROUP)
    group = _largest_group()
    in_scope = PathSessionUserStat.objects.filter(group_remote_id=group.remote_id).count()
    everyone = PathSessionUserStat.objects.count()
    assert 0 < in_scope < everyone

    # The admin sets the scope.
    log_in(page, "alice", PASSWORD)
    page.goto("/managers/")
    expect(page.get_by_role("row", name=re.compile("dave"))).to_contain_text("No scope has been set")
    page.get_by_role("link", name="Edit scope of dave").click()

    # The groups: a checkbox list with a search box, counted, off while "every learner" is ticked.
    groups = page.get_by_role("group", name="Groups", exact=True)
    total = LmsGroup.objects.count()
    expect(groups.locator(".group-options li")).to_have_count(total)
    expect(groups.get_by_role("status")).to_have_text("0 groups selected")
    search = groups.get_by_label("Find a group")
    search.fill(group.name)
    visible = groups.locator(".group-options li:visible")
    expect(visible.first).to_contain_text(group.name)
    assert 0 < visible.count() < total
    assert all(group.name.lower() in text.lower() for text in visible.all_inner_texts())
    search.press("Enter")  # filters, never submits the half-filled form
    expect(page).to_have_url(re.compile(r"/managers/\d+/scope/$"))
    choice = groups.get_by_role("checkbox", name=f"{group.name} ({synced.name})", exact=True)
    choice.focus()
    page.keyboard.press("Space")
    expect(choice).to_be_checked()
    expect(groups.get_by_role("status")).to_have_text("1 group selected")
    screenshot("scope-admin-form")

    every = page.get_by_role("checkbox", name="Every learner of every connection")
    every.check()
    expect(groups).to_have_attribute("disabled", "")
    expect(choice).to_be_disabled()
    expect(search).to_be_disabled()
    screenshot("scope-admin-form-every-learner")
    every.uncheck()
    expect(choice).to_be_enabled()
    expect(choice).to_be_checked()
    page.get_by_role("button", name="Save the scope").press("Enter")
    expect(page.get_by_text("The scope of dave is saved")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("dave"))).to_contain_text(f"Learners in {group.name}")
    screenshot("scope-admin-list")
    page.context.clear_cookies()

    # The sessions' statistics are older than the connection's threshold (24 h): stale.
    long_ago = timezone.now() - timedelta(hours=30)
    SyncRun.objects.filter(connection=synced, kind="sessions").update(ended_at=long_ago)
    PathSession.objects.update(stats_synced_at=long_ago)
    run = SyncRun.objects.get(connection=synced, kind="sessions")

    log_in(page, "dave", PASSWORD)
    page.goto("/reports/path-sessions/")
    freshness = page.locator("#freshness")
    expect(freshness).to_contain_text(
        f"statistics as of {long_ago.astimezone(timezone.get_current_timezone()):%Y-%m-%d}"
    )
    expect(freshness).to_contain_text(f"sync #{run.pk}, 360Learning v2 + v1")
    expect(freshness.locator(".badge-stale")).to_have_text("Stale: older than 24 h")
    expect(page.locator(".scope-note").first).to_contain_text(f"Your scope: Learners in {group.name}")
    enrolled = sum(
        int(cell.replace(",", "")) for cell in page.locator("table.sessions tbody td:nth-child(3)").all_inner_texts()
    )
    assert enrolled == in_scope
    screenshot("scope-manager-overview")

    # A session's report and learner table hold only the scope; follow it by e-mail.
    page.locator("table.sessions tbody th a").first.click()
    expect(page.locator("#whole-session-hidden")).to_be_visible()
    groups = set(page.locator("table.learners tbody td:nth-child(3)").all_inner_texts())
    assert groups == {group.name}
    screenshot("scope-manager-session")
    page.get_by_role("link", name="Follow this session by e-mail digest").click()
    page.get_by_label("Time of day").fill("07:45")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("status")).to_contain_text("Digest created: Every day at 07:45 (Europe/Paris)")
    expect(page.get_by_role("cell", name="Every day at 07:45 (Europe/Paris)")).to_be_visible()
    screenshot("scope-manager-digests")
    assert DigestSubscription.objects.get(user=dave).sessions.count() == 1
