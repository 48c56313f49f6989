"""Texts a sync shows to admins (on the run, in the command's output), as constants tests import."""

from __future__ import annotations

KIND_NOT_FOR_PROVIDER = "{provider} connections have no {kind} to sync."
ALREADY_ACTIVE = "A {kind} sync of {connection} is already {state} (#{run_id})."
SYNC_FAILED = "The sync stopped: {detail} The cache keeps the data of the last completed sync."
HEALTH_SYNC_FAILED = "A {kind} sync failed: {detail}"
UNEXPECTED_ERROR = (
    "The sync stopped on an unexpected error ({error}); see the worker log. "
    "The cache keeps the data of the last completed sync."
)
WORKER_LOST = (
    "The worker running this sync stopped (killed, restarted or timed out) before it finished. "
    "Nothing it fetched reached the cache; the next sync starts over."
)
LEASE_LOST = "Another worker took this sync over; this one stopped without writing."
REMOTE_VALUE_TOO_LONG = "{api} sent a {field} longer than {limit} characters; refusing the page."
SESSION_NOT_FOUND = "Session {session} disappeared from 360Learning during the sync; skipped."
V1_REFUSED = (
    "API v1 refused the credentials ({detail}): names, custom fields and certificates come from v2 and the users cache."
)
V1_SESSION_TOO_BIG = (
    "{sessions} session(s) have more than {limit:,} learners: API v1 answers a session in one body, "
    "so their names come from v2 and the users cache."
)
V1_SESSION_UNKNOWN = "API v1 does not know {count} session(s) v2 lists; their names come from the users cache."
CONNECTION_NOT_FOUND = "No connection is named {name!r}."
