"""django-q2 task wrappers for reports: one service call each.

``digests_send_due`` runs from the ``send-digests`` schedule (every minute, made by a migration;
catch_up is off, so a cluster that was down sends what is due once, not once per missed minute).
"""

from __future__ import annotations

from reports.digests import digests_send_due as _send_due


def digests_send_due() -> str:
    outcomes = _send_due()
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "none due"
