"""Reading the Content-Security-Policy header the way a browser does, for assertions."""

from __future__ import annotations

from django.http import HttpResponseBase


def policy(response: HttpResponseBase) -> dict[str, list[str]]:
    """The response's enforced policy as {directive: sources}; fails when it has none."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.get('Content-Type')}"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


def assert_strict_policy(response: HttpResponseBase) -> None:
    """Scripts and styles from this origin only, nothing inline, and never framed."""
    directives = policy(response)
    assert directives["script-src"] == ["'self'"], directives
    assert directives["style-src"] == ["'self'"], directives
    assert directives["frame-ancestors"] == ["'none'"], directives
    for name, sources in directives.items():
        assert "'unsafe-inline'" not in sources, name
        assert "'unsafe-eval'" not in sources, name
    # No per-element relaxations hiding behind the two above.
    assert not {"script-src-attr", "script-src-elem", "style-src-attr", "style-src-elem"} & set(directives)


def is_html(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("text/html")
