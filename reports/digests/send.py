"""Sending the digests that are due: each subscription is claimed with a conditional ``UPDATE``
(several workers never send one twice), composed, and mailed with an HTML and a plain-text part;
the changes it took into account are deleted once the mail server has it, and kept for a retry
when it refused."""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from datetime import datetime, timedelta

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from lms_admin.roles import can_view_reports
from reports.digests.compose import Digest, chunks, digest_compose
from reports.digests.schedule import describe_schedule, next_due
from reports.digests.subscriptions import NO_MAIL_ADDRESS
from reports.models import DigestChange, DigestSubscription

logger = logging.getLogger(__name__)

#: After a failed send, try again this much later (times the failures in a row), unless the
#: next regular digest comes sooner.
RETRY_AFTER = timedelta(minutes=15)
RETRY_AFTER_MAX = timedelta(hours=4)
NO_LONGER_A_READER = "Not sent: this user no longer has access to reports."
SENT, NOTHING, FAILED, SKIPPED = "sent", "nothing changed", "failed", "skipped"


def _message(digest: Digest) -> EmailMultiAlternatives:
    context = {"digest": digest, "schedule": describe_schedule(digest.subscription)}
    message = EmailMultiAlternatives(
        subject=digest.subject(),
        body=render_to_string("reports/email/digest.txt", context),
        to=[digest.subscription.user.email],
        headers={
            "List-Unsubscribe": f"<{digest.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("reports/email/digest.html", context), "text/html")
    return message


def _delete_changes(ids: list[int]) -> None:
    for chunk in chunks(ids, 900):  # SQLite's bound-parameter limit
        DigestChange.objects.filter(pk__in=chunk).delete()


def digest_send(*, subscription: DigestSubscription, now: datetime) -> str:
    """Compose and send one digest now (the caller has claimed it). Returns ``SENT``,
    ``NOTHING`` (no mail), ``SKIPPED`` (the user may not read reports any more) or ``FAILED``
    (the mail server refused or could not be reached: the changes wait for the retry)."""
    user = subscription.user
    if not can_view_reports(user) or not user.email:
        DigestSubscription.objects.filter(pk=subscription.pk).update(
            last_error=NO_LONGER_A_READER if user.email else NO_MAIL_ADDRESS
        )
        return SKIPPED
    digest = digest_compose(subscription=subscription)
    if not digest.sections:
        _delete_changes(digest.change_ids)
        DigestSubscription.objects.filter(pk=subscription.pk).update(last_error="", failures=0)
        return NOTHING
    try:
        _message(digest).send()
    except (smtplib.SMTPException, OSError) as exc:
        failures = subscription.failures + 1
        retry = now + min(RETRY_AFTER * failures, RETRY_AFTER_MAX)
        DigestSubscription.objects.filter(pk=subscription.pk).update(
            failures=failures,
            last_error=f"The mail server refused or could not be reached: {exc.__class__.__name__}: {exc}"[:500],
            next_due_at=min(retry, subscription.next_due_at),
        )
        logger.warning("Digest %s not sent (%s); retry at %s", subscription.pk, exc.__class__.__name__, retry)
        return FAILED
    _delete_changes(digest.change_ids)
    DigestSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=now, last_error="", failures=0)
    return SENT


def digest_claim(*, subscription: DigestSubscription, now: datetime) -> bool:
    """Take a due subscription for this worker by moving its ``next_due_at`` to the following
    scheduled send, with a conditional ``UPDATE`` that only one worker can win (``False``:
    another one has it, or it was unsubscribed meanwhile)."""
    following = next_due(
        frequency=subscription.frequency,
        weekday=subscription.weekday,
        send_at=subscription.send_at,
        time_zone=subscription.time_zone,
        after=now,
    )
    claimed = DigestSubscription.objects.filter(
        pk=subscription.pk, next_due_at=subscription.next_due_at, unsubscribed_at__isnull=True
    ).update(next_due_at=following, last_checked_at=now)
    if claimed:
        subscription.next_due_at = following
    return bool(claimed)


def digests_send_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send every digest due at ``now``; returns how many ended each way. Safe to run in several
    workers at once: each subscription is claimed first (``digest_claim``)."""
    now = now or timezone.now()
    outcomes: dict[str, int] = defaultdict(int)
    due = DigestSubscription.objects.filter(unsubscribed_at__isnull=True, next_due_at__lte=now).order_by(
        "next_due_at", "pk"
    )
    for subscription in due.select_related("user")[:limit]:
        if digest_claim(subscription=subscription, now=now):
            outcomes[digest_send(subscription=subscription, now=now)] += 1
    return dict(outcomes)
