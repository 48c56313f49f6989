"""Import templates and the column guide: what the new-import page offers to start from.

The actors: Alice (L&D admin) downloads a template for each import kind and uploads it back
unchanged into the sandbox tenant's "Sandbox Academy" integration; Bob (manager) may not.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.imports import FIELDS, REQUIREMENTS, Kind
from integrations.imports.guide import column_guide, template_header
from integrations.models import ImportRun, Preparation
from tests.integrations.import_runs.conftest import upload_and_read

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_a_downloaded_template_uploaded_unchanged_has_no_invalid_row(admin_client, integration, kind, fmt):
    response = admin_client.get(f"/imports/templates/{kind}.{fmt}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{kind}-template.{fmt}"'

    upload = SimpleUploadedFile(f"{kind}-template.{fmt}", response.content)
    page = upload_and_read(admin_client, integration, upload, kind=kind)

    run = ImportRun.objects.get()
    assert page.status_code == 302 and page["Location"] == f"/imports/{run.pk}/"
    assert run.preparation == Preparation.READY  # every column found: no mapping step
    assert (run.total_records, run.valid_records, run.invalid_records) == (1, 1, 0)

    # Its preview reads as a table: the course by name or external id, what will happen.
    preview = admin_client.get(f"/imports/{run.pk}/")
    [row] = preview.context["preview"]
    assert row.course.ident == "coursera-python-101"
    if kind == "courses":
        assert row.course.name == "Python for beginners"
        # Where new courses go, by name when synced (here: never synced, said so).
        assert (
            'new courses go to the group <span class="muted">(name not synced yet)</span>' in preview.content.decode()
        )
    if kind == "stats":
        assert row.learner.detail == "learner@example.com"
    assert '<code class="id" title="external id">coursera-python-101</code>' in preview.content.decode()


def test_a_template_has_a_column_for_every_field_the_validator_knows():
    for kind in Kind:
        assert template_header(kind) == [spec.name for spec in FIELDS[kind]]


def test_the_column_guide_marks_exactly_the_validators_required_fields():
    for kind in Kind:
        required = {f for r in REQUIREMENTS[kind] for f in r.fields}
        guide = column_guide(kind)
        assert {c.name for c in guide if c.is_required} == required
        assert all(c.format and c.effect for c in guide), kind


def test_the_new_import_page_shows_each_kinds_guide_and_templates(admin_client):
    page = admin_client.get("/imports/new/?kind=courses").content.decode()
    for kind in Kind:
        assert f'href="/imports/templates/{kind.value}.csv"' in page
        assert f'href="/imports/templates/{kind.value}.xlsx"' in page
        assert f'id="guide-{kind.value}"' in page
    assert '<details id="guide-courses" open>' in page
    assert "<code>launchUrl</code>" in page
    assert "Required: this or courseId" in page


def test_an_unknown_template_is_not_found_and_managers_get_none(admin_client, manager_client):
    assert admin_client.get("/imports/templates/stats.txt").status_code == 404
    assert admin_client.get("/imports/templates/grades.csv").status_code == 404
    assert manager_client.get("/imports/templates/stats.csv").status_code == 403
