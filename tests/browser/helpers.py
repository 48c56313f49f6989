"""Small helpers shared by the browser tests of the admin screens."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page


def field(page: Page, label: str) -> Locator:
    """The form control labelled exactly ``label``.

    Required fields' labels end with an aria-hidden "*", which Playwright's ``get_by_label``
    still reads, so an exact label would miss them and a loose one matches too much
    ("File" is also in "v1 files: …").
    """
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def tab_to(page: Page, target: Locator, *, limit: int = 40) -> None:
    """Press Tab until ``target`` has the focus; fail when ``limit`` presses do not reach it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} is not reachable with Tab ({limit} presses)")


def main_nav(page: Page) -> Locator:
    """The main navigation, opened first when it is folded behind the phone's "Menu" button."""
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    return page.get_by_role("navigation", name="Main")


def assert_fits(page: Page) -> None:
    """The page does not scroll sideways (wide tables scroll inside their own box)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        # The outermost elements that stick out, to say where to look.
        culprits = page.evaluate(
            """() => [...document.querySelectorAll("body *")]
              .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
              .filter(e => !e.parentElement.closest(".table-scroll"))
              .slice(0, 8).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`)"""
        )
        raise AssertionError(
            f"{page.url} scrolls sideways by {overflow} px at {page.viewport_size['width']} px: {culprits}"
        )


def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(AXE_SCRIPT)
    violations = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")["violations"]
    found = [
        f"{v['id']} ({v['impact']}) at {', '.join(' '.join(n['target']) for n in v['nodes'][:3])}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert found == [], f"{page.url}: {found}"
