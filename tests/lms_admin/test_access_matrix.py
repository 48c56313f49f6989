"""Every URL pattern, walked as anonymous, manager, admin and a user without a role.

Each view declares its access level (lms_admin.roles); this test reads the declaration,
so a new URL is covered the day it is added, and a view without a declaration fails here.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from lms_admin.roles import ACCESS_ADMIN, ACCESS_AUTHENTICATED, ACCESS_PUBLIC, ACCESS_REPORTS
from tests.support.csp import assert_strict_policy, is_html
from tests.support.urls import sample_kwargs

# Prefixes owned by someone else's access rules: Django's admin (staff login) and static files.
FOREIGN_PREFIXES = ("admin/", "static/")

EXPECTED = {
    # access: (anonymous, no role, manager, admin)
    ACCESS_PUBLIC: (None, None, None, None),
    ACCESS_AUTHENTICATED: ("login", "ok", "ok", "ok"),
    ACCESS_REPORTS: ("login", 403, "ok", "ok"),
    ACCESS_ADMIN: ("login", 403, 403, "ok"),
}


def _walk(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def all_patterns() -> list[tuple[str, URLPattern]]:
    return [(route, p) for route, p in _walk(get_resolver()) if not route.startswith(FOREIGN_PREFIXES)]


def _access(pattern: URLPattern) -> str | None:
    callback = pattern.callback
    return getattr(callback, "access", None) or getattr(getattr(callback, "view_class", None), "access", None)


def test_every_view_declares_its_access_level():
    undeclared = [route for route, p in all_patterns() if _access(p) not in EXPECTED]
    assert undeclared == []


@pytest.mark.parametrize("route,pattern", all_patterns(), ids=[r for r, _ in all_patterns()])
def test_role_matrix(route, pattern, client, alice, bob, carol, url_objects):
    access = _access(pattern)
    if access == ACCESS_PUBLIC:
        pytest.skip("public view: guarded by its own credentials")
    expectations = dict(zip(("anonymous", "carol", "bob", "alice"), EXPECTED[access], strict=True))
    for actor, expected in expectations.items():
        # Objects only their owner may open (a digest) have one sample per actor.
        objects = {**url_objects, **url_objects.get(f"as:{actor}", url_objects.get("as:alice", {}))}
        url = "/" + sample_kwargs.fill(route, objects, url_name=pattern.name)
        client.logout()
        if actor != "anonymous":
            client.force_login({"alice": alice, "bob": bob, "carol": carol}[actor])
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, (actor, url)
            assert response["Location"].startswith("/accounts/login/"), (actor, url)
        elif expected == 403:
            assert response.status_code == 403, (actor, url)
        else:
            # GET of a POST-only endpoint answers 405 once access is granted; anything
            # else must render (or redirect within the app).
            assert response.status_code in (200, 302, 405), (actor, url, response.status_code)
            if response.status_code == 302:
                assert not response["Location"].startswith("/accounts/login/"), (actor, url)


def test_every_page_sends_a_strict_content_security_policy(client, alice, url_objects, django_user_model):
    """Every URL pattern, as Alice (public ones as a visitor), and Django admin's pages: each
    HTML answer carries the policy that runs only our own scripts and styles, nothing inline."""
    checked, missing = [], []
    objects = {**url_objects, **url_objects["as:alice"]}
    for route, pattern in all_patterns():
        client.logout()
        if _access(pattern) != ACCESS_PUBLIC:
            client.force_login(alice)
        try:
            url = "/" + sample_kwargs.fill(route, objects, url_name=pattern.name)
        except KeyError:
            # The sandbox LMS's API ids: any value reaches the view (and answers JSON anyway).
            url = "/" + sample_kwargs.converter.sub("x", route)
        response = client.get(url)
        if "Content-Security-Policy" not in response:
            missing.append(url)
        elif is_html(response):
            assert_strict_policy(response)
            checked.append(url)
    # Django admin, for a superuser and for a visitor at its login page.
    root = django_user_model.objects.create_superuser("root", "root@example.org", "not-used-here")
    for url, user in [
        ("/admin/login/", None),
        ("/admin/", root),
        ("/admin/auth/user/", root),
        (f"/admin/auth/user/{alice.pk}/change/", root),
    ]:
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
        checked.append(url)
    assert missing == []
    # The walk reached the pages, not only login redirects.
    assert len(checked) > 40, checked


def test_a_managers_home_is_their_sessions_overview(manager_client):
    response = manager_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/reports/path-sessions/"


def test_a_user_without_a_role_is_told_to_ask_for_one(client, carol):
    client.force_login(carol)
    html = client.get("/").content.decode()
    assert "Your account has no role yet" in html
    assert "Getting started" not in html


def test_manager_never_sees_admin_links(manager_client):
    # Their home redirects to the sessions overview: follow it.
    html = manager_client.get("/", follow=True).content.decode()
    for admin_path in ("/connections/", "/integrations/", "/imports/", "/syncs/", "/system/"):
        assert f'href="{admin_path}' not in html
    assert 'href="/reports/' in html


def test_admin_sees_every_section(admin_client):
    html = admin_client.get("/").content.decode()
    for path in ("/connections/", "/integrations/", "/imports/", "/syncs/", "/reports/", "/system/"):
        assert f'href="{path}' in html
