"""Reads for the report pages, their exports and ``export_report``: querysets over the local
cache, one module per report (``path_sessions``, ``courses``, ``module_results``) and what they
share (``common``). Every selector takes the same ``reports.filters.ReportFilters``.

Each report starts from one base queryset (``path_sessions._sessions`` and ``._learners``,
``courses._attempts``, ``module_results._module_results``). They read current cache rows only
(``gone_at`` unset: the LMS still returns them) and pass through ``common.scoped``, the one
place where a manager's scope (``reports.scopes``, ``ReportFilters.scope``) narrows what every
report counts, lists and exports. Nothing here calls the LMS.
"""
