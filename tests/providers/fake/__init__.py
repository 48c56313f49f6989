"""A test-only LMS provider, "Fake LMS": the worked example of docs/adding-a-provider.md.

Everything that knows this vendor is in this package, and nothing in the project names it:
it is installed by the ``LMS_EXTRA_PROVIDERS`` setting in its tests only.

- ``client``: the plain-Python client (the shared transport, typed records).
- ``probe``: "Test connection".
- ``sync``: its sync kinds (courses, course statistics) into the shared cache.
- ``provider``: the ``ProviderSpec`` the registry loads.
- ``lms``: the fake LMS itself (Django views), served by the test's urlconf (``urls``).
"""
