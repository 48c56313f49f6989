"""Iterating a large course-stats listing keeps the client's memory flat.

The probe runs in a subprocess (a fresh interpreter, so pytest's own memory does not
count) against a fake 360Learning in another process. ``memory_probe`` run by hand with
``--attempts 1000000`` gives the figure quoted in the clients' notes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integrations.clients.conftest import ROOT


@pytest.mark.slow
def test_iterating_200k_course_stats_keeps_rss_flat():
    result = subprocess.run(
        [sys.executable, "-m", "tests.integrations.clients.memory_probe", "--attempts", "200000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])

    assert figures["records"] == 200_000
    assert figures["pages"] == 400
    # One page (500 attempts) is the working set: growth after the first page stays within
    # allocator noise, far below what holding the listing would take (~150 MB).
    assert figures["peak_rss_kib"] - figures["rss_after_first_page_kib"] < 8 * 1024
