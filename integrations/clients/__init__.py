"""What the plain-Python LMS clients share (no Django imports, no models). The clients live in
their provider packages: ``integrations.providers.learning360.client`` (API v2, Core + Bulk),
``…learning360.client_v1`` (API v1 path-session stats), ``…ispring.client`` (module results).

- ``errors``: the ``LmsError`` hierarchy every client raises.
- ``transport``: the shared HTTP base (timeouts, retries, error mapping, ``TokenStore``).
- ``addresses``: where the transport may connect, checked at every connection.
"""
