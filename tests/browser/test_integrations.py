"""Integrations from the browser at a laptop's and a phone's width, against the sandbox LMS.

The actors: Alice (L&D admin) creates an integration with the keyboard only, choosing its author
with the one search box over the tenant's users, then reads the list by names.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from integrations.services.integrations import integration_pull
from integrations.sync import services as sync_services
from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import assert_accessible, assert_fits, field
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_author_is_chosen_with_the_keyboard_and_the_list_shows_names(sized_page, alice, connection_360):
    from sandbox.models import User as RemoteUser

    integration_pull(actor=None, connection=connection_360)
    sync, _ = sync_services.sync_run_create(connection=connection_360, kind="users")
    sync_services.sync_run_execute(run_id=sync.pk)
    author = RemoteUser.objects.filter(status="active").order_by("pk").first()

    page = sized_page
    log_in(page, "alice", PASSWORD)
    page.goto(f"/connections/{connection_360.pk}/integrations/new/")
    field(page, "External platform").fill("Keyboard Academy")
    field(page, "Group").select_option(index=1)
    search = field(page, "Author")
    expect(search).to_have_accessible_description(re.compile("Type part of a name or an exact e-mail"))
    search.focus()
    # On a slow machine typing may pause past the 300 ms debounce and send a
    # partial query first; wait for the answer to the whole name, after
    # which no other search can replace the list.
    with page.expect_response(lambda r: "/users/?" in r.url and parse_qs(urlsplit(r.url).query).get("q") == [author.last_name]):
        page.keyboard.type(author.last_name)
    choices = page.get_by_role("group", name="Choose the author").get_by_role("radio")
    expect(choices.first).to_have_accessible_name(re.compile(author.last_name))
    page.keyboard.press("ArrowDown")
    expect(choices.first).to_be_focused()
    page.keyboard.press("Space")
    expect(choices.first).to_be_checked()
    assert_fits(page)
    assert_accessible(page)
    take_screenshot(page, "integrations-author-picker")
    page.get_by_role("button", name="Create in 360Learning").click()
    expect(page.get_by_role("status").filter(has_text="Integration “Keyboard Academy” saved")).to_be_visible()

    page.goto("/integrations/")
    row = page.get_by_role("row", name=re.compile("Keyboard Academy"))
    expect(row).to_contain_text(f"{author.first_name} {author.last_name}")
    expect(row.locator("code.id", has_text=author.oid)).to_be_visible()
    assert_fits(page)
    take_screenshot(page, "integrations-list")
