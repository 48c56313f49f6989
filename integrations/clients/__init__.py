"""Plain-Python clients for the remote LMS APIs (no Django imports, no models).

- ``learning360``: 360Learning API v2 (Core + Bulk), ``Learning360Client``.
- ``learning360_v1``: 360Learning API v1 path-session stats, ``Learning360V1Client``.
- ``ispring``: iSpring Learn module results, ``ISpringClient``.
- ``errors``: the ``LmsError`` hierarchy every client raises.
- ``transport``: the shared HTTP base (timeouts, retries, error mapping, ``TokenStore``).
- ``addresses``: where the transport may connect, checked at every connection.
"""
