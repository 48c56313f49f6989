"""The sandbox LMS: an embedded, spec-faithful 360Learning and iSpring Learn.

Mounted under ``/sandbox/`` when ``SANDBOX_ENABLED`` is on (demo and tests, never production).

- 360Learning tenant: base URL ``http://host:port/sandbox/360`` — API v2 core and bulk
  (``/api/v2/…``) and v1 path session stats (``/api/v1/paths/sessions/{id}/stats``).
- iSpring Learn: base URL ``http://host:port/sandbox/ispring`` — ``POST /api/v3/token``,
  ``GET /learners/modules/results``.

Public Python API:

- ``sandbox.spec``: the vendor documents (``find_operation``, ``request_errors``,
  ``response_errors``, ``ispring_response_errors``, …) for the sandbox and the clients' tests.
- ``sandbox.constants``: credentials of the demo tenant, URL prefixes, error codes and
  per-record messages, fault kinds.
- ``sandbox.seeding``: ``seed`` (a tenant's users, groups, courses, paths, sessions, attempts,
  iSpring results).
- ``sandbox.tenants``: ``tenant_default``, ``tenant_create``, ``tenant_update``, tokens.
- ``sandbox.faults``: ``fault_add``, ``fault_clear``; ``sandbox.request_log``: the call log.
- ``sandbox.bulk``: the Bulk API state machine (``bulk_operation_finish``, …);
  ``sandbox.bulk_integrations``: the integrations it runs on.
- ``sandbox.selectors``: ``request_log_list``, ``fault_rule_list``, ``bulk_operation_list``.
- Commands: ``seed_sandbox`` and ``sandbox_fault``.
"""
