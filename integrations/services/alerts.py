"""Alerts for admins: a sync or an import failing N times in a row, or the LMS's own counts
disagreeing with the cache after a session sync.

Evaluated by a schedule every minute from the runs' stored outcomes, so it does not matter how
or where a run ended (a worker, a command, a recovered lease). Idempotent: an alert is opened
once per connection and key (a partial unique constraint), e-mailed once, and resolved when a
later run of the same thing succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations.models import (
    Alert,
    Connection,
    ImportRun,
    ImportState,
    SyncKind,
    SyncRun,
    SyncState,
)
from lms_admin.roles import ADMIN_GROUP

logger = logging.getLogger(__name__)

SYNC_FAILING = "The {kind} sync of “{connection}” failed {n} times in a row. Last error: {error}"
IMPORT_FAILING = "The last {n} imports into “{integration}” ({connection}) failed or had refused records. Last: {error}"
COUNTS_DIFFER = "After sync #{run}, the local counts of {sessions} session(s) differ from 360Learning's own counts."


@dataclass(frozen=True)
class _Condition:
    kind: str
    key: str
    message: str
    link: str


def _sync_conditions(connection: Connection) -> tuple[list[_Condition], list[tuple[str, str]]]:
    """Failing conditions now, and the (kind, key) pairs that are healthy again."""
    raised: list[_Condition] = []
    healthy: list[tuple[str, str]] = []
    n = connection.alert_after_failures
    for kind in SyncKind.values:
        finished = list(
            SyncRun.objects.filter(connection=connection, kind=kind, state__in=[SyncState.COMPLETED, SyncState.FAILED])
            .order_by("-created_at", "-pk")
            .values("pk", "state", "error", "reconciliation")[: max(n, 1)]
        )
        if not finished:
            continue
        key = f"sync:{kind}"
        if n and len(finished) >= n and all(r["state"] == SyncState.FAILED for r in finished):
            message = SYNC_FAILING.format(kind=kind, connection=connection.name, n=n, error=finished[0]["error"])
            raised.append(_Condition(Alert.Kind.SYNC_FAILURES, key, message, reverse("syncrun-list")))
        elif finished[0]["state"] == SyncState.COMPLETED:
            healthy.append((Alert.Kind.SYNC_FAILURES, key))
        if kind == SyncKind.SESSIONS:
            latest = next((r for r in finished if r["state"] == SyncState.COMPLETED), None)
            if latest and latest["reconciliation"]:
                message = COUNTS_DIFFER.format(run=latest["pk"], sessions=len(latest["reconciliation"]))
                raised.append(_Condition(Alert.Kind.RECONCILIATION, "sessions", message, reverse("syncrun-list")))
            elif latest:
                healthy.append((Alert.Kind.RECONCILIATION, "sessions"))
    return raised, healthy


def _import_failed(run: Mapping[str, Any]) -> bool:
    return run["state"] == ImportState.FAILED or run["failed_records"] > 0


def _import_conditions(connection: Connection) -> tuple[list[_Condition], list[tuple[str, str]]]:
    raised: list[_Condition] = []
    healthy: list[tuple[str, str]] = []
    n = connection.alert_after_failures
    for integration in connection.integrations.all():
        finished = list(
            ImportRun.objects.filter(integration=integration, ended_at__isnull=False)
            .exclude(state=ImportState.CANCELLED)
            .order_by("-ended_at", "-pk")
            .values("pk", "state", "failed_records", "last_error")[: max(n, 1)]
        )
        if not finished:
            continue
        key = f"import:{integration.remote_id}"
        if n and len(finished) >= n and all(_import_failed(r) for r in finished):
            last = finished[0]
            error = last["last_error"] or f"import #{last['pk']}: {last['failed_records']} record(s) refused"
            message = IMPORT_FAILING.format(
                n=n, integration=integration.external_platform, connection=connection.name, error=error
            )
            link = reverse("importrun-detail", args=[last["pk"]])
            raised.append(_Condition(Alert.Kind.IMPORT_FAILURES, key, message, link))
        elif not _import_failed(finished[0]):
            healthy.append((Alert.Kind.IMPORT_FAILURES, key))
    return raised, healthy


def alerts_evaluate(*, now=None) -> list[Alert]:
    """Open the alerts whose condition holds, resolve those that cleared, e-mail the new ones."""
    now = now or timezone.now()
    opened: list[Alert] = []
    for connection in Connection.objects.all():
        sync_raised, sync_healthy = _sync_conditions(connection)
        import_raised, import_healthy = _import_conditions(connection)
        for kind, key in sync_healthy + import_healthy:
            Alert.objects.filter(connection=connection, kind=kind, key=key, resolved_at__isnull=True).update(
                resolved_at=now
            )
        for condition in sync_raised + import_raised:
            try:
                with transaction.atomic():
                    alert, created = Alert.objects.get_or_create(
                        connection=connection,
                        kind=condition.kind,
                        key=condition.key,
                        resolved_at=None,
                        defaults={"message": condition.message, "link": condition.link},
                    )
            except IntegrityError:  # another worker opened it a moment ago
                continue
            if created:
                opened.append(alert)
    for alert in opened:
        _email(alert)
    return opened


def _admin_addresses() -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    return sorted(set(users.filter(Q(is_superuser=True) | Q(groups__name=ADMIN_GROUP)).values_list("email", flat=True)))


def _email(alert: Alert) -> None:
    recipients = _admin_addresses()
    if not recipients:
        return
    context = {"alert": alert, "url": settings.LMS_PUBLIC_URL + (alert.link or "/")}
    message = EmailMultiAlternatives(
        subject=f"[LMS Admin] {alert.get_kind_display()}: {alert.connection.name}",
        body=render_to_string("integrations/email/alert.txt", context),
        to=recipients,
    )
    message.attach_alternative(render_to_string("integrations/email/alert.html", context), "text/html")
    try:
        message.send()
    except OSError as exc:  # the mail server is down: the banner still shows it; try next time
        logger.warning("Alert #%s: e-mail not sent (%s)", alert.pk, exc)
        return
    Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())


def alerts_open():
    return Alert.objects.filter(resolved_at__isnull=True).select_related("connection")
