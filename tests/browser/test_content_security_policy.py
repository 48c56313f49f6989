"""The main pages in Chromium with the Content-Security-Policy enforced: nothing is blocked.

A blocked inline script, event handler or style attribute would mean a page silently lost
behaviour or looks. Chromium reports each one as a ``securitypolicyviolation`` event (and a
console error); the ``violations`` fixture collects both on every page, and a control injection
proves it would see one.

The actors: Alice (L&D admin) walks the admin and report pages against synced sandbox data;
Root (a superuser) opens Django's admin; a visitor mistypes a password until locked out.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from lms_admin.login_throttle import LOCKED_OUT_MESSAGE
from tests.browser.conftest import log_in
from tests.browser.helpers import field
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every document before the page's own scripts; init scripts are not subject to the CSP.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def violations(page):
    found: list[str] = []
    page.expose_binding("reportCspViolation", lambda source, text: found.append(f"{source['page'].url}: {text}"))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: found.append(f"console: {message.text}") if "Content Security Policy" in message.text else None,
    )
    return found


@pytest.fixture
def synced(connection_360, connection_ispring):
    out = io.StringIO()
    call_command("sync_lms", "all", "--connection", connection_360.name, stdout=out)
    call_command("sync_lms", "all", "--connection", connection_ispring.name, stdout=out)
    return connection_360


def _visit(page, path: str):
    response = page.goto(path)
    assert response.ok, (path, response.status)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, policy
    # htmx injects no <style> of its own; app.css is the page's only styling.
    assert page.locator("style").count() == 0, path
    return response


def _settle(page) -> None:
    """Lets the last page's violation events reach Python before the test looks at them."""
    page.wait_for_timeout(300)


def test_the_violation_report_sees_a_blocked_inline_style_and_script(page, violations):
    _visit(page, "/accounts/login/")
    page.evaluate(
        """() => {
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">styled</p>');
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true;";
          document.body.append(script);
        }"""
    )
    expect(page.get_by_text("styled")).to_be_visible()
    _settle(page)
    assert page.evaluate("() => window.inlineRan === undefined")
    assert any("style-src" in v for v in violations), violations
    assert any("script-src" in v for v in violations), violations


def test_the_admin_pages_run_with_no_violation(page, violations, alice, synced):
    _visit(page, "/accounts/login/")
    log_in(page, "alice", PASSWORD)

    connection = synced
    for name, kwargs in [
        ("home", {}),
        ("connection-list", {}),
        ("connection-detail", {"pk": connection.pk}),
        ("integration-list", {}),
        ("importrun-list", {}),
        ("importrun-create", {}),
        ("syncrun-list", {}),
        ("manager-list", {}),
        ("audit-list", {}),
        ("system-status", {}),
        ("password_change", {}),
    ]:
        _visit(page, reverse(name, kwargs=kwargs))
        expect(page.get_by_role("heading", level=1)).to_be_visible()

    # htmx: a POST swapped in with its indicator, on the connection page.
    _visit(page, reverse("connection-detail", kwargs={"pk": connection.pk}))
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#check-result").get_by_role("status")).to_contain_text("Success.")

    # static/js/app.js: Enter in the author search runs the search instead of posting the form.
    _visit(page, reverse("integration-create", kwargs={"pk": connection.pk}))
    search = field(page, "Author")
    search.fill("a")
    with page.expect_response(re.compile(r"/connections/\d+/users/\?")):
        search.press("Enter")
    expect(page.locator(".field-errors")).to_have_count(0)

    # htmx polling, until the worker ping stops it (no worker here: it keeps polling).
    _visit(page, reverse("system-status"))
    page.get_by_role("button", name="Ping the worker").click()
    expect(page.get_by_text("waiting for a worker")).to_be_visible()

    _settle(page)
    assert violations == []


def test_the_report_pages_run_with_no_violation(page, screenshot, violations, alice, synced):
    log_in(page, "alice", PASSWORD)
    for name in ("report-index", "pathsession-list", "course-stats", "attempt-list", "module-results", "digest-list"):
        _visit(page, reverse(name))
        expect(page.get_by_role("heading", level=1)).to_be_visible()

    # The completion meters are <progress> elements, drawn with no style attribute.
    _visit(page, reverse("course-stats"))
    meters = page.locator("progress.meter")
    expect(meters.first).to_be_visible()
    assert page.locator("[style]").count() == 0
    screenshot("csp-course-stats")

    # A filter swaps the table through htmx.
    _visit(page, reverse("pathsession-list"))
    page.get_by_label("Has learners").select_option("late")
    expect(page).to_have_url(re.compile(r"status=late"))
    page.locator("#pathsession-table tbody th a").first.click()
    expect(page.locator("svg.status-bar-large")).to_be_visible()

    _settle(page)
    assert violations == []


def test_django_admin_runs_with_no_violation(page, violations, django_user_model, alice):
    django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    _visit(page, "/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    for path in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{alice.pk}/change/", "/admin/axes/accessattempt/"):
        _visit(page, path)

    _settle(page)
    assert violations == []


def test_the_lockout_page_is_styled_and_runs_with_no_violation(page, screenshot, violations, settings):
    _visit(page, "/accounts/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("not-her-password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()

    expect(page.get_by_role("heading", level=1, name="Log-in paused")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(LOCKED_OUT_MESSAGE.format(minutes=15))
    # The site's stylesheet applied: the alert is drawn as an error message.
    assert page.get_by_role("alert").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 232, 230)"
    screenshot("login-locked-out")

    _settle(page)
    assert violations == []
