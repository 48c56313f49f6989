from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from integrations.models import Connection
from lms_admin.roles import can_view_reports, is_admin
from reports.scopes import reader_scope

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_prepares_users_and_sandbox_connections(capsys, settings):
    call_command("demo", "--no-serve", "--users", "50", "--port", "8123")
    out = capsys.readouterr().out
    passwords = dict(line.split() for line in out.splitlines() if line.startswith("    "))
    admin, manager = User.objects.get(username="admin"), User.objects.get(username="manager")
    assert admin.check_password(passwords["admin"]) and is_admin(admin)
    assert manager.check_password(passwords["manager"]) and can_view_reports(manager) and not is_admin(manager)
    assert reader_scope(user=manager) is None  # every learner, until an admin narrows it
    assert sorted(Connection.objects.values_list("name", "base_url")) == [
        ("Sandbox 360Learning", "http://127.0.0.1:8123/sandbox/360"),
        ("Sandbox iSpring Learn", "http://127.0.0.1:8123/sandbox/ispring"),
    ]

    # Started again on another port: the same connections, pointed at the new port; new passwords.
    call_command("demo", "--no-serve", "--port", "8124")
    assert Connection.objects.get(name="Sandbox 360Learning").base_url == "http://127.0.0.1:8124/sandbox/360"
    assert "already seeded" in capsys.readouterr().out
