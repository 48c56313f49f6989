"""Migrations 0012/0013: every key of an import run's old ``options`` bag lands in its own field,
and migrating back puts them into ``options`` again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("integrations", "0011_connection_provider_choices_from_registry")]
AFTER = [("integrations", "0013_remove_importrun_options")]

PREPARED = {
    "v1_defaults": {"progress": 100, "time_spent_ms": 60000},
    "headers": ["Learner", "Course", "Progress"],
    "suggested": {"Learner": "userMail"},
    "unit": "row",
    "file_notes": ["2 empty rows were skipped."],
    "predicted": {"new attempt": 5, "cannot predict: unknown learner": 2},
    "learners_looked_up": 3,
}
WAITING_FOR_MAPPING = {"needs_mapping": True, "headers": ["A", "B"], "suggested": {}, "missing": ["progress"]}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    apps = _migrate(BEFORE)
    yield apps
    _migrate(AFTER)  # the rest of the suite runs on the latest schema


def _integration(apps):
    connection_ = apps.get_model("integrations", "Connection").objects.create(
        name="Acme", provider="360learning", base_url="https://app.360learning.com", client_id="id"
    )
    return apps.get_model("integrations", "Integration").objects.create(
        connection=connection_, remote_id="a" * 24, external_platform="Coursera", group_id="b" * 24, author_id="c" * 24
    )


def _run(apps, integration, options):
    return (
        apps.get_model("integrations", "ImportRun")
        .objects.create(integration=integration, kind="stats", source_name="stats.csv", options=options)
        .pk
    )


def test_each_option_becomes_its_field_and_comes_back_when_migrated_back(old_apps):
    integration = _integration(old_apps)
    prepared = _run(old_apps, integration, PREPARED)
    waiting = _run(old_apps, integration, WAITING_FOR_MAPPING)
    retry = _run(old_apps, integration, {"unit": "record"})
    bare = _run(old_apps, integration, {})

    runs = _migrate(AFTER).get_model("integrations", "ImportRun").objects

    run = runs.get(pk=prepared)
    assert run.v1_defaults == {"progress": 100, "time_spent_ms": 60000}
    assert run.source_columns == ["Learner", "Course", "Progress"]
    assert run.suggested_mapping == {"Learner": "userMail"}
    assert run.missing_columns == []
    assert run.line_unit == "row"
    assert run.file_notes == ["2 empty rows were skipped."]
    assert run.predicted_effects == {"new attempt": 5, "cannot predict: unknown learner": 2}
    assert run.learners_looked_up == 3
    run = runs.get(pk=waiting)
    assert (run.source_columns, run.suggested_mapping, run.missing_columns) == (["A", "B"], {}, ["progress"])
    assert runs.get(pk=retry).line_unit == "record"
    run = runs.get(pk=bare)
    assert (run.v1_defaults, run.source_columns, run.line_unit, run.predicted_effects, run.learners_looked_up) == (
        {},
        [],
        "line",
        {},
        0,
    )

    back = _migrate(BEFORE).get_model("integrations", "ImportRun").objects
    assert back.get(pk=prepared).options == PREPARED
    assert back.get(pk=waiting).options == {
        "headers": ["A", "B"],
        "suggested": {},
        "missing": ["progress"],
        "unit": "line",
        "file_notes": [],
        "predicted": {},
        "learners_looked_up": 0,
    }
    assert back.get(pk=retry).options["unit"] == "record"
