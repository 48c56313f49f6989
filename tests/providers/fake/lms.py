"""The fake LMS the fake provider's client talks to: a token endpoint and two paginated
listings, in the shape ``client`` expects, served by the test's live server (``urls``).

``LOG`` keeps the path of every call, so a test can show the product reached it over HTTP.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

CLIENT_ID = "fake-client"
CLIENT_SECRET = "fake-secret-0123456789"
TOKEN = "fake-token-abcdef"
PAGE = 2

COURSES = [
    {"id": "c-1", "title": "Fire safety", "lang": "en"},
    {"id": "c-2", "title": "First aid", "lang": "en"},
    {"id": "c-3", "title": "Forklift basics", "lang": "fr"},
]
ATTEMPTS = [
    {"id": "a-1", "courseId": "c-1", "learnerId": "u-1", "progress": 100, "secondsSpent": 600, "score": 90,
     "startedAt": "2026-03-01T09:00:00Z", "completedAt": "2026-03-01T09:10:00Z"},
    {"id": "a-2", "courseId": "c-1", "learnerId": "u-2", "progress": 100, "secondsSpent": 900, "score": 70,
     "startedAt": "2026-03-02T09:00:00Z", "completedAt": "2026-03-02T09:15:00Z"},
    {"id": "a-3", "courseId": "c-1", "learnerId": "u-3", "progress": 40, "secondsSpent": 300, "score": None,
     "startedAt": "2026-03-03T09:00:00Z", "completedAt": None},
    {"id": "a-4", "courseId": "c-2", "learnerId": "u-1", "progress": 100, "secondsSpent": 1200, "score": 100,
     "startedAt": "2026-03-04T09:00:00Z", "completedAt": "2026-03-04T09:20:00Z"},
]  # fmt: skip

LOG: list[str] = []


def _page(request: HttpRequest, items: list[dict]) -> HttpResponse:
    offset = int(request.GET.get("offset", 0))
    response = JsonResponse(items[offset : offset + PAGE], safe=False)
    if offset + PAGE < len(items):
        query = request.GET.copy()
        query["offset"] = str(offset + PAGE)
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'
    return response


def _authorized(request: HttpRequest) -> bool:
    LOG.append(request.get_full_path())
    return request.headers.get("Authorization") == f"Bearer {TOKEN}"


def _refused() -> JsonResponse:
    return JsonResponse({"error": "invalid_token"}, status=401)


@csrf_exempt
@login_not_required
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    LOG.append(request.path)
    body = json.loads(request.body or b"{}")
    if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
        return JsonResponse({"error": "invalid_client"}, status=401)
    return JsonResponse({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600})


@login_not_required
@require_GET
def courses(request: HttpRequest) -> HttpResponse:
    return _page(request, COURSES) if _authorized(request) else _refused()


@login_not_required
@require_GET
def attempts(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        return _refused()
    since = request.GET.get("completedSince")
    items = ATTEMPTS
    if since:
        floor = datetime.fromisoformat(since)
        items = [a for a in ATTEMPTS if a["completedAt"] and datetime.fromisoformat(a["completedAt"]) >= floor]
    return _page(request, items)
