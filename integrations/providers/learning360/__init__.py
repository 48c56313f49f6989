"""360Learning: API v2 (Core + Bulk) and the v1 path-session stats.

- ``client``, ``client_v1``: the plain-Python clients (no Django).
- ``probe``: "Test connection".
- ``vocabulary``: display words for detailed statuses and their reasons.
- ``provider``: the ``ProviderSpec`` the registry loads (sync kinds, regions, capabilities).
"""
