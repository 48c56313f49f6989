"""iSpring Learn: learners' module results.

- ``client``: the plain-Python client (no Django).
- ``probe``: "Test connection".
- ``vocabulary``: display words for completion and user statuses.
- ``provider``: the ``ProviderSpec`` the registry loads (sync kinds, form wording).
"""
