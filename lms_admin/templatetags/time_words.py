"""Times in plain words, with seconds below a minute ("took 12 seconds", not "0 minutes").

Loaded as a template builtin (settings.TEMPLATES), so every page can say ``{{ run.created_at|ago }}``
and ``{{ run.ended_at|took:run.started_at }}``.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


def span_in_words(seconds: float) -> str:
    """A span as "under a second", "12 seconds", "1 minute", "3 hours, 5 minutes" (Django's words above a minute)."""
    if seconds < 1:
        return "under a second"
    seconds = int(seconds)
    if seconds < 60:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    now = timezone.now()
    return timesince(now - timezone.timedelta(seconds=seconds), now)


@register.filter
def took(end: datetime | None, start: datetime | None) -> str:
    """The time from ``start`` to ``end`` in words; "" when either is unknown."""
    if not end or not start:
        return ""
    return span_in_words((end - start).total_seconds())


@register.filter
def ago(moment: datetime | None) -> str:
    """How long ago ``moment`` was: "just now", "12 seconds ago", "3 minutes ago"."""
    if not moment:
        return ""
    seconds = (timezone.now() - moment).total_seconds()
    if seconds < 1:
        return "just now"
    return f"{span_in_words(seconds)} ago"


@register.filter
def since(moment: datetime | None) -> str:
    """The time elapsed since ``moment``, without "ago" (for "elapsed 12 seconds")."""
    return took(timezone.now(), moment) if moment else ""
