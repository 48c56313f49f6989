"""What a sync announces about the cache while it merges, for whoever keeps something derived
from the changes (reports' digests). The cache app imports neither side.

Both signals are sent inside the merge's transaction, after the run's rows are staged and
before they overwrite the cache, so a receiver can compare the stage with what the cache
still holds; whatever it writes commits or rolls back with the merge. Arguments, by keyword:
``connection_id`` (the connection synced), ``run_id`` (the ``SyncRun`` whose stage is
merging) and ``now`` (the run's start, the time the merge stamps on rows). The sender is the
cache model being merged. A receiver that raises fails the merge.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Course attempts (``CourseAttemptStage``) are about to be merged into ``CourseAttempt``.
attempts_merging = Signal()
#: Path-session learners (``PathSessionUserStatStage``) are about to be merged into
#: ``PathSessionUserStat``.
sessions_merging = Signal()
#: A users listing was merged into ``LmsUser`` and committed. Sent after the commit (not inside
#: the merge, unlike the two above): a receiver reads the users as reports will. Arguments:
#: ``connection_id`` and ``run_id``.
users_merged = Signal()
