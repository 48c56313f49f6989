"""Every page of the access-matrix crawl, in Chromium, as an admin and as a manager, at a laptop's
and a phone's width: no serious or critical accessibility violation (axe-core), no sideways
scroll on a phone, and a full-page screenshot of each (var/screenshots/<role>-<page>-<width>.png).

The pages are the access matrix's (tests/lms_admin/test_access_matrix.py), so a page added to
the URLconf is checked here the day it is added. Every failure of a walk is collected and
reported together, so one run lists everything there is to fix.
"""

from __future__ import annotations

import io
import re

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.core.management import call_command

from lms_admin.roles import ACCESS_ADMIN, ACCESS_AUTHENTICATED, ACCESS_PUBLIC, ACCESS_REPORTS
from tests.browser.conftest import VIEWPORTS, log_in, take_screenshot
from tests.conftest import PASSWORD
from tests.lms_admin.test_access_matrix import _access, all_patterns
from tests.support.urls import sample_kwargs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The access levels each role's walk opens (the others answer 403 to that role).
ROLES = {
    "admin": ("alice", {ACCESS_PUBLIC, ACCESS_AUTHENTICATED, ACCESS_REPORTS, ACCESS_ADMIN}),
    "manager": ("bob", {ACCESS_PUBLIC, ACCESS_AUTHENTICATED, ACCESS_REPORTS}),
}
# axe-core's impacts that fail the walk; "moderate" and "minor" ones are left to judgement.
FAILING_IMPACTS = {"serious", "critical"}
# A walk must reach at least this many pages, so a broken login or fixture cannot pass empty.
MIN_PAGES = {"admin": 25, "manager": 8}
# axe-core's options: violations only (the passes' details cost time and are not read).
AXE_OPTIONS = {"resultTypes": ["violations"]}
# The embedded sandbox LMS's API: JSON for the product's clients, no page.
SANDBOX_API = "sandbox/"


@pytest.fixture
def crawl_objects(bob, url_objects, connection_360, connection_ispring) -> dict[str, object]:
    """The access matrix's sample objects, with the connection, a path session and a sync run
    taken from a synced sandbox tenant, so the report pages have rows to show."""
    from integrations.models import Integration, SyncRun
    from lms_cache.models import PathSession

    out = io.StringIO()
    call_command("sync_lms", "all", "--connection", connection_360.name, stdout=out)
    call_command("sync_lms", "all", "--connection", connection_ispring.name, stdout=out)
    session = PathSession.objects.filter(connection=connection_360).order_by("-enrolled_count").first()
    sessions = {key: session.pk for key in url_objects if key.startswith("pathsession-")}
    sync_run = SyncRun.objects.filter(connection=connection_360).order_by("-pk").first()
    # The integration (and its imports) on the synced tenant too, so its form lists real groups
    # and authors instead of retrying an unreachable address.
    Integration.objects.filter(pk=url_objects["integration-edit:pk"]).update(connection=connection_360)
    return {**url_objects, **sessions, "pk": connection_360.pk, "syncrun-detail:pk": sync_run.pk}


def _urls(role: str, objects: dict[str, object]) -> list[tuple[str, str, int]]:
    """(URL name, URL, status) of every pattern the role may open, filled with the sample objects."""
    username, levels = ROLES[role]
    objects = {**objects, **objects.get(f"as:{username}", {})}
    urls = []
    for route, pattern in all_patterns():
        if _access(pattern) not in levels or route.startswith(SANDBOX_API) or "." in route.rsplit("/", 1)[-1]:
            continue  # the sandbox LMS's API, and files (exports, templates, evidence, the favicon)
        try:
            url = "/" + sample_kwargs.fill(route, objects, url_name=pattern.name)
        except KeyError:
            continue  # signed unsubscribe links
        # The URL name, not the URL, names the screenshot: ids differ from run to run.
        urls.append((pattern.name or re.sub(r"[^a-z0-9]+", "-", route).strip("-"), url, 200))
    # The error pages are pages too (broken path 9): a missing page, and a manager refused one.
    urls.append(("error-404", "/no-such-page/", 404))
    if ACCESS_ADMIN not in levels:
        urls.append(("error-403", "/connections/", 403))
    return urls


def _is_page(response, status: int) -> bool:
    """A whole HTML page (not a JSON answer, a download, a redirect or an htmx fragment)."""
    if response.status != status or not response.headers.get("content-type", "").startswith("text/html"):
        return False
    return response.text().lstrip().lower().startswith("<!doctype html")


# The page's width against the window's, and the last few elements reaching past its right edge
# (the innermost culprits), to say what to fix.
SIDEWAYS = """() => [document.documentElement.scrollWidth, window.innerWidth,
  [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(-3)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
      + (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\\s+/).join(".") : ""))]"""


def _check(page, label: str, failures: list[str]) -> None:
    """axe-core's serious and critical violations, and (on a phone) a page wider than the window."""
    for violation in page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]:
        if violation["impact"] in FAILING_IMPACTS:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            failures.append(f"{label}: axe {violation['id']} ({violation['impact']}) at {targets}")
    if page.width_name == "phone":
        page_width, window_width, culprits = page.evaluate(SIDEWAYS)
        if page_width > window_width:
            failures.append(f"{label}: scrolls sideways ({page_width} > {window_width} px) by {culprits}")


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_is_accessible_and_fits_the_screen(role, width, browser, live_server, alice, crawl_objects):
    username, _ = ROLES[role]
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    # axe-core (the copy bundled with axe-playwright-python) is loaded into every document as
    # Playwright's init script, through the DevTools protocol: the page's strict
    # Content-Security-Policy stays on, and nothing is injected into the markup.
    context.add_init_script(script=AXE_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.width_name = width
    failures: list[str] = []
    visited: list[str] = []
    try:
        log_in(page, username, PASSWORD)
        urls = _urls(role, crawl_objects)
        for name, url, status in urls:
            # Asked first without the page, so redirects, POST-only URLs and fragments are skipped.
            if not _is_page(context.request.get(url, max_redirects=0), status):
                continue
            page.goto(url)
            visited.append(url)
            # Folded sections (column guides, raw payloads, definitions) are checked open.
            page.evaluate("() => document.querySelectorAll('main details').forEach(d => { d.open = true; })")
            _check(page, url, failures)
            take_screenshot(page, f"{role}-{name}")

        # The menus open (hidden content is not checked above): the phone's navigation and the user menu.
        page.goto("/")
        if width == "phone":
            page.get_by_role("button", name="Menu").click()
        page.locator(".user-menu summary").click()
        _check(page, "/ (menus open)", failures)
        take_screenshot(page, f"{role}-menus")
    finally:
        context.close()
    assert len(visited) >= MIN_PAGES[role], visited
    assert {url for _, url, status in urls if status != 200} <= set(visited), "an error page is not a page"
    assert failures == [], "\n".join(failures)
