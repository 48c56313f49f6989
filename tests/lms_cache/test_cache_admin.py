"""The cache in Django's admin is read-only: a sync owns every row."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from lms_cache import models

CACHED = [
    models.LmsGroup,
    models.LmsUser,
    models.Course,
    models.Path,
    models.PathSession,
    models.PathSessionUserStat,
    models.CourseAttempt,
    models.ModuleResult,
    models.PathSessionSnapshot,
]


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    return client


@pytest.mark.parametrize("model", CACHED, ids=lambda m: m.__name__)
def test_a_superuser_can_browse_but_not_change_the_cache(superuser_client, model):
    base = f"/admin/lms_cache/{model._meta.model_name}/"
    assert superuser_client.get(base).status_code == 200
    assert superuser_client.get(base + "add/").status_code == 403
