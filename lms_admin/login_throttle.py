"""Login throttling glue for django-axes: which address a request comes from, and the page a
locked-out visitor sees.

django-axes does the counting (see the ``AXES_*`` settings); this module holds the two
project decisions it calls back into.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Shown on both login pages once a username + address pair is locked out.
LOCKED_OUT_MESSAGE = (
    "Too many failed log-in attempts for this username from your network. "
    "For your security, logging in is paused: try again in {minutes} minutes "
    "(each try before then starts the wait again)."
)
LOCKED_OUT_STATUS = 429


def client_ip(request: HttpRequest) -> str | None:
    """The address a login attempt comes from, for counting failures.

    Behind our TLS proxy (``BEHIND_TLS_PROXY``) every request arrives from the proxy, so the
    client is the right-most ``X-Forwarded-For`` entry: the one the proxy itself appended (or
    set) from the connection it accepted. Entries to its left were sent by the client and are
    not trusted; a client could otherwise pick a fresh address for every guess. Without a proxy,
    or when the header is missing or unreadable, it is the connection's own ``REMOTE_ADDR``.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidate = forwarded.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The page django-axes answers with instead of the login form while a pair is locked out.

    Same layout as the login page, status 429, and the wait in plain minutes.
    """
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    minutes = max(1, round(cool_off.total_seconds() / 60))
    message = LOCKED_OUT_MESSAGE.format(minutes=minutes)
    return render(request, "registration/locked_out.html", {"message": message}, status=LOCKED_OUT_STATUS)
