"""Connections and integrations from the browser, against the sandbox LMS over real HTTP.

The actors: Alice (L&D admin) connects the sandbox's demo tenant and manages a 360Learning
integration configuration in it; Bob (manager) must not reach any of these screens.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.services.connections import CHECK_AUTH
from sandbox import constants as c
from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import field, tab_to
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The fixed part of the failure text, before the remote's own detail.
CREDENTIALS_REFUSED = CHECK_AUTH.split(" (")[0]


def _check_result(page):
    return page.locator("#check-result")


def _run_check(page):
    page.get_by_role("button", name="Test connection").click()
    return _check_result(page).get_by_role("status")


def _edit_secret(page, secret: str) -> None:
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit “Sandbox demo”")
    # Write-only: the stored secret is never rendered back into the form.
    expect(field(page, "Client secret")).to_have_value("")
    field(page, "Client secret").fill(secret)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="Connection “Sandbox demo” saved.")).to_be_visible()


def _an_author(sandbox_users):
    """The first seeded user (always active, an author): a name to search for."""
    return sandbox_users.filter(status="active").order_by("pk").first()


def test_an_admin_connects_the_sandbox_and_manages_an_integration(page, screenshot, alice, sandbox, live_server):
    from sandbox.models import Group as RemoteGroup, Integration as RemoteIntegration, User as RemoteUser

    log_in(page, "alice", PASSWORD)

    # Add the connection through the form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    page.get_by_role("link", name="Add a connection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a connection")
    field(page, "Name").fill("Sandbox demo")
    field(page, "Provider").select_option(label="360Learning")
    field(page, "Region").select_option(label="Other base URL")
    field(page, "Base URL").fill(f"{live_server.url}{c.URL_PREFIX_360}")
    field(page, "Client id").fill(c.DEFAULT_CLIENT_ID)
    field(page, "Client secret").fill(c.DEFAULT_CLIENT_SECRET)
    screenshot("connections-01-new-form")
    page.get_by_role("button", name="Add connection").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox demo")
    expect(page.get_by_role("status").filter(has_text="Connection “Sandbox demo” added.")).to_be_visible()
    expect(page.get_by_text(c.DEFAULT_CLIENT_SECRET)).to_have_count(0)
    screenshot("connections-02-detail")

    # Test it: success, inline, with facts about the tenant.
    result = _run_check(page)
    expect(result).to_contain_text("Success.")
    expect(result).to_contain_text(f"Connected to 360Learning at {live_server.url}{c.URL_PREFIX_360}.")
    groups = RemoteGroup.objects.count()
    expect(result.locator("dt", has_text="Groups")).to_be_visible()
    expect(result.locator("dd").first).to_contain_text(str(groups))
    expect(result).to_contain_text("Integration configurations")
    screenshot("connections-03-check-ok")

    # A wrong secret: the test fails inline and says why.
    _edit_secret(page, "not-the-secret")
    result = _run_check(page)
    expect(result).to_contain_text("Failed.")
    expect(result).to_contain_text(CREDENTIALS_REFUSED)
    screenshot("connections-04-check-failed")

    # Fixed again.
    _edit_secret(page, c.DEFAULT_CLIENT_SECRET)
    result = _run_check(page)
    expect(result).to_contain_text("Success.")
    screenshot("connections-05-check-fixed")

    # The list shows the connection's health.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Connections").click()
    row = page.get_by_role("row", name=re.compile("Sandbox demo"))
    expect(row).to_contain_text("Healthy")
    screenshot("connections-06-list")
    row.get_by_role("link", name="Sandbox demo").click()

    # Create an integration: the group from the tenant's list, the author through the search box.
    page.get_by_role("link", name="Create an integration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an integration")
    field(page, "External platform").fill("Udemy Business")
    group = RemoteGroup.objects.get(name="Engineering")
    expect(field(page, "Group").locator("option", has_text="Engineering")).to_have_count(1)
    field(page, "Group").select_option(label="Engineering")

    # The author: one search box over a list of radios, used with the keyboard only.
    author = _an_author(RemoteUser.objects)
    with page.expect_response(re.compile(r"/connections/\d+/users/\?")):
        field(page, "Author").fill(author.mail)
    # The search answered with exactly that user.
    choices = page.get_by_role("group", name="Choose the author").get_by_role("radio")
    expect(choices).to_have_count(1)
    field(page, "Author").press("ArrowDown")
    expect(choices.first).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_role("radio", name=re.compile(re.escape(author.mail)))).to_be_checked()
    field(page, "Progress at launch (%)").fill("20")
    screenshot("connections-07-integration-form")
    page.get_by_role("button", name="Create in 360Learning").click()

    expect(
        page.get_by_role("status").filter(has_text="Integration “Udemy Business” saved in 360Learning")
    ).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Udemy Business"))
    expect(row).to_contain_text(group.oid)
    expect(row).to_contain_text(author.oid)
    expect(row).to_contain_text("progress 20%")
    remote = RemoteIntegration.objects.get(external_platform="Udemy Business", deleted_at__isnull=True)
    assert (remote.group_id, remote.author_id, remote.default_progress) == (group.pk, author.pk, 20)
    screenshot("connections-08-integration-created")

    # Edit it: another default progress.
    row.get_by_role("link", name="Edit Udemy Business").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit “Udemy Business”")
    expect(field(page, "Group")).to_have_value(group.oid)
    expect(page.get_by_role("radio", name=re.compile(re.escape(author.mail)))).to_be_checked()
    field(page, "Progress at launch (%)").fill("50")
    screenshot("connections-09-integration-edit")
    page.get_by_role("button", name="Save changes").click()
    row = page.get_by_role("row", name=re.compile("Udemy Business"))
    expect(row).to_contain_text("progress 50%")
    remote.refresh_from_db()
    assert remote.default_progress == 50

    # Delete it, after a confirmation page.
    row.get_by_role("link", name="Delete Udemy Business").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “Udemy Business”?")
    expect(page.get_by_text(remote.oid)).to_be_visible()
    screenshot("connections-10-integration-delete-confirm")
    page.get_by_role("button", name="Delete in 360Learning").click()
    expect(page.get_by_role("status").filter(has_text="Integration “Udemy Business” deleted.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Udemy Business"))).to_have_count(0)
    remote.refresh_from_db()
    assert remote.deleted_at is not None
    screenshot("connections-11-integration-deleted")


@pytest.fixture
def some_connection(db):
    from integrations.models import Connection

    # Never contacted: Bob is refused before anything reads the tenant.
    return Connection.objects.create(
        name="Unreachable 360", provider="360learning", base_url="http://127.0.0.1:9", client_id="x"
    )


def test_a_manager_cannot_reach_connections_integrations_or_imports(page, screenshot, bob, some_connection):
    log_in(page, "bob", PASSWORD)
    for url in ("/", "/reports/"):
        page.goto(url)
        for prefix in ("/connections/", "/integrations/", "/imports/"):
            expect(page.locator(f'a[href^="{prefix}"]')).to_have_count(0)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(["Reports"])

    for url in (
        "/connections/",
        "/connections/new/",
        f"/connections/{some_connection.pk}/",
        f"/connections/{some_connection.pk}/edit/",
        f"/connections/{some_connection.pk}/integrations/new/",
        "/integrations/",
        "/imports/",
        "/imports/new/",
    ):
        response = page.goto(url)
        assert response.status == 403, url
        expect(page.get_by_text(some_connection.name)).to_have_count(0)
    screenshot("connections-12-manager-forbidden")


def test_the_health_badge_agrees_with_the_inline_check(page, alice, connection_360):
    log_in(page, "alice", PASSWORD)
    page.goto(f"/connections/{connection_360.pk}/")
    health = page.locator("dt:text-is('Health') + dd .badge")
    expect(health).to_have_text("Unchecked")
    expect(_run_check(page)).to_contain_text("Success.")
    # Without a reload: the page must not say "Success." next to a stale "Unchecked" badge.
    expect(health).to_have_text("Healthy")


def test_the_reason_of_a_failed_check_stays_on_the_page_after_a_reload(page, alice, connection_360):
    connection_360.client_secret = "not-the-secret"
    connection_360.save()
    log_in(page, "alice", PASSWORD)
    page.goto(f"/connections/{connection_360.pk}/")
    expect(_run_check(page)).to_contain_text(CREDENTIALS_REFUSED)

    page.reload()
    expect(_check_result(page)).to_contain_text("The last contact with the LMS failed.")
    expect(_check_result(page)).to_contain_text(CREDENTIALS_REFUSED)


def test_a_keyboard_user_tests_a_connection_and_hears_the_result(page, screenshot, alice, connection_360):
    log_in(page, "alice", PASSWORD)
    page.goto(f"/connections/{connection_360.pk}/")
    button = page.get_by_role("button", name="Test connection")
    tab_to(page, button)

    region = _check_result(page)
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_be_empty()
    page.keyboard.press("Enter")
    expect(region.get_by_role("status")).to_contain_text("Success.")
    expect(region).to_contain_text(f"Connected to 360Learning at {connection_360.base_url}.")
    screenshot("connections-13-keyboard-check")


def test_the_test_button_keeps_the_keyboard_focus_after_a_check(page, alice, connection_360):
    log_in(page, "alice", PASSWORD)
    page.goto(f"/connections/{connection_360.pk}/")
    button = page.get_by_role("button", name="Test connection")
    tab_to(page, button)
    page.keyboard.press("Enter")
    expect(_check_result(page).get_by_role("status")).to_contain_text("Success.")
    # Disabling the focused button while the request runs sends the focus back to <body>:
    # a keyboard user would have to Tab through the whole page again.
    expect(button).to_be_enabled()
    expect(button).to_be_focused()


def _dangling_descriptions(page) -> list[str]:
    """``control -> id`` for every aria-describedby naming an element the page lacks."""
    return page.evaluate(
        """[...document.querySelectorAll('[aria-describedby]')].flatMap(control =>
            control.getAttribute('aria-describedby').split(/\\s+/)
              .filter(id => id && !document.getElementById(id))
              .map(id => `${control.name} -> ${id}`))"""
    )


def test_the_integration_form_help_texts_are_announced_with_their_fields(page, alice, connection_360):
    log_in(page, "alice", PASSWORD)
    page.goto(f"/connections/{connection_360.pk}/integrations/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an integration")
    assert _dangling_descriptions(page) == []
    expect(field(page, "Progress at launch (%)")).to_have_accessible_description("0 to 100.")


def test_enter_in_the_author_search_box_searches_without_submitting_the_form(page, alice, connection_360):
    from sandbox.models import User as RemoteUser

    author = _an_author(RemoteUser.objects)
    log_in(page, "alice", PASSWORD)
    page.goto(f"/connections/{connection_360.pk}/integrations/new/")
    search = field(page, "Author")
    search.fill(author.mail)
    search.press("Enter")
    expect(page.get_by_role("radio", name=re.compile(re.escape(author.mail)))).to_have_count(1)
    # The half-filled form was not posted: no "This field is required." under the other fields.
    page.wait_for_load_state("networkidle")
    expect(page.locator(".field-errors")).to_have_count(0)
    expect(search).to_have_value(author.mail)


# Issue 17: broken paths 1, 10 and 11, replayed at a laptop's and a phone's width -----------------
def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_broken_path_1_every_connection_reaches_its_syncs_and_syncs_now(sized_page, alice, connection_360):
    """A connection that never synced: its page links to its syncs and offers "Sync now";
    /syncs/ lists it although it has no run, and its empty state links to the connections."""
    page = sized_page
    log_in(page, "alice", PASSWORD)
    page.goto("/syncs/")
    row = page.locator("#sync-connections").get_by_role("row", name=re.compile("Sandbox 360"))
    expect(row).to_contain_text("never synced")
    empty = page.locator("#syncrun-table")
    expect(empty.get_by_role("heading", name="No syncs yet")).to_be_visible()
    expect(empty.get_by_role("link", name="a connection")).to_have_attribute("href", "/connections/")
    _no_sideways_scroll(page)
    take_screenshot(page, "issue17-path1-syncs-empty")

    page.goto(f"/connections/{connection_360.pk}/")
    page.get_by_role("link", name="Syncs and schedules").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Syncs of Sandbox 360")
    page.go_back()
    page.get_by_role("button", name="Sync now").click()
    # Lands on the connection's syncs, every kind queued (no worker runs here).
    expect(page.get_by_role("heading", level=1)).to_have_text("Syncs of Sandbox 360")
    expect(page.locator("#sync-kinds .state-queued")).to_have_count(5)
    _no_sideways_scroll(page)
    take_screenshot(page, "issue17-path1-sync-now")

    page.goto("/syncs/")
    row = page.locator("#sync-connections").get_by_role("row", name=re.compile("Sandbox 360"))
    expect(row).to_contain_text("Queued")
    expect(page.locator("#syncrun-table tbody tr")).to_have_count(5)
    take_screenshot(page, "issue17-path1-syncs-listed")


def test_broken_path_10_a_sync_is_a_health_signal_and_no_stale_added_message(
    sized_page, alice, connection_360, live_server
):
    from integrations.sync import services

    page = sized_page
    run, _ = services.sync_run_create(connection=connection_360, kind="users")
    services.sync_run_execute(run_id=run.pk)
    log_in(page, "alice", PASSWORD)
    page.goto(f"/connections/{connection_360.pk}/")
    health = page.locator("#connection-health")
    expect(health.locator(".badge")).to_have_text("Healthy")
    expect(health).to_contain_text("last checked")
    take_screenshot(page, "issue17-path10-healthy-after-sync")

    # A connection added with a wrong secret: the green "added" goes once the red result is in.
    page.goto("/connections/new/")
    field(page, "Name").fill("Typo 360")
    field(page, "Provider").select_option(label="360Learning")
    field(page, "Region").select_option(label="Other base URL")
    field(page, "Base URL").fill(f"{live_server.url}{c.URL_PREFIX_360}")
    field(page, "Client id").fill(c.DEFAULT_CLIENT_ID)
    field(page, "Client secret").fill("not-the-secret")
    page.get_by_role("button", name="Add connection").click()
    added = page.get_by_role("status").filter(has_text="Connection “Typo 360” added.")
    expect(added).to_be_visible()
    result = _run_check(page)
    expect(result).to_contain_text("Failed.")
    expect(added).to_have_count(0)
    expect(page.locator("#connection-health .badge")).to_have_text("Failing")
    _no_sideways_scroll(page)
    take_screenshot(page, "issue17-path10-failed-test-no-stale-message")


def test_broken_path_11_required_marks_error_summary_and_secret_to_retype(sized_page, alice):
    from integrations.forms import SECRET_RETYPE

    page = sized_page
    log_in(page, "alice", PASSWORD)
    page.goto("/connections/new/")
    expect(page.locator(".required-legend")).to_have_text("* required")
    for label in ("Name", "Provider", "Client id", "Client secret"):
        expect(page.locator("label", has_text=label).locator(".required-mark").first).to_have_text("*")
    # Screen readers hear "required" from the control (a <select> with no empty choice has none).
    for label in ("Name", "Client id", "Client secret"):
        expect(field(page, label)).to_have_attribute("required", "")
    expect(page.locator("label", has_text="Base URL").locator(".required-mark")).to_have_count(0)
    take_screenshot(page, "issue17-path11-required-marks")

    # The name is missing; the secret was typed and is not sent back.
    field(page, "Provider").select_option(label="360Learning")
    field(page, "Client id").fill(c.DEFAULT_CLIENT_ID)
    field(page, "Client secret").fill(c.DEFAULT_CLIENT_SECRET)
    page.get_by_role("button", name="Add connection").click()

    summary = page.get_by_role("alert").filter(has_text="1 problem to correct")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name="Name: This field is required.")
    expect(link).to_have_attribute("href", "#id_name")
    secret = field(page, "Client secret")
    expect(secret).to_have_value("")
    expect(secret).to_have_accessible_description(SECRET_RETYPE)
    _no_sideways_scroll(page)
    take_screenshot(page, "issue17-path11-error-summary")
    link.click()
    expect(field(page, "Name")).to_be_focused()
