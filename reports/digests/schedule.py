"""When a digest is sent: the time zones a reader may choose, the next scheduled send, and the
schedule in words (for the pages and the mail's footer)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from reports.models import DigestSubscription

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNKNOWN_TIME_ZONE = "“{value}” is not a time zone this server knows (e.g. Europe/Paris)."


def time_zone_names() -> list[str]:
    return sorted(available_timezones())


def next_due(*, frequency: str, weekday: int, send_at: time, time_zone: str, after: datetime) -> datetime:
    """The first scheduled send strictly after ``after``: ``send_at`` local time in ``time_zone``,
    every day or on ``weekday`` (0: Monday), as an aware datetime. A local time that a daylight
    saving change skips is sent at the same wall-clock time shifted by the gap, one that it
    repeats at its first occurrence."""
    zone = ZoneInfo(time_zone)
    local = after.astimezone(zone)
    day = local.date()
    for offset in range(0, 8 + 1):
        candidate_day = day + timedelta(days=offset)
        if frequency == DigestSubscription.Frequency.WEEKLY and candidate_day.weekday() != weekday:
            continue
        candidate = datetime.combine(candidate_day, send_at, tzinfo=zone)
        if candidate > after:
            return candidate
    raise AssertionError("a week always holds the weekday")  # pragma: no cover


def describe_schedule(subscription: DigestSubscription) -> str:
    when = subscription.send_at.strftime("%H:%M")
    if subscription.frequency == DigestSubscription.Frequency.WEEKLY:
        return f"Every {WEEKDAYS[subscription.weekday]} at {when} ({subscription.time_zone})"
    return f"Every day at {when} ({subscription.time_zone})"
