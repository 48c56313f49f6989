"""403, 404 and 500 pages in the site's layout with DEBUG off (broken path 9 of issue 17), and
the favicon."""

from __future__ import annotations

import pytest
from django.urls import path

from lms_admin.roles import public
from lms_admin.urls import urlpatterns as site_urlpatterns


@public
def _boom(request):
    raise RuntimeError("a bug in a view")


# This module is the URLconf of the 500 test: the site's URLs plus one view that fails.
urlpatterns = [*site_urlpatterns, path("boom/", _boom)]


@pytest.fixture(autouse=True)
def debug_off(settings):
    settings.DEBUG = False


def test_a_manager_refused_an_admin_page_gets_the_site_layout(manager_client):
    response = manager_client.get("/connections/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<title>Not allowed · LMS Admin</title>" in html
    assert 'aria-label="Main"' in html and 'href="/reports/"' in html  # the manager's own navigation
    assert "whose role (Manager) does not include this page" in html
    assert 'href="/">Back to the home page</a>' in html
    assert "Log out" in html
    assert 'href="/connections/' not in html


def test_a_user_without_a_role_refused_a_report_gets_the_site_layout(client, carol):
    client.force_login(carol)
    response = client.get("/reports/")
    assert response.status_code == 403
    assert "whose role (No role) does not include this page" in response.content.decode()


def test_a_missing_page_is_a_404_in_the_site_layout(admin_client):
    response = admin_client.get("/imports/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'href="/connections/"' in html  # Alice's navigation
    assert 'href="/">Back to the home page</a>' in html


@pytest.mark.urls(__name__)
def test_a_server_error_is_a_500_in_the_layout_without_reading_the_request(admin_client):
    admin_client.raise_request_exception = False
    response = admin_client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong on our side</h1>" in html
    assert 'href="/">Back to the home page</a>' in html
    assert 'href="/static/css/app.css"' in html
    # Rendered without context processors (the failure may be the database): no user menu.
    assert 'aria-label="Main"' not in html
    assert "alice" not in html
    assert "a bug in a view" not in html


def test_the_favicon_is_linked_from_every_page_and_served(admin_client):
    html = admin_client.get("/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="icon" href="/static/img/favicon.png" type="image/png" sizes="32x32">' in html
    for url in ("/static/img/favicon.svg", "/static/img/favicon.png", "/static/img/apple-touch-icon.png"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        b"".join(response.streaming_content)
        response.close()


def test_favicon_ico_redirects_to_the_icon_without_a_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.png"


def test_a_form_sent_without_its_token_gets_a_plain_page_in_the_layout(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/connections/new/", {"name": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>This form has expired</h1>" in html
    assert 'aria-label="Main"' in html
