"""Syncing the local cache of LMS statistics (``lms_cache.models``) from the LMS providers.

- ``staging``: stage pages as they arrive, merge a whole run in one transaction.
- ``records``: the clients' records mapped to cache rows; the cache specs.
- ``kinds``: what the kinds share (cursors, full-listing merges); each kind's function lives in
  its provider's package (``integrations/providers/<name>/sync.py``), which the registry names.
- ``context``: a running sync's lease, progress and counters.
- ``services``: launch, execute, recover; schedules. ``selectors``, ``tasks``, ``forms``.
"""
