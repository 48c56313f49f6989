"""django-q2 task wrappers for reports: one service call each.

- ``digests_send_due`` runs from the ``send-digests`` schedule (every minute, made by a migration;
  catch_up is off, so a cluster that was down sends what is due once, not once per missed minute).
- ``report_export_run`` writes one background export; it needs no broker retry: an export whose
  worker died is found by the ``resume-report-exports`` schedule (every minute) once its lease
  lapses, and written again from its first row.
- ``report_exports_purge`` runs from the ``purge-report-exports`` schedule (hourly).
"""

from __future__ import annotations

from lms_admin.tasks import enqueue
from reports import background_exports
from reports.digests.send import digests_send_due as _send_due


def digests_send_due() -> str:
    outcomes = _send_due()
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "none due"


def report_export_run(export_id: int) -> bool:
    return background_exports.report_export_run(export_id=export_id)


def report_exports_resume() -> int:
    """Enqueue again the exports whose worker is gone (or whose task was lost)."""
    due = background_exports.report_exports_due()
    for export_id in due:
        enqueue("reports.tasks.report_export_run", export_id, name=f"report-export-{export_id}-resume")
    return len(due)


def report_exports_purge() -> int:
    return background_exports.report_exports_purge()
