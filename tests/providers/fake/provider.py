"""Fake LMS as the registry knows it: ``LMS_EXTRA_PROVIDERS = ["tests.providers.fake.provider.PROVIDER"]``."""

from __future__ import annotations

from integrations.models import SyncKind
from integrations.providers.base import ProviderSpec
from tests.providers.fake import sync
from tests.providers.fake.probe import probe

PROVIDER = ProviderSpec(
    value="fakelms",
    label="Fake LMS",
    probe=probe,
    sync_kinds=(
        (SyncKind.COURSES, sync.sync_courses),
        (SyncKind.COURSE_STATS, sync.sync_course_stats),
    ),
    incremental_kinds=frozenset({SyncKind.COURSE_STATS}),
    base_url_required="Fake LMS tenants have their own address: enter its base URL.",
)
