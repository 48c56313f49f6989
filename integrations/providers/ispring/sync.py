"""iSpring Learn's sync kinds: users and learners' module results, staged then merged (see
``integrations.sync.staging``).

Users: a full listing every time (``GET /users`` has no modified-since filter), marking the
users it no longer returns as gone, then a count check: the connection's live cached users
must number exactly what the listing returned, or the run records the difference.

Module results:
Incremental on ``completionDate[startDate]`` and ``accessDate[startDate]`` (new assignments),
once per user status (active, blocked) since the remote shows active users only unless asked;
a full listing when asked, and on its own once the last one is older than ``FULL_REFRESH_AFTER``.
"""

from __future__ import annotations

import functools

from integrations.providers.ispring import records as ispring_records
from integrations.providers.ispring.client import ModuleResult as RemoteResult
from integrations.providers.ispring.connect import ispring_client
from integrations.sync import records
from integrations.sync.context import SyncContext
from integrations.sync.kinds import (
    incremental_cursor,
    merge_listing,
    merge_users,
    parse_cursor_time,
    rows_of,
)
from integrations.sync.staging import Row
from lms_cache.models import LmsUser, ModuleResult

#: iSpring's default and maximum page size.
ISPRING_PAGE = 1000

SOURCE_ISPRING = "iSpring Learn"


# iSpring users --------------------------------------------------------------------------------
def sync_users(ctx: SyncContext) -> None:
    """Every iSpring user, cached as ``LmsUser`` rows of the connection; reconciled by count."""
    ctx.source_api = SOURCE_ISPRING
    with ispring_client(ctx.connection) as client:
        listed = ctx.stage(
            records.USERS,
            client.users(page_size=ISPRING_PAGE),
            rows_of(ispring_records.user_row),
            page_size=ISPRING_PAGE,
            label="Users",
        )

    def apply() -> None:
        merge_users(ctx)
        cached = LmsUser.objects.filter(connection_id=ctx.connection.pk, gone_at__isnull=True).count()
        if cached != listed:
            ctx.record_difference(
                "users", label="iSpring users", differences={"users": {"local": cached, "lms": listed}}
            )
            ctx.warn(f"{cached:,} users cached, {listed:,} listed by iSpring Learn.")
        ctx.summary.append(f"{listed:,} users listed")

    ctx.commit(apply)


# iSpring module results ------------------------------------------------------------------------
ISPRING_USER_STATUSES = ((1, "active"), (3, "blocked"))


def _result_rows(batch: list[RemoteResult], *, user_status: int) -> list[Row]:
    return [ispring_records.module_result_row(r, user_status=user_status) for r in batch]


def sync_module_results(ctx: SyncContext) -> None:
    """iSpring learners' module results, per user status; incremental on completion and
    access dates (see the module docstring)."""
    ctx.source_api = SOURCE_ISPRING
    since = None if ctx.full else parse_cursor_time(ctx.cursor, "since")
    if since is None:
        windows: list[tuple[dict, str]] = [({}, "")]
    else:
        windows = [
            ({"completion_date_start": since}, f" completed since {since:%Y-%m-%d %H:%M}"),
            ({"access_date_start": since}, f" assigned since {since:%Y-%m-%d %H:%M}"),
        ]
    with ispring_client(ctx.connection) as client:
        for user_status, status_label in ISPRING_USER_STATUSES:
            for filters, window_label in windows:
                ctx.stage(
                    records.MODULE_RESULTS,
                    client.module_results(user_statuses=[user_status], page_size=ISPRING_PAGE, **filters),
                    functools.partial(_result_rows, user_status=user_status),
                    page_size=ISPRING_PAGE,
                    label=f"Module results of {status_label} learners{window_label}",
                )

    def apply() -> None:
        merge_listing(ctx, records.MODULE_RESULTS, "module results", ModuleResult)

    ctx.next_cursor = incremental_cursor(ctx, "since")
    ctx.commit(apply)
