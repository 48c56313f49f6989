"""Fixtures shared by the whole suite.

The actors:
- Alice is an L&D admin: she sees and does everything.
- Bob is a manager: reports and exports only; his scope is every learner.
- Carol has an account but no role yet: she sees only the home page and her password page.
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from lms_admin.roles import ADMIN_GROUP, MANAGER_GROUP

PASSWORD = "correct-horse-battery-staple-42"


def make_account(username: str, group: str | None) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", PASSWORD)
    if group:
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request) -> None:
    """The SQLite test database is a file, not memory, so worker processes that tests start
    (tests/support/processes.py) share it; one per test process, named by its pid, so
    concurrent test runs on one machine never share a database. Then pytest-django's usual
    suffixes (``_gw0``… under xdist) apply, as they do to PostgreSQL's ``test_…`` database."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(settings.VAR_DIR / f"test-{os.getpid()}.sqlite3")
    request.getfixturevalue("django_db_modify_db_settings_parallel_suffix")


@pytest.fixture
def alice(db) -> User:
    return make_account("alice", ADMIN_GROUP)


@pytest.fixture
def bob(db) -> User:
    from reports.models import ManagerScope

    bob = make_account("bob", MANAGER_GROUP)
    ManagerScope.objects.create(user=bob, every_learner=True)
    return bob


@pytest.fixture
def carol(db) -> User:
    return make_account("carol", None)


@pytest.fixture
def admin_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def manager_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def task_queue():
    """The configured django-q2 broker (ORM or Redis) with its queue emptied, so what a test
    enqueues is exactly what ``task_queue.queue_size()`` counts."""
    from django_q.brokers import get_broker

    broker = get_broker()
    broker.purge_queue()
    yield broker
    broker.purge_queue()


@pytest.fixture
def url_objects(db, alice) -> dict[str, object]:
    """One object of each kind a URL can name, keyed by URL parameter name."""
    from integrations.models import Connection, Integration
    from lms_admin.models import WorkerPing

    ping = WorkerPing.objects.create(requested_by=alice, broker="orm")
    # Nothing listens on the discard port: pages that read the tenant show their error state.
    connection = Connection.objects.create(
        name="Unreachable 360", provider="360learning", base_url="http://127.0.0.1:9", client_id="x"
    )
    connection.client_secret = "not-used"
    connection.save()
    integration = Integration.objects.create(
        connection=connection, remote_id="a" * 24, external_platform="Coursera", group_id="b" * 24, author_id="c" * 24
    )
    from integrations.models import SyncRun

    sync_run = SyncRun.objects.create(connection=connection, kind="users", state="failed", error="Unreachable.")
    from integrations.models import ImportRun

    draft = ImportRun.objects.create(
        integration=integration, kind="stats", source_name="stats.csv", total_records=0, launched_by=alice
    )
    needs_mapping = ImportRun.objects.create(
        integration=integration,
        kind="stats",
        source_name="odd-columns.csv",
        preparation="needs-mapping",
        source_columns=["Learner", "Course"],
        missing_columns=["progress"],
    )
    from moves.models import HistoryMove

    move = HistoryMove.objects.create(
        source=connection, integration=integration, launch_url="https://learn.example.com/", created_by=alice
    )
    imports = {
        f"importrun-{name}:pk": draft.pk
        for name in ("detail", "launch", "cancel", "retry", "invalid-csv", "errors-csv", "evidence")
    }
    return {
        **imports,
        "move-detail:pk": move.pk,
        "move-launch:pk": move.pk,
        **_digest_url_objects(alice),
        "managerscope-edit:pk": _manager(alice).pk,
        "importrun-mapping:pk": needs_mapping.pk,
        "importrun-template:kind": "stats",
        "importrun-template:fmt": "xlsx",
        "workerping-detail:pk": ping.pk,
        "pk": connection.pk,
        "integration-edit:pk": integration.pk,
        "integration-delete:pk": integration.pk,
        "syncrun-detail:pk": sync_run.pk,
        **_report_url_objects(connection),
    }


def _manager(alice) -> User:
    """A manager whose scope page the matrix opens (Bob himself, when the test has him)."""
    return User.objects.filter(groups__name=MANAGER_GROUP).first() or make_account("dave-matrix", MANAGER_GROUP)


def _digest_url_objects(alice) -> dict[str, object]:
    """Digests are their owner's only: the matrix opens each actor's own (``as:<actor>``)."""
    from datetime import time

    from reports.digests.subscriptions import DigestData, digest_create

    data = DigestData(sessions=[], courses=[], frequency="daily", weekday=0, send_at=time(8), time_zone="UTC")
    owned = {}
    for user in User.objects.filter(username__in=("alice", "bob")):
        pk = digest_create(user=user, data=data).pk
        owned[f"as:{user.username}"] = {"digest-edit:pk": pk, "digest-delete:pk": pk, **_export_url_objects(user)}
    return owned


def _export_url_objects(user) -> dict[str, object]:
    """A background export of ``user``'s (their own only: anyone else's answers 404), waiting for
    a worker: its page shows the progress bar, its download leads back to that page."""
    from reports.models import ReportExport

    export = ReportExport.objects.create(
        owner=user,
        report=ReportExport.Report.ATTEMPTS,
        file_format=ReportExport.Format.CSV,
        request_key=f"matrix-{user.pk}",
        rows_total=120_000,
        rows_written=48_000,
        state=ReportExport.State.RUNNING,
        file_name="course-attempts_never-synced.csv",
    )
    return {"report-export-detail:pk": export.pk, "report-export-download:pk": export.pk}


def _report_url_objects(connection) -> dict[str, object]:
    """Reports (issue 9): a cached path session of ``connection``, and an export format."""
    from django.utils import timezone

    from lms_cache.models import PathSession

    session = PathSession.objects.create(
        connection=connection,
        remote_id="d" * 24,
        path_remote_id="e" * 24,
        name="Sample session",
        start_date=timezone.now(),
        synced_at=timezone.now(),
    )
    pages = ("detail", "learner-export", "breakdown-export", "trend-export")
    return {
        **{f"pathsession-{page}:pk": session.pk for page in pages},
        "file_format": "csv",
        **_learner_url_objects(connection),
    }


def _learner_url_objects(connection) -> dict[str, object]:
    """Learners: a cached learner of ``connection``, matched into a person."""
    from django.utils import timezone

    from lms_cache.models import LmsUser
    from people.services import people_rematch

    user = LmsUser.objects.create(
        connection=connection,
        remote_id="f" * 24,
        first_name="Sam",
        last_name="Sample",
        mail="sam@example.org",
        synced_at=timezone.now(),
    )
    people_rematch()
    pk = user.person_record.person_id
    return {f"learner-{page}:pk": pk for page in ("detail", "link", "separate", "link-undo")}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness buys nothing in tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The sandbox LMS over real HTTP ---------------------------------------------------------------
# The demo tenant of the embedded sandbox, seeded small and deterministically, reached by the
# product's own clients through live_server, exactly as a real tenant would be.
SANDBOX_SMALL = {"users": 40, "paths": 3, "sessions": 6, "courses": 20, "attempts": 600, "seed": 5}


@pytest.fixture
def sandbox(transactional_db):
    from datetime import UTC, datetime

    from sandbox import seeding

    return seeding.seed(**SANDBOX_SMALL, anchor=datetime(2025, 6, 1, tzinfo=UTC))


def _sandbox_connection(live_server, *, name: str, provider: str, api: str, client_id: str, secret: str, **extra):
    from integrations.services.connections import ConnectionData, connection_create

    return connection_create(
        actor=None,
        data=ConnectionData(
            name=name,
            provider=provider,
            base_url=f"{live_server.url}/sandbox/{api}",
            client_id=client_id,
            client_secret=secret,
            **extra,
        ),
    )


@pytest.fixture
def connection_360(sandbox, live_server):
    """A 360Learning connection to the sandbox's demo tenant, with v1 credentials."""
    from sandbox import constants as c

    return _sandbox_connection(
        live_server,
        name="Sandbox 360",
        provider="360learning",
        api="360",
        client_id=c.DEFAULT_CLIENT_ID,
        secret=c.DEFAULT_CLIENT_SECRET,
        v1_company_id=c.DEFAULT_COMPANY_ID,
        v1_api_key=c.DEFAULT_API_KEY,
    )


@pytest.fixture
def connection_ispring(sandbox, live_server):
    from sandbox import constants as c

    return _sandbox_connection(
        live_server,
        name="Sandbox iSpring",
        provider="ispring",
        api="ispring",
        client_id=c.DEFAULT_ISPRING_CLIENT_ID,
        secret=c.DEFAULT_ISPRING_CLIENT_SECRET,
    )


# pytest-timeout: every test has ``timeout`` from pyproject.toml (60 s); these need longer.
BROWSER_TIMEOUT = 180  # Chromium pages, axe scans of every page at two sizes
SLOW_TIMEOUT = 300  # subprocess workers, web servers and releases started from scratch


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that serves the project over real HTTP (``live_server``, the sandbox LMS
    included), so ``make test-fast`` can leave them out with ``-m "not live_server"``; give
    browser and slow tests a longer timeout unless they name their own."""
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live_server)
        if item.get_closest_marker("timeout") is None:
            if item.get_closest_marker("slow"):
                item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))
            elif item.get_closest_marker("browser"):
                item.add_marker(pytest.mark.timeout(BROWSER_TIMEOUT))
