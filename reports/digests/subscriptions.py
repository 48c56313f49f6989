"""What a reader follows: creating, changing and deleting subscriptions, and the signed
unsubscribe link of the mails, which needs no login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.core import signing
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from lms_cache.models import Course, PathSession
from reports.digests.schedule import next_due
from reports.models import DigestSubscription

UNSUBSCRIBE_SALT = "reports.digests.unsubscribe"
NOTHING_TO_FOLLOW = "Choose at least one path session or course to follow."
NO_MAIL_ADDRESS = "Your account has no e-mail address, so no digest could reach you: ask an L&D admin to add one."


@dataclass(frozen=True)
class DigestData:
    sessions: list[PathSession]
    courses: list[Course]
    frequency: str
    weekday: int
    send_at: time
    time_zone: str


def digest_list(*, user) -> QuerySet[DigestSubscription]:
    """The user's subscriptions, newest first, with what they follow and the changes waiting."""
    return (
        DigestSubscription.objects.filter(user=user)
        .annotate(pending=Count("changes"))
        .prefetch_related("sessions", "courses")
        .order_by("-created_at", "-pk")
    )


def _apply(subscription: DigestSubscription, data: DigestData, *, now: datetime) -> None:
    subscription.frequency = data.frequency
    subscription.weekday = data.weekday
    subscription.send_at = data.send_at
    subscription.time_zone = data.time_zone
    subscription.next_due_at = next_due(
        frequency=data.frequency, weekday=data.weekday, send_at=data.send_at, time_zone=data.time_zone, after=now
    )
    subscription.save()
    subscription.sessions.set(data.sessions)
    subscription.courses.set(data.courses)


@transaction.atomic
def digest_create(*, user, data: DigestData, now: datetime | None = None) -> DigestSubscription:
    """Follow ``data``'s sessions and courses: the first digest lists what changes from now on."""
    subscription = DigestSubscription(user=user)
    _apply(subscription, data, now=now or timezone.now())
    return subscription


@transaction.atomic
def digest_update(*, subscription: DigestSubscription, data: DigestData, now: datetime | None = None) -> None:
    """Change what a subscription follows and when; changes recorded for what it no longer
    follows are dropped. (Re-subscribing an unsubscribed digest is a new subscription.)"""
    _apply(subscription, data, now=now or timezone.now())
    subscription.changes.exclude(Q(session__in=data.sessions) | Q(course__in=data.courses)).delete()


def digest_delete(*, subscription: DigestSubscription) -> None:
    subscription.delete()


def unsubscribe_token(subscription: DigestSubscription) -> str:
    """A signed token naming the subscription, for the no-login unsubscribe link. It never
    expires: a link in an old mail must still work."""
    return signing.dumps(subscription.pk, salt=UNSUBSCRIBE_SALT)


def subscription_from_token(token: str) -> DigestSubscription | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return DigestSubscription.objects.filter(pk=pk).select_related("user").first()


@transaction.atomic
def digest_unsubscribe(*, subscription: DigestSubscription, now: datetime | None = None) -> bool:
    """Stop the subscription's mail; ``False`` when it was already stopped."""
    stopped = DigestSubscription.objects.filter(pk=subscription.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now or timezone.now()
    )
    subscription.changes.all().delete()
    return bool(stopped)
