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
