"""What Django's error pages and error reports may show."""

from __future__ import annotations

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    """Django's filter, active with ``DEBUG`` on too.

    Django hides ``sensitive_variables``/``sensitive_post_parameters`` only when ``DEBUG`` is
    off. But the debug page is shown to whoever triggers the error, and the demo runs with
    ``DEBUG`` on: the connection secrets and v1 API keys marked sensitive must stay off it.
    """

    def is_active(self, request: HttpRequest | None) -> bool:
        return True
