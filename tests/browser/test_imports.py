"""An import from the browser, against the sandbox LMS over real HTTP.

The actors: Alice (L&D admin) uploads a learner-statistics export whose columns have her HR
tool's names into the sandbox tenant's "Sandbox Academy" integration. No django-q2 cluster runs
here: the executor the worker would run is started in a thread once she has launched the run.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time

import pytest
from playwright.sync_api import expect

from integrations.imports import Kind, kinds, messages
from integrations.models import ImportRun, ImportState
from integrations.services import import_runs
from integrations.services.import_execution import import_run_execute
from integrations.services.import_preparation import import_run_read
from integrations.services.integrations import integration_pull
from sandbox import constants as c
from tests.browser.conftest import log_in, take_screenshot
from tests.browser.helpers import assert_accessible, assert_fits, field, tab_to
from tests.conftest import PASSWORD
from tests.integrations.import_runs.conftest import csv_upload, stats_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The export's own column names, in STATS_HEADER's order: most need the mapping step.
HEADER = ["Course", "Learner e-mail", "Progress %", "Time (ms)", "Started", "Finished", "Score", "New attempt"]
CHUNK_SIZE = 4
UNKNOWN_LEARNER = "nobody@nowhere.example"


@pytest.fixture
def paced_imports(settings, monkeypatch, sandbox):
    """Small chunks, one in flight, and a sandbox that lingers in each state: progress moves
    in steps a 2-second poll can see, with a file of a few rows."""
    from sandbox.tenants import tenant_update

    settings.IMPORT_POLL_MIN_SECONDS = 0.05
    settings.IMPORT_POLL_MAX_SECONDS = 0.2
    settings.IMPORT_RECONCILE_GRACE_SECONDS = 3
    settings.IMPORT_MAX_IN_FLIGHT = 1
    monkeypatch.setitem(kinds.LIMITS, Kind.STATS, CHUNK_SIZE)
    tenant_update(client_id=c.DEFAULT_CLIENT_ID, bulk_min_state_seconds=0.5)


@pytest.fixture
def integration(connection_360):
    integration_pull(actor=None, connection=connection_360)
    return connection_360.integrations.get(external_platform="Sandbox Academy")


@pytest.fixture
def learners(sandbox):
    from sandbox.models import Course, User

    users = list(User.objects.filter(status="active").values_list("mail", flat=True)[:20])
    courses = list(Course.objects.values_list("oid", flat=True)[:10])
    return users, courses


def _export(learners) -> tuple[bytes, dict[int, tuple[str, str]], int, int]:
    """The CSV, its invalid rows ({line: (field, reason)}), its number of valid rows and the
    line of the valid row the LMS will refuse."""
    rows = stats_rows(learners, 17)
    valid, spare = rows[:13], rows[13:]
    valid[5][1] = UNKNOWN_LEARNER  # valid here; only the LMS knows nobody has this mail
    bad_progress, bad_time, bad_mail, reversed_dates = spare
    bad_progress[2] = "150"
    bad_time[3] = "0"
    bad_mail[1] = "not-an-email"
    reversed_dates[4], reversed_dates[5] = reversed_dates[5], reversed_dates[4]
    ordered = [*valid[:2], bad_progress, *valid[2:6], bad_time, *valid[6:10], bad_mail, *valid[10:], reversed_dates]
    line = {id(row): i for i, row in enumerate(ordered, start=2)}  # line 1 is the header
    invalid = {
        line[id(bad_progress)]: (
            "progress",
            messages.OUT_OF_RANGE.format(field="progress", minimum=0, maximum=100, value=150),
        ),
        line[id(bad_time)]: (
            "timeSpent",
            messages.BELOW_MINIMUM.format(field="timeSpent", minimum=1, unit=" ms", value=0),
        ),
        line[id(bad_mail)]: ("userMail", messages.NOT_AN_EMAIL.format(field="userMail", value="not-an-email")),
        line[id(reversed_dates)]: (
            "firstActivityAt",
            # Dates are quoted as normalised, to the millisecond.
            messages.DATES_REVERSED.format(
                first=reversed_dates[4].replace("Z", ".000Z"), last=reversed_dates[5].replace("Z", ".000Z")
            ),
        ),
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(ordered)
    return buffer.getvalue().encode("utf-8-sig"), invalid, len(valid), line[id(valid[5])]


def _read_csv(download) -> tuple[bytes, list[list[str]]]:
    raw = download.path().read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def _in_worker_thread(task, run_id: int, name: str) -> threading.Thread:
    """What the django-q2 worker does, in a thread of this process."""

    def work() -> None:
        from django.db import connection

        try:
            task(run_id=run_id)
        finally:
            connection.close()

    thread = threading.Thread(target=work, name=f"{name}-{run_id}", daemon=True)
    thread.start()
    return thread


def _execute_in_background(run_id: int) -> threading.Thread:
    """The worker's part after the launch: execute the run."""
    return _in_worker_thread(import_run_execute, run_id, "import-run")


def _read_in_background(page) -> threading.Thread:
    """The worker's part after an upload: read the draft the page is waiting on."""
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("#read-progress h2")).to_have_text("Reading and checking the file")
    run_id = int(re.search(r"/imports/(\d+)/$", page.url).group(1))
    return _in_worker_thread(import_run_read, run_id, "import-read")


def _watch(page, screenshot, *, total: int, timeout: float = 45.0) -> list[tuple[str, int]]:
    """(state, records done) each time the polled panel changes, until it says Completed."""
    bar = page.locator("#records-progress")
    state = page.locator("#run-progress h2 .state")
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sample = (state.inner_text(), int(bar.get_attribute("value")))
        if not seen or sample != seen[-1]:
            seen.append(sample)
            if 0 < sample[1] < total and not any(0 < v < total for _, v in seen[:-1]):
                screenshot("imports-05-progress")
        if sample[0] == "Completed":
            return seen
        page.wait_for_timeout(200)
    pytest.fail(f"The run did not reach Completed in {timeout} s; the panel showed {seen}")


def test_an_admin_maps_previews_launches_and_watches_a_stats_import(
    page, screenshot, alice, paced_imports, integration, learners
):
    content, invalid, valid_count, unknown_line = _export(learners)
    log_in(page, "alice", PASSWORD)

    # Upload.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="New import").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New import")
    field(page, "Integration").select_option(label=str(integration))
    field(page, "What to import").select_option(label="Learner statistics")
    field(page, "File").set_input_files({"name": "hr-export.csv", "mimeType": "text/csv", "buffer": content})
    screenshot("imports-01-upload")
    page.get_by_role("button", name="Upload and preview").click()

    # The upload returns at once; the page shows the worker reading the file, then moves on.
    expect(page.locator("#read-progress-bar")).to_be_visible()
    _read_in_background(page).join(timeout=30)

    # Map the columns the product could not guess; fix the one it guessed wrong.
    page.wait_for_url(re.compile(r"/imports/\d+/mapping/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Map the columns of hr-export.csv")
    expect(field(page, "Learner e-mail (userMail)")).to_have_value("Learner e-mail")
    expect(field(page, "Course external id (courseExternalId)")).to_have_value("Course")
    field(page, "Course external id (courseExternalId)").select_option(label="— not in this file —")
    field(page, "Course 360Learning id (courseId)").select_option("Course")
    field(page, "Time spent (ms) (timeSpent)").select_option("Time (ms)")
    field(page, "First activity (firstActivityAt)").select_option("Started")
    field(page, "Last activity (completion date at 100%) (lastActivityAt)").select_option("Finished")
    screenshot("imports-02-mapping")
    page.get_by_role("button", name="Apply and preview").click()
    _read_in_background(page).join(timeout=30)

    # The preview: counts, and every invalid row with its line, field and reason.
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    run = ImportRun.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: Learner statistics from hr-export.csv")
    counts = page.get_by_role("list", name="Counts")
    expect(counts).to_contain_text(f"{valid_count + len(invalid)} rows read")
    expect(counts).to_contain_text(f"{valid_count} valid, ready to send")
    expect(counts).to_contain_text(f"{len(invalid)} invalid, never sent")
    table = page.locator("#invalid-rows tbody tr")
    expect(table).to_have_count(len(invalid))
    for line, (name, reason) in invalid.items():
        row = table.filter(has=page.locator("td:first-child", has_text=re.compile(rf"^{line}$")))
        expect(row.locator("td")).to_have_text([str(line), name, reason])
    screenshot("imports-03-preview")

    # The invalid rows as CSV: BOM for Excel, the original columns, then line, field, reason.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the invalid rows (CSV)").click()
    download = info.value
    assert download.suggested_filename == f"import-{run.pk}-invalid-rows.csv"
    raw, rows = _read_csv(download)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0] == [*HEADER, "line", "field", "reason"]
    assert {int(r[-3]): (r[-2], r[-1]) for r in rows[1:]} == invalid
    assert [r for r in rows[1:] if int(r[-3]) == min(invalid)][0][2] == "150"

    # Launch: the run is queued until a worker picks it up.
    page.get_by_role("button", name=f"Send the {valid_count} valid records").click()
    page.wait_for_url(f"**/imports/{run.pk}/")
    panel = page.locator("#run-progress")
    # Progress is announced by a small status line, not by the whole panel that each poll replaces.
    expect(panel.locator("#run-progress-status")).to_have_attribute("role", "status")
    expect(panel.locator("h2 .state")).to_have_text("Queued")
    expect(page.locator("#records-progress")).to_have_attribute("max", str(valid_count))
    expect(page.locator("#run-progress table.chunks tbody tr")).to_have_count(-(-valid_count // CHUNK_SIZE))
    screenshot("imports-04-queued")

    worker = _execute_in_background(run.pk)
    seen = _watch(page, screenshot, total=valid_count)
    worker.join(timeout=30)
    assert not worker.is_alive()

    values = [done for _, done in seen]
    assert values == sorted(values), f"the progress went backwards: {seen}"
    assert len(set(values)) >= 3, f"the progress bar did not move in steps: {seen}"
    assert any(0 < v < valid_count for v in values), f"no intermediate progress was shown: {seen}"
    assert values[-1] == valid_count
    expect(panel).to_have_attribute("aria-busy", "false")
    expect(panel).not_to_have_attribute("hx-trigger", re.compile("every"))
    expect(panel).to_contain_text(f"{valid_count} of {valid_count} records done (100%)")
    expect(panel).to_contain_text(f"{valid_count - 1} succeeded · 1 failed")

    # The one record the LMS refused, on the page and in the errors CSV.
    refused = c.MSG_USER_NOT_FOUND.format(type="mail", value=UNKNOWN_LEARNER)
    errors = page.locator("#record-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.locator("td").first).to_have_text(str(unknown_line))
    expect(errors).to_contain_text(refused)
    # The records list below refreshed itself once the run finished: no "Pending" left.
    records = page.locator("#result-records tbody tr")
    expect(records.filter(has_text=UNKNOWN_LEARNER)).to_contain_text("Error")
    expect(records.filter(has_text="Pending")).to_have_count(0)
    screenshot("imports-06-completed")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the errors (CSV)").click()
    raw, rows = _read_csv(info.value)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0] == ["line", "status", "remote_message", "resource_id", "record"]
    assert [r[:4] for r in rows[1:]] == [[str(unknown_line), "error", refused, ""]]
    assert UNKNOWN_LEARNER in rows[1][4]

    run.refresh_from_db()
    assert (run.state, run.succeeded_records, run.failed_records) == (ImportState.COMPLETED, valid_count - 1, 1)


def _next_poll(page, run: ImportRun) -> None:
    """Wait for the progress panel's next HTMX poll to be answered."""
    with page.expect_response(lambda r: r.url.endswith(f"/imports/{run.pk}/") and r.request.headers.get("hx-request")):
        pass


def test_a_control_in_the_progress_panel_keeps_the_keyboard_focus_across_polls(
    page, alice, paced_imports, integration, learners
):
    draft = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 6))
    )
    # No worker: the run stays queued and its panel keeps polling.
    run = import_runs.import_run_launch(actor=alice, run=draft, enqueue=False)
    log_in(page, "alice", PASSWORD)
    page.goto(f"/imports/{run.pk}/")
    cancel = page.get_by_role("button", name="Cancel the unsent chunks")
    tab_to(page, cancel)
    expect(cancel).to_be_focused()

    for _ in range(2):
        _next_poll(page, run)
    page.wait_for_timeout(100)  # let htmx settle the swap
    # A keyboard user about to press it must not be thrown back to the top of the page.
    expect(cancel).to_be_focused()


DEEP_JSON = b"[" * 10_000 + b"]" * 10_000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("deep.json", DEEP_JSON, "nests arrays or objects too deeply"),
        ("broken.json", b'{"input": [{"courseId": ', "not valid JSON"),
        ("empty-lines.csv", b"\n\n\n", "The file is empty."),
        ("photo.csv", PNG, "a PNG image, not a CSV, XLSX or JSON file"),
    ],
    ids=["10000-levels-deep-json", "truncated-json", "blank-csv", "png-named-csv"],
)
def test_a_bad_file_uploads_at_once_then_says_why_it_cannot_be_imported(
    page, screenshot, alice, integration, name, content, reason
):
    log_in(page, "alice", PASSWORD)
    page.goto(f"/imports/new/?integration={integration.pk}&kind=stats")
    field(page, "File").set_input_files({"name": name, "mimeType": "application/octet-stream", "buffer": content})
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("#read-progress-bar")).to_be_visible()
    _read_in_background(page).join(timeout=30)

    expect(page.get_by_role("heading", level=1)).to_have_text(f"{name} cannot be imported")
    expect(page.locator("#file-refused")).to_contain_text(reason)
    screenshot(f"imports-refused-{name.replace('.', '-')}")
    run = ImportRun.objects.get()
    assert not run.source_file and not run.records.exists()
    page.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New import")
    assert not ImportRun.objects.exists()


def test_a_file_over_the_upload_limit_is_refused_on_the_form_at_once(page, settings, alice, integration, learners):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1_000_000
    big = csv_upload(stats_rows(learners, 12_000)).read()
    assert len(big) > settings.IMPORT_MAX_UPLOAD_BYTES
    log_in(page, "alice", PASSWORD)
    page.goto(f"/imports/new/?integration={integration.pk}&kind=stats")
    field(page, "File").set_input_files({"name": "big.csv", "mimeType": "text/csv", "buffer": big})
    page.get_by_role("button", name="Upload and preview").click()
    expect(
        page.locator("#field-file").get_by_text("The file is larger than 1 MB, the largest accepted")
    ).to_be_visible()
    assert not ImportRun.objects.exists()


def _upload(page, integration, name: str, content: bytes) -> None:
    page.goto(f"/imports/new/?integration={integration.pk}&kind=stats")
    field(page, "File").set_input_files({"name": name, "mimeType": "application/octet-stream", "buffer": content})
    page.get_by_role("button", name="Upload and preview").click()
    _read_in_background(page).join(timeout=30)


def test_broken_path_2_a_never_synced_connection_predicts_no_refusal_for_valid_learners(
    sized_page, alice, integration, learners
):
    """Broken path 2: the preview predicted "Refused: unknown learner" for 5 valid rows of a
    connection whose learners were never synced. Their e-mails are now looked up live."""
    page = sized_page
    log_in(page, "alice", PASSWORD)
    _upload(page, integration, "five-learners.csv", csv_upload(stats_rows(learners, 5)).read())

    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: Learner statistics from five-learners.csv")
    effects = page.locator("#predicted-effects")
    expect(effects).to_be_visible()
    expect(effects).not_to_contain_text("refused", ignore_case=True)
    expect(
        page.get_by_text(re.compile(r"learner e-mails? not in the synced learners (was|were) looked up"))
    ).to_be_visible()
    # What cannot be known is said plainly, with the way to know it.
    expect(page.locator("#cannot-predict")).to_contain_text("never synced")
    expect(page.locator("#cannot-predict").get_by_role("button", name="Sync this connection now")).to_be_visible()
    expect(page.locator("#preview-records tbody tr")).to_have_count(5)
    expect(page.locator("#preview-records")).not_to_contain_text("refused", ignore_case=True)
    assert_fits(page)
    assert_accessible(page)
    take_screenshot(page, "imports-broken-path-2-preview")


def test_broken_path_3_a_file_imported_minutes_ago_asks_before_it_is_sent_again(
    sized_page, alice, integration, learners
):
    """Broken path 3: re-uploading a file imported minutes ago and pressing Send landed silently
    on the old run. The preview now says so and offers both ways, explicitly."""
    content = csv_upload(stats_rows(learners, 4)).read()
    first = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 4))
    )
    first = import_runs.import_run_launch(actor=alice, run=first, enqueue=False)
    import_run_execute(run_id=first.pk)

    page = sized_page
    log_in(page, "alice", PASSWORD)
    _upload(page, integration, "stats.csv", content)
    warning = page.locator("#imported-recently")
    expect(warning).to_contain_text(f"This file was imported into this integration as run #{first.pk}")
    expect(warning.get_by_role("link", name=f"Open run #{first.pk}")).to_be_visible()
    send_again = page.get_by_role("button", name="Send the 4 valid records again anyway")
    expect(send_again).to_be_visible()
    assert_fits(page)
    assert_accessible(page)
    take_screenshot(page, "imports-broken-path-3-preview")

    # "Send again anyway" sends: the skip box does not quietly turn it into nothing.
    expect(page.get_by_role("checkbox", name="Skip the 4 already-imported rows")).not_to_be_checked()
    draft = ImportRun.objects.exclude(pk=first.pk).get()
    send_again.click()
    # The new run, not the old one.
    page.wait_for_url(f"**/imports/{draft.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Import #{draft.pk}")
    expect(page.locator("#run-progress h2 .state")).to_have_text("Queued")
    take_screenshot(page, "imports-broken-path-3-sent-again")
    draft.refresh_from_db()
    assert (draft.state, draft.records_to_send) == (ImportState.QUEUED, 4)


def test_broken_path_4_back_after_send_shows_the_run_never_a_dead_send_button(sized_page, alice, integration, learners):
    """Broken path 4 (and Send pressed twice launches one run)."""
    draft = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 6))
    )
    page = sized_page
    log_in(page, "alice", PASSWORD)
    page.goto(f"/imports/{draft.pk}/")
    take_screenshot(page, "imports-broken-path-4-preview")
    send = page.get_by_role("button", name="Send the 6 valid records")
    send.dblclick()
    page.wait_for_url(f"**/imports/{draft.pk}/")
    expect(page.locator("#run-progress h2 .state")).to_have_text("Queued")
    assert ImportRun.objects.get().state == ImportState.QUEUED

    # Back shows the run as it is now, never the stale preview's Send button.
    page.go_back()
    expect(page.locator("#run-progress")).to_be_visible()
    expect(page.get_by_role("button", name="Send the 6 valid records")).to_have_count(0)
    assert_fits(page)
    take_screenshot(page, "imports-broken-path-4-back")


PROSE = b"Meeting notes\nWe talked about the Q3 learning plan.\n"


def test_broken_path_6_text_and_images_are_refused_and_a_draft_is_discarded(sized_page, alice, integration, learners):
    """Broken path 6: a .txt file (and an image) was accepted as a CSV; a draft could not be
    discarded and became the dashboard's "Latest import"."""
    page = sized_page
    log_in(page, "alice", PASSWORD)
    for name, content, reason, shot in (
        ("notes.txt", PROSE, "plain text, not a CSV, XLSX or JSON file", "txt"),
        ("photo.png", PNG, "a PNG image, not a CSV, XLSX or JSON file", "png"),
    ):
        _upload(page, integration, name, content)
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{name} cannot be imported")
        expect(page.locator("#file-refused")).to_contain_text(reason)
        assert_fits(page)
        take_screenshot(page, f"imports-broken-path-6-refused-{shot}")
        page.get_by_role("button", name="Dismiss").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("New import")
        assert not ImportRun.objects.exists()

    # A draft is discarded from its preview, and never was the dashboard's latest import.
    draft = import_runs.import_run_prepare(
        actor=alice, integration=integration, kind="stats", uploaded=csv_upload(stats_rows(learners, 3))
    )
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(f'a[href="/imports/{draft.pk}/"]')).to_have_count(0)
    page.goto(f"/imports/{draft.pk}/")
    page.get_by_role("button", name="Discard this draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New import")
    expect(field(page, "Integration")).to_have_value(str(integration.pk))
    take_screenshot(page, "imports-broken-path-6-draft-discarded")
    assert not ImportRun.objects.filter(pk=draft.pk).exists()

    # The form and its column guide: the chosen kind's columns open, and follow the choice.
    page.goto("/imports/new/")  # nothing chosen yet: the kind the select shows first is open
    expect(page.locator("#guide-courses")).to_have_attribute("open", "")
    page.goto(f"/imports/new/?integration={integration.pk}&kind=stats")
    expect(page.locator("#guide-stats")).to_have_attribute("open", "")
    field(page, "What to import").select_option(label="Courses upsert")
    expect(page.locator("#guide-courses")).to_have_attribute("open", "")
    expect(page.locator("#guide-stats")).not_to_have_attribute("open", "")
    assert_accessible(page)


def test_a_utf16_export_from_excel_is_read_into_a_correct_preview(page, alice, integration, learners):
    content = csv_upload(stats_rows(learners, 5)).read().decode("utf-8-sig").encode("utf-16")
    log_in(page, "alice", PASSWORD)
    page.goto(f"/imports/new/?integration={integration.pk}&kind=stats")
    field(page, "File").set_input_files({"name": "excel-unicode.csv", "mimeType": "text/csv", "buffer": content})
    page.get_by_role("button", name="Upload and preview").click()
    _read_in_background(page).join(timeout=30)
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: Learner statistics from excel-unicode.csv")
    expect(page.get_by_role("list", name="Counts")).to_contain_text("5 valid, ready to send")


def test_an_admin_browses_a_runs_records_by_result_and_by_name(
    sized_page, alice, connection_360, integration, learners
):
    """Results are read in the page, not only in the evidence zip: filter, search, pages."""
    from integrations.sync import services as sync_services
    from lms_cache.models import LmsUser

    for kind in ("users", "courses"):
        sync, _ = sync_services.sync_run_create(connection=connection_360, kind=kind)
        sync_services.sync_run_execute(run_id=sync.pk)
    rows = stats_rows(learners, 30)
    rows[1][1] = UNKNOWN_LEARNER
    run = import_runs.import_run_prepare(actor=alice, integration=integration, kind="stats", uploaded=csv_upload(rows))
    run = import_runs.import_run_launch(actor=alice, run=run, enqueue=False)
    import_run_execute(run_id=run.pk)

    page = sized_page
    log_in(page, "alice", PASSWORD)
    page.goto(f"/imports/{run.pk}/")
    records = page.locator("#result-records tbody tr")
    expect(records).to_have_count(25)
    expect(page.locator("#results-count")).to_have_text("30 records.")
    assert_fits(page)
    assert_accessible(page)
    take_screenshot(page, "imports-results-all")

    # Failed only: the one the LMS refused, with its reason (keyboard: the radio takes a Space).
    page.get_by_role("radio", name="Failed").check()
    expect(records).to_have_count(1)
    expect(records.first).to_contain_text(UNKNOWN_LEARNER)
    expect(records.first).to_contain_text("Error")
    assert "status=failed" in page.url  # the filtered view is a link that can be shared
    take_screenshot(page, "imports-results-failed")

    # A learner found by name, whatever the case typed.
    user = LmsUser.objects.get(mail__iexact=learners[0][0])
    page.get_by_role("radio", name="All").check()
    page.get_by_role("searchbox", name="Search").fill(user.last_name.lower())
    expect(page.locator("#results-count")).to_contain_text("match")
    expect(records.first).to_contain_text(f"{user.first_name} {user.last_name}")
    take_screenshot(page, "imports-results-search")

    page.get_by_role("searchbox", name="Search").fill("")
    expect(page.locator("#results-count")).to_have_text("30 records.")
    page.get_by_role("navigation", name="Pages of records").get_by_role("link", name="Next").click()
    expect(records).to_have_count(5)
