"""``/favicon.ico``: browsers ask for it on pages that name no icon (a JSON answer, a download),
so it answers with a redirect to the static icon instead of a 404 in the logs."""

from __future__ import annotations

from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponseRedirect
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from lms_admin.roles import public


@public
@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Looked up per request: the hashed name exists only once collectstatic has run.
    return HttpResponseRedirect(staticfiles_storage.url("img/favicon.png"))
