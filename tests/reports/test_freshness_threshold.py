"""The stale badge honours each connection's own threshold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Connection
from reports.freshness import STALE_AFTER, Freshness


@pytest.mark.parametrize("hours,stale", [(1, True), (48, False)])
def test_a_connection_sets_how_old_its_data_may_be(hours, stale):
    as_of = timezone.now() - timedelta(hours=5)
    assert Freshness(as_of, stale_after=timedelta(hours=hours)).stale is stale


def test_the_default_threshold_is_a_day(db):
    assert Connection().stale_after_hours * 3600 == STALE_AFTER.total_seconds()
