from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from lms_admin.roles import ADMIN_GROUP, MANAGER_GROUP

DEMO_USERS = [("admin", ADMIN_GROUP), ("manager", MANAGER_GROUP)]


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, seed the sandbox LMS, create the users admin and manager (passwords "
        "printed), connect to the sandbox, then run the web server and a background worker until Ctrl-C."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--users", type=int, default=2000, help="learners in the sandbox tenant")
        parser.add_argument("--no-serve", action="store_true", help="prepare everything, start nothing")

    def handle(self, *args, **options) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The demo needs the sandbox LMS: run it with SANDBOX_ENABLED=1 (as `make demo` does).")
        if not settings.LMS_ALLOW_LOOPBACK:
            raise CommandError("The demo connects to the sandbox on 127.0.0.1: run it with LMS_ALLOW_LOOPBACK=1.")
        port = options["port"]
        self.stdout.write("Preparing the database…")
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        self._seed(options["users"])
        passwords = self._users()
        self._connections(port)

        self.stdout.write(self.style.SUCCESS("\nLMS Admin demo is ready."))
        self.stdout.write(f"  Open http://127.0.0.1:{port}/ and log in as:")
        for username, password in passwords.items():
            self.stdout.write(f"    {username:<8} {password}")
        if options["no_serve"]:
            return
        self._serve(port)

    def _seed(self, users: int) -> None:
        from sandbox.models import Tenant

        if Tenant.objects.exists():
            self.stdout.write("Sandbox LMS already seeded; keeping its data.")
            return
        self.stdout.write(f"Seeding the sandbox LMS with {users:,} learners…")
        call_command(
            "seed_sandbox",
            users=users,
            paths=6,
            sessions=12,
            courses=40,
            attempts=users * 10,
            seed=2026,
            stdout=self.stdout,
        )

    def _users(self) -> dict[str, str]:
        passwords = {}
        for username, role in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get_or_create(name=role)[0]])
            passwords[username] = password
        from reports.models import ManagerScope

        # The demo manager sees every learner; an admin can narrow it on the Managers page.
        manager = User.objects.get(username="manager")
        ManagerScope.objects.get_or_create(user=manager, defaults={"every_learner": True})
        return passwords

    def _connections(self, port: int) -> None:
        from integrations import providers
        from integrations.models import Connection
        from integrations.services.connections import ConnectionData, connection_create, connection_update

        # One connection per provider the sandbox emulates (each provider's ``sandbox`` hook).
        root = f"http://127.0.0.1:{port}"
        wanted = [
            ConnectionData(
                name=f"Sandbox {spec.label}",
                provider=spec.value,
                base_url=tenant.base_url,
                client_id=tenant.client_id,
                client_secret=tenant.client_secret,
                v1_company_id=tenant.v1_company_id,
                v1_api_key=tenant.v1_api_key,
            )
            for spec in providers.all()
            if spec.sandbox is not None and (tenant := spec.sandbox(root))
        ]
        for data in wanted:
            existing = Connection.objects.filter(name=data.name).first()
            if existing is None:
                connection_create(actor=None, data=data)
                self.stdout.write(f"Added the connection “{data.name}” ({data.base_url}).")
            elif existing.base_url != data.base_url:
                # The demo was started on another port before: point the connection here.
                connection_update(actor=None, connection=existing, data=data)
                self.stdout.write(f"Pointed the connection “{data.name}” at {data.base_url}.")

    def _first_sync(self, port: int) -> None:
        """Once the server answers (the sandbox lives in it): adopt the tenant's integrations
        and queue a first sync of everything, so imports and reports have data to show."""
        import urllib.request

        from integrations.models import Connection, SyncRun
        from integrations.services.integrations import integration_pull
        from integrations.sync.services import sync_kinds_for, sync_run_launch

        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise CommandError(f"The web server did not answer on port {port}.") from None
                time.sleep(0.3)
        for connection in Connection.objects.filter(name__startswith="Sandbox "):
            if connection.provider_spec is not None and connection.provider_spec.integrations:
                integration_pull(actor=None, connection=connection)
            if not SyncRun.objects.filter(connection=connection).exists():
                sync_run_launch(connection=connection, kinds=sync_kinds_for(connection=connection))
                self.stdout.write(f"Queued a first sync of “{connection.name}”; watch it on the Syncs page.")

    def _serve(self, port: int) -> None:
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        processes = [
            subprocess.Popen([sys.executable, manage, "runserver", f"127.0.0.1:{port}", "--noreload"]),
            subprocess.Popen([sys.executable, manage, "qcluster"]),
        ]
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._first_sync(port)
            self.stdout.write("Web server and worker started. Press Ctrl-C to stop.")
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        failed = [p for p in processes if p.returncode not in (0, -signal.SIGINT, None)]
        if failed:
            raise CommandError("The web server or the worker stopped unexpectedly; see the output above.")
