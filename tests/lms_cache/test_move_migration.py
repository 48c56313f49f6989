"""Moving the cache from ``reports`` to ``lms_cache`` keeps every row: rows written through the
models as they were before the move read back through ``lms_cache.models`` after it, and the
content types (and the permissions on them) follow the models to their new app."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from integrations.models import Connection
from lms_cache.models import CourseAttempt, ModuleResult

# Schema changes: not inside a test's transaction (SQLite refuses them there).
pytestmark = pytest.mark.django_db(transaction=True)

LAST_BEFORE_MOVE = ("reports", "0009_session_status_counts")
BEFORE_MOVE = [LAST_BEFORE_MOVE, ("lms_cache", None)]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(db)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(db).loader.graph.leaf_nodes()


def test_the_cache_rows_written_before_the_move_are_read_by_lms_cache_after_it():
    attempt_type = ContentType.objects.get(app_label="lms_cache", model="courseattempt").pk
    connection = Connection.objects.create(
        name="Acme 360", provider="360learning", base_url="http://127.0.0.1:9", client_id="x"
    )
    try:
        executor = _migrate(BEFORE_MOVE)
        old = executor.loader.project_state(LAST_BEFORE_MOVE).apps
        assert old.get_model("contenttypes", "ContentType").objects.get(pk=attempt_type).app_label == "reports"
        now = timezone.now()
        user = old.get_model("reports", "LmsUser").objects.create(
            connection_id=connection.pk, remote_id="u1", first_name="Ada", status="active", synced_at=now
        )
        course = old.get_model("reports", "Course").objects.create(
            connection_id=connection.pk,
            remote_id="c1",
            name="Kubernetes",
            status="published",
            type="native",
            lang="en",
            synced_at=now,
        )
        old.get_model("reports", "CourseAttempt").objects.create(
            connection_id=connection.pk,
            remote_id="a1",
            course=course,
            course_remote_id="c1",
            user=user,
            user_remote_id="u1",
            progress=100,
            time_spent_ms=600_000,
            completed_at=now,
            synced_at=now,
        )
        old.get_model("reports", "ModuleResult").objects.create(
            connection_id=connection.pk,
            remote_id="r1",
            user_id="u1",
            user_status=1,
            course_id="c1",
            module_id="m1",
            module_title="Pods",
            course_item_id="i1",
            access_date=now,
            completion_status="passed",
            time_spent_s=90,
            synced_at=now,
        )
    finally:
        _migrate(_latest())
        ContentType.objects.clear_cache()

    attempt = CourseAttempt.objects.select_related("course", "user").get(connection=connection, remote_id="a1")
    assert (attempt.course.name, attempt.user.first_name, attempt.time_spent_ms) == ("Kubernetes", "Ada", 600_000)
    assert attempt.completed_at == now
    assert ModuleResult.objects.get(connection=connection, remote_id="r1").time_spent_seconds == 90
    assert ContentType.objects.get_for_model(CourseAttempt).pk == attempt_type
