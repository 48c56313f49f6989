"""Moving iSpring Learn history into 360Learning from the browser, against the sandbox over real HTTP.

The actors: Alice (L&D admin) moves the "Sandbox iSpring" connection's cached history into the
"Sandbox Academy" integration of "Sandbox 360", at laptop and phone widths, with the keyboard
for the decisive step. No django-q2 cluster runs here: what the worker would do (prepare the
preview; after she sends, the courses import, then the statistics import) runs in a thread of
this process.
"""

from __future__ import annotations

import re
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from integrations.services.import_execution import import_run_execute
from integrations.services.integrations import integration_pull
from moves import services, tasks
from moves.models import HistoryMove, MoveState
from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import assert_accessible, assert_fits, field, main_nav, tab_to
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def integration(settings, connection_360, connection_ispring):
    settings.IMPORT_POLL_MIN_SECONDS = 0.05
    settings.IMPORT_POLL_MAX_SECONDS = 0.2
    settings.IMPORT_RECONCILE_GRACE_SECONDS = 3
    integration_pull(actor=None, connection=connection_360)
    for connection, kinds in ((connection_360, ["users"]), (connection_ispring, ["users", "module-results"])):
        for kind in kinds:
            call_command("sync_lms", kind, "--connection", connection.name, stdout=StringIO(), stderr=StringIO())
    return connection_360.integrations.get(external_platform="Sandbox Academy")


def _in_a_thread(task, *args) -> threading.Thread:
    """Run what the django-q2 worker would, in a thread of this process."""

    def work() -> None:
        from django.db import connection

        try:
            task(*args)
        finally:
            connection.close()

    thread = threading.Thread(target=work, name=f"{task.__name__}{args}", daemon=True)
    thread.start()
    return thread


def _send(move_id: int) -> None:
    """What the worker does once the move is sent: the courses import, then (after the "import
    ended" signal) the statistics import, then the move is closed."""
    move = HistoryMove.objects.get(pk=move_id)
    import_run_execute(run_id=move.courses_run_id)
    move = services.move_advance(move_id=move_id, enqueue=False)
    import_run_execute(run_id=move.stats_run_id)
    services.move_advance(move_id=move_id)


def _check(page, name: str) -> None:
    assert_fits(page)
    assert_accessible(page)
    take_screenshot(page, name)


def test_an_admin_moves_the_history_through_preview_progress_and_results(sized_page, alice, integration):
    page = sized_page
    log_in(page, "alice", PASSWORD)

    # Choose: from the imports list.
    main_nav(page).get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="Move iSpring Learn history").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move iSpring Learn history into 360Learning")
    field(page, "From (iSpring Learn connection)").select_option(label="Sandbox iSpring")
    field(page, "Into (360Learning integration)").select_option(label="Sandbox Academy (Sandbox 360)")
    _check(page, "moves-01-choose")
    page.get_by_role("button", name="Propose the courses").click()

    # The proposed courses: rename one.
    page.wait_for_url(re.compile(r"/moves/\d+/$"))
    move = HistoryMove.objects.get()
    first = move.courses.first()
    name = page.get_by_label(f"Name of {first.proposed_name}")
    expect(name).to_have_value(first.proposed_name)
    name.fill(f"{first.proposed_name} (from iSpring)")
    _check(page, "moves-02-courses")
    page.get_by_role("button", name="Preview").click()

    # The worker prepares the preview; the page follows, then shows it without a click.
    preparing = page.locator("#move-previewing")
    expect(preparing.get_by_role("heading", name="Preparing the preview")).to_be_visible()
    expect(preparing).to_have_attribute("aria-busy", "true")
    _check(page, "moves-03-preparing")
    _in_a_thread(tasks.move_preview, move.pk).join(timeout=60)

    # The preview: counts, predicted effects, the rows left out with line, field and reason.
    expect(page.locator("#move-preview")).to_be_visible(timeout=15_000)
    move.refresh_from_db()
    assert move.state == MoveState.PREVIEWED
    counts = page.get_by_role("list", name="Counts")
    expect(counts).to_contain_text(f"{move.course_rows} courses to send")
    expect(counts).to_contain_text(f"{move.stat_rows} learner statistics to send")
    expect(counts).to_contain_text(f"{move.left_out_rows} left out, never sent")
    expect(page.locator("#predicted-effects")).to_contain_text("Course created")
    left_out = page.locator("#left-out-rows tbody tr")
    expect(left_out).to_have_count(move.left_out_rows)
    row = move.left_out.filter(field="userMail").first()
    expect(left_out.filter(has_text=row.learner).first).to_contain_text("No 360Learning learner for this e-mail")
    expect(page.get_by_role("link", name=f"learner statistics (import #{move.stats_run_id})")).to_be_visible()
    _check(page, "moves-04-preview")

    # Send, with the keyboard.
    send = page.get_by_role("button", name="Send to 360Learning")
    page.locator("#preview-heading").click()
    tab_to(page, send, limit=60)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/moves/{move.pk}/")
    panel = page.locator("#move-progress")
    expect(panel).to_have_attribute("aria-busy", "true")
    expect(page.locator("#move-progress-bar")).to_be_visible()
    expect(panel.locator("#move-progress-status")).to_have_attribute("role", "status")
    _check(page, "moves-05-progress")

    worker = _in_a_thread(_send, move.pk)
    # The panel polls and turns into the results, without a page reload.
    expect(panel.get_by_role("heading", name="Results")).to_be_visible(timeout=45_000)
    worker.join(timeout=30)
    assert not worker.is_alive()
    move.refresh_from_db()
    assert move.state == MoveState.DONE
    expect(panel).to_have_attribute("aria-busy", "false")
    expect(panel).not_to_have_attribute("hx-trigger", re.compile("every"))
    sent = move.course_rows + move.stat_rows
    expect(panel).to_contain_text(f"{sent} of {sent} records done (100%)")
    expect(panel.get_by_role("list", name="Results")).to_contain_text(f"{sent} succeeded")
    expect(panel.get_by_role("link", name=f"Evidence pack of #{move.stats_run_id}")).to_be_visible()
    _check(page, "moves-06-results")
