"""E-mail digests: what changed in the path sessions and courses a reader follows.

How a digest comes to be:

1. **Recorded by the syncs.** When a sessions sync merges its learners, and a course-stats
   sync its attempts, it first announces it (``lms_cache.signals``: ``sessions_merging``,
   ``attempts_merging``; ``ReportsConfig.ready`` connects the two recorders of ``changes``) and one
   ``DigestChange`` is written per subscription following the session or course, for each learner whose detailed status changed (or who is new to the
   session), or each attempt that became completed. It happens inside the merge's transaction,
   so a failed sync records nothing, and only for followed sessions and courses, so an
   unfollowed tenant costs nothing.
2. **Sent when due.** A django-q2 schedule runs ``digests_send_due`` every minute. Each due
   subscription is claimed with a conditional ``UPDATE`` of its ``next_due_at`` (several workers
   never send one twice), its changes are netted per learner (late then on time again is no
   change), narrowed to the reader's scope, and sorted into newly late, newly completed, newly
   to retake and newly unsuccessful (courses: newly completed). Nothing changed: no mail.
3. **Kept until delivered.** The changes a digest took into account are deleted once the mail
   is handed to the mail server; when that fails they stay for the retry. A digest nobody opens
   is not an error: nothing tracks opens.

Every mail has an HTML and a plain-text part, and a signed unsubscribe link that needs no login
(``List-Unsubscribe`` with one-click ``POST``, RFC 8058, for mail clients).

One module per step, importing only the ones before it (no re-exports here: import a name
from the module that defines it):

- ``schedule``: time zones, ``next_due`` (the next scheduled send), ``describe_schedule``.
- ``subscriptions``: ``DigestData``, listing, creating, changing, deleting and unsubscribing,
  and the signed unsubscribe token.
- ``changes``: the recorders ``digest_changes_record_sessions`` and
  ``digest_changes_record_attempts`` (step 1).
- ``compose``: ``digest_compose`` and what it returns (``Digest``, ``Section``, ``Category``).
- ``send``: ``digests_send_due``, ``digest_claim``, ``digest_send`` and the message (steps 2, 3).
"""
