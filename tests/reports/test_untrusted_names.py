"""Remote data is untrusted: a learner, path, course or module named like markup renders as
text on every report page and fragment, and no page carries a script of the LMS's."""

from __future__ import annotations

import pytest

from tests.reports.conftest import HTMX, SCRIPT

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _pages(cache) -> list[tuple[str, dict, dict, str]]:
    """(url, query, headers, the escaped markup the page shows)."""
    session = f"/reports/path-sessions/{cache.session.pk}/"
    path = "&lt;b&gt;2025&lt;/b&gt;"
    return [
        ("/reports/", {}, {}, ""),
        ("/reports/path-sessions/", {}, {}, path),
        ("/reports/path-sessions/", {"search": "cohort"}, HTMX, path),
        (session, {}, {}, ESCAPED),
        (session, {"search": "mallory"}, {**HTMX, "HX-Target": "learner-table"}, ESCAPED),
        (session, {"status": "late"}, {**HTMX, "HX-Target": "learners"}, ESCAPED),
        ("/reports/courses/", {}, {}, "&lt;img src=x onerror=alert(1)&gt;"),
        ("/reports/attempts/", {}, {}, ESCAPED),
        ("/reports/attempts/", {"user": "mallory"}, HTMX, ESCAPED),
        ("/reports/module-results/", {}, {}, ESCAPED),
        ("/reports/module-results/", {"search": "<script>"}, HTMX, ESCAPED),
    ]


@pytest.mark.parametrize("index", range(11))
def test_markup_from_the_lms_renders_as_text(cache, manager_client, index):
    url, query, headers, shown = _pages(cache)[index]

    html = manager_client.get(url, query, headers=headers).content.decode()

    assert SCRIPT not in html
    assert "<b>2025</b>" not in html and "<img src=x" not in html
    assert html.count("<script") == html.count('<script src="/static/')  # only the page's own (htmx)
    assert shown in html


def test_every_page_with_a_learner_named_like_markup_shows_the_name(cache, manager_client):
    html = manager_client.get(f"/reports/path-sessions/{cache.session.pk}/", {"search": "mallory"}).content.decode()

    assert f"Mallory {ESCAPED}" in html
    assert "&lt;b&gt;2025&lt;/b&gt;" in html  # the path's name, in the facts
