"""The integration screens: the list by names, the author picker's search.

The actors: Alice (L&D admin) has pulled the sandbox tenant's integrations; its learners and
groups are synced (or not) into the local cache.
"""

from __future__ import annotations

import pytest

from integrations.services.integrations import integration_pull
from integrations.sync import services as sync_services
from tests.support.html import assert_fragment, assertInHTML, attr, find, find_all, has_attr

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pulled(connection_360):
    integration_pull(actor=None, connection=connection_360)
    return connection_360.integrations.get(external_platform="Sandbox Academy")


def test_the_list_names_groups_and_authors_with_their_ids_secondary(
    admin_client, connection_360, pulled, django_assert_max_num_queries
):
    from lms_cache.models import LmsGroup, LmsUser

    unsynced = admin_client.get("/integrations/").content.decode()
    assert "Unknown group (sync the connection's learners)" in unsynced

    run, _ = sync_services.sync_run_create(connection=connection_360, kind="users")
    sync_services.sync_run_execute(run_id=run.pk)
    group = LmsGroup.objects.get(remote_id=pulled.group_id)
    author = LmsUser.objects.get(remote_id=pulled.author_id)
    with django_assert_max_num_queries(8):
        html = admin_client.get("/integrations/").content.decode()
    assertInHTML(f'<span class="name">{group.name}</span>', html)
    assertInHTML(f'<span class="name">{author.first_name} {author.last_name}</span>', html)
    assertInHTML(
        f'<small><code class="id" title="360Learning id of the author">{pulled.author_id}</code></small>', html
    )


def test_the_author_search_answers_with_radios_keeping_the_chosen_author(admin_client, connection_360, pulled):
    from sandbox.models import User as RemoteUser

    someone = RemoteUser.objects.filter(status="active").exclude(oid=pulled.author_id).order_by("pk").first()
    html = admin_client.get(
        f"/connections/{connection_360.pk}/users/", {"q": someone.mail, "author_id": pulled.author_id}
    ).content.decode()
    options = assert_fragment(html, "fieldset", "author-options")
    radios = [
        (attr(radio, "value"), has_attr(radio, "checked"))
        for radio in find_all(options, "input", type="radio", name="author_id")
    ]
    # The chosen author first (still selectable, and still chosen), then the match.
    assert radios == [(pulled.author_id, True), (someone.oid, False)]

    nobody = admin_client.get(f"/connections/{connection_360.pk}/users/", {"q": "zzz-no-such-person"})
    assert "No active user matches “zzz-no-such-person”." in nobody.content.decode()


def test_an_unreadable_tenant_lets_the_admin_type_the_ids(admin_client, url_objects):
    html = admin_client.get(f"/connections/{url_objects['pk']}/integrations/new/").content.decode()
    assert "Could not read the tenant" in html
    assert find(html, "input", type="text", name="author_id", id="id_author_id")
    assert find(html, "input", type="text", name="group_id")
