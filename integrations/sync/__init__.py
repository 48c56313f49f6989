"""Syncing the local cache of LMS statistics (``reports.models``) from 360Learning and iSpring.

- ``staging``: stage pages as they arrive, merge a whole run in one transaction.
- ``records``: the clients' records mapped to cache rows; the cache specs.
- ``kinds`` and ``sessions``: what each kind lists, incrementally where the API allows it.
- ``context``: a running sync's lease, progress and counters.
- ``services``: launch, execute, recover; schedules. ``selectors``, ``tasks``, ``forms``.
"""
