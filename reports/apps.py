from datetime import datetime

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Report pages, CSV/XLSX exports, managers' scopes and e-mail digests over the LMS cache
    (``lms_cache``)."""

    name = "reports"

    def ready(self) -> None:
        from lms_cache import signals

        signals.attempts_merging.connect(_record_attempt_changes, dispatch_uid="reports.digests.attempts")
        signals.sessions_merging.connect(_record_session_changes, dispatch_uid="reports.digests.sessions")


def _record_attempt_changes(*, connection_id: int, run_id: int, now: datetime, **kwargs) -> None:
    """Digests keep the attempts of followed courses that this merge completes."""
    from reports.digests.changes import digest_changes_record_attempts

    digest_changes_record_attempts(connection_id=connection_id, run_id=run_id, now=now)


def _record_session_changes(*, connection_id: int, run_id: int, now: datetime, **kwargs) -> None:
    """Digests keep the status changes of followed sessions' learners that this merge brings."""
    from reports.digests.changes import digest_changes_record_sessions

    digest_changes_record_sessions(connection_id=connection_id, run_id=run_id, now=now)
