"""360Learning API v1, kept for one report: a path session's statistics.

Contract: ``../shared/seeds/360learning-v1-path-session-stats.txt``
(``GET /api/v1/paths/sessions/{sessionId}/stats?company=...&apiKey=...``). v1 has no
OpenAPI document in ``../shared/openapi/``; the seed page is the reference.

The API key travels in the query string, so it would end up in any URL we log or put in
an error: the transport masks ``apiKey`` in logged URLs, error messages carry only the
path, and the key is redacted from any remote text we quote. The functions holding it are
``hide_locals``, so Django's error pages show none of their (or their callees') variables.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from integrations.clients.parsing import Fields, check_object_id
from integrations.clients.transport import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT,
    RetryPolicy,
    Sleep,
    Transport,
    hide_locals,
)
from integrations.providers.learning360.resources import DetailedStatus

#: Remote codes documented for this endpoint.
SESSION_NOT_FOUND = "session_not_found"
UNAUTHORIZED = "unauthorized"
BAD_REQUEST = "bad_request"


class Learning360V1Transport(Transport):
    """v1 errors are ``{"error": "session_not_found"}``-style, which the base parser reads;
    statuses map as everywhere (404 ``NotFound``, 401 ``AuthError``, 400 ``BadRequest``)."""


@dataclass(frozen=True, slots=True)
class CustomFieldValue:
    """A user custom field as v1 reports it."""

    custom_field_id: str | None
    name: str | None
    value: str | None


@dataclass(frozen=True, slots=True)
class PathSessionUserStatV1:
    """One enrolled learner in a v1 path-session stats answer (``userStats[]``).

    ``status`` is v1's coarse status (onTime | late | completed | awaitingCorrection),
    ``detailed_status`` the same object v2 reports, ``result`` successful | unsuccessful | retake.
    """

    user_id: str
    deleted: bool | None
    first_name: str | None
    last_name: str | None
    mail: str | None
    total_time_spent_seconds: float | None
    progress: int | None
    score: int | None
    completed_at: datetime | None
    detailed_status: DetailedStatus | None
    certificate: bool | None
    status: str | None
    result: str | None
    custom_fields: tuple[CustomFieldValue, ...]

    @classmethod
    def from_json(cls, f: Fields) -> PathSessionUserStatV1:
        detailed = f.opt_obj("detailedStatus")
        return cls(
            user_id=f.string("_id"),
            deleted=f.opt_boolean("deleted"),
            first_name=f.opt_string("firstName"),
            last_name=f.opt_string("lastName"),
            mail=f.opt_string("mail"),
            total_time_spent_seconds=f.opt_number("totalTimeSpentInSeconds"),
            progress=f.opt_integer("progress"),
            score=f.opt_integer("score"),
            completed_at=f.opt_date_time("completedAt"),
            detailed_status=DetailedStatus.from_json(detailed) if detailed else None,
            certificate=f.opt_boolean("certificate"),
            status=f.opt_string("status"),
            result=f.opt_string("result"),
            custom_fields=tuple(
                CustomFieldValue(
                    custom_field_id=c.opt_string("customFieldId"),
                    name=c.opt_string("name"),
                    # Custom field values may be numbers or booleans; reports show text.
                    value=None if c.data.get("value") is None else str(c.data["value"]),
                )
                for c in f.objects("customFields", required=False)
            ),
        )


@dataclass(frozen=True, slots=True)
class PathSessionStatsV1:
    """A v1 path-session stats answer: names, counts per status, and one row per learner.

    ``user_status_counts`` is keyed by v1 user statuses (inProgress, completed, enrolled,
    selfEnrolled, started), ``detailed_status_counts`` by detailed statuses.
    """

    session_id: str
    session_name: str | None
    path_id: str | None
    path_name: str | None
    user_status_counts: Mapping[str, int]
    detailed_status_counts: Mapping[str, int]
    user_stats: tuple[PathSessionUserStatV1, ...]

    @classmethod
    def from_json(cls, f: Fields, *, session_id: str) -> PathSessionStatsV1:
        return cls(
            session_id=f.opt_string("sessionId") or session_id,
            session_name=f.opt_string("sessionName"),
            path_id=f.opt_string("pathId"),
            path_name=f.opt_string("pathName"),
            user_status_counts=f.int_mapping("userStatus") if f.data.get("userStatus") is not None else {},
            detailed_status_counts=(
                f.int_mapping("detailedStatus") if f.data.get("detailedStatus") is not None else {}
            ),
            user_stats=tuple(PathSessionUserStatV1.from_json(u) for u in f.objects("userStats")),
        )


class Learning360V1Client:
    """360Learning API v1 authenticated by company id and API key in the query string.

    Raises ``NotFound`` (session_not_found: unknown session or another company's),
    ``AuthError`` (unauthorized: key missing or wrong), ``BadRequest`` (bad_request),
    ``RemoteUnavailable``, ``BadResponse``.
    """

    @hide_locals
    def __init__(
        self,
        base_url: str,
        company_id: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Sleep = time.sleep,
        retry: RetryPolicy = DEFAULT_RETRY,
        allow_loopback: bool = False,
    ) -> None:
        """``allow_loopback``: see ``Transport``. Raises ``AddressRefused`` for a malformed base URL."""
        if not company_id or not api_key:
            raise ValueError("company_id and api_key are required")
        self.company_id = company_id
        self.__api_key = api_key
        self._transport = Learning360V1Transport(
            base_url,
            name="360Learning v1",
            timeout=timeout,
            user_agent=user_agent,
            sleep=sleep,
            retry=retry,
            secrets=(api_key,),
            allow_loopback=allow_loopback,
        )
        self.base_url = self._transport.base_url

    def __repr__(self) -> str:
        return f"<Learning360V1Client {self.base_url} company={self.company_id!r}>"

    def __enter__(self) -> Learning360V1Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    @hide_locals  # the query (apiKey) is in the variables of every frame below
    def path_session_stats(self, session_id: str) -> PathSessionStatsV1:
        """Statistics of one path session: counts per status and one row per learner."""
        check_object_id(session_id, "session_id")
        url = self._transport.url(f"/api/v1/paths/sessions/{quote(session_id, safe='')}/stats")
        # Reference: GET /api/v1/paths/sessions/{sessionId}/stats (seeds/360learning-v1-path-session-stats.txt; no OpenAPI operationId for v1)
        response = self._transport.request(
            "GET",
            url,
            idempotent=True,
            params={"company": self.company_id, "apiKey": self.__api_key},
            headers={"Accept": "application/json"},
        )
        where = self._transport.describe("GET", url)
        return PathSessionStatsV1.from_json(Fields(self._transport.decode_json(response), where), session_id=session_id)
