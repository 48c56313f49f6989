"""How the sandbox refuses a call, and how it reads the date-times callers send."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


class SandboxError(Exception):
    """A refusal the API layer turns into ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 date-time as the documents write it (``…Z`` or an offset), made aware."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.utc)
    return parsed
