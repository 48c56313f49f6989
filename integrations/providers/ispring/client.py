"""iSpring Learn client: learners' module results.

Contracts: ``../shared/openapi/ispring-token-api.postman_collection.json`` (token),
``../shared/openapi/ispring-results-api.postman_collection.json`` and
``../shared/openapi/ispring-json-schema/LearnersModulesResultsResponse.json`` (results),
``../shared/seeds/ispring-learn-modules-results.txt`` (filters, XML body).

- Auth: ``POST /api/v3/token`` form-encoded ``client_id``, ``client_secret``,
  ``grant_type=client_credentials``; JSON answer ``{access_token, expires_in, token_type}``.
  Sent as ``Authorization: Bearer <token>`` (the collection's bearer auth). Tokens go
  through a ``TokenStore`` like 360Learning's; a 401 gets one fresh token and one retry.
- ``GET /learners/modules/results``: array filters as ``userIds[]=...`` (repeated),
  date ranges as ``accessDate[startDate]=...``; ``pageSize``/``pageToken`` pagination
  following ``nextPageToken`` until it is absent.
- JSON by default (``Accept: application/json``); ``response_format="xml"`` asks for
  the XML body and parses it with ``defusedxml``: DTDs and entities are refused
  (billion laughs, external entities) with ``BadResponse``. Both give the same records.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from xml.etree.ElementTree import Element, ParseError

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring

from integrations.clients.errors import AuthError, BadResponse
from integrations.clients.parsing import Fields, parse_datetime
from integrations.clients.transport import (
    CredentialsClient,
    Transport,
    hide_locals,
)
from integrations.providers.ispring.vocabulary import COMPLETION_STATUSES

#: userStatuses: 1 active, 3 blocked (the remote default is active users only).
USER_STATUS_ACTIVE = 1
USER_STATUS_BLOCKED = 3
USER_STATUSES = frozenset({USER_STATUS_ACTIVE, USER_STATUS_BLOCKED})
#: Array query parameters are sent as ``name[]`` (seed page); change here if a tenant wants bare names.
ARRAY_SUFFIX = "[]"

ResponseFormat = Literal["json", "xml"]


def _parse_xml(content: bytes, where: str) -> Element:
    """Parse untrusted XML: no DTD, no entities, no external references."""
    try:
        return xml_fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadResponse(f"{where}: XML with a DTD or entities refused (untrusted input)") from None
    except ParseError:
        raise BadResponse(f"{where}: malformed XML body", permanent=False) from None


class ISpringTransport(Transport):
    """iSpring errors are ``{"code": 8150, "message": "..."}`` in JSON or the same fields in XML."""

    def parse_error_body(self, response: requests.Response) -> tuple[str | None, str | None]:
        if "xml" not in response.headers.get("Content-Type", ""):
            return super().parse_error_body(response)
        try:
            root = _parse_xml(response.content, "error body")
        except BadResponse:
            return None, None
        code, message = root.findtext("code"), root.findtext("message")
        return (code or None), (message or None)


class _Values(Protocol):
    """What ``ModuleResult.parse`` reads; implemented for JSON (``Fields``) and XML."""

    def string(self, key: str) -> str: ...
    def opt_string(self, key: str) -> str | None: ...
    def enum(self, key: str, allowed: Collection[str]) -> str: ...
    def opt_integer(self, key: str) -> int | None: ...
    def opt_number(self, key: str) -> float | None: ...
    def boolean(self, key: str) -> bool: ...
    def date_time(self, key: str) -> datetime: ...
    def opt_date_time(self, key: str) -> datetime | None: ...


class XmlFields:
    """Typed access to one XML element's children, the XML twin of ``Fields``.

    XML carries text only: numbers, booleans (``0``/``1`` or ``true``/``false``) and
    dates are converted here so both formats yield equal records.
    """

    __slots__ = ("element", "where")

    def __init__(self, element: Element, where: str) -> None:
        self.element = element
        self.where = where

    def _fail(self, key: str, expected: str) -> BadResponse:
        return BadResponse(f"{self.where}: field {key!r} must be {expected}")

    def _text(self, key: str) -> str | None:
        child = self.element.find(key)
        if child is None or child.text is None or not child.text.strip():
            return None
        return child.text.strip()

    def string(self, key: str) -> str:
        value = self._text(key)
        if value is None:
            raise BadResponse(f"{self.where}: required field {key!r} is missing")
        return value

    def opt_string(self, key: str) -> str | None:
        return self._text(key)

    def enum(self, key: str, allowed: Collection[str]) -> str:
        value = self.string(key)
        if value not in allowed:
            raise self._fail(key, "one of " + ", ".join(sorted(allowed)))
        return value

    def opt_integer(self, key: str) -> int | None:
        value = self._text(key)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise self._fail(key, "an integer") from None

    def opt_number(self, key: str) -> float | None:
        value = self._text(key)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise self._fail(key, "a number") from None

    def boolean(self, key: str) -> bool:
        value = self.string(key).lower()
        if value in ("1", "true"):
            return True
        if value in ("0", "false"):
            return False
        raise self._fail(key, "a boolean")

    def date_time(self, key: str) -> datetime:
        try:
            return parse_datetime(self.string(key))
        except ValueError:
            raise self._fail(key, "an ISO 8601 date-time") from None

    def opt_date_time(self, key: str) -> datetime | None:
        return None if self._text(key) is None else self.date_time(key)


@dataclass(frozen=True, slots=True)
class ModuleResult:
    """One learner's result on one course module (LearnerModuleResult.json).

    ``time_spent`` is in seconds; ``progress`` and scores are floats in both formats.
    """

    user_id: str
    course_id: str
    module_id: str
    module_title: str
    course_item_id: str
    access_date: datetime
    completion_status: str
    is_overdue: bool
    enrollment_id: str | None
    due_date: datetime | None
    expiration_date: datetime | None
    completion_date: datetime | None
    time_spent: int | None
    progress: float | None
    awarded_score: float | None
    passing_score: float | None
    views_count: int | None

    @classmethod
    def parse(cls, f: _Values) -> ModuleResult:
        return cls(
            user_id=f.string("userId"),
            course_id=f.string("courseId"),
            module_id=f.string("moduleId"),
            module_title=f.string("moduleTitle"),
            course_item_id=f.string("courseItemId"),
            access_date=f.date_time("accessDate"),
            completion_status=f.enum("completionStatus", COMPLETION_STATUSES),
            is_overdue=f.boolean("isOverdue"),
            enrollment_id=f.opt_string("enrollmentId"),
            due_date=f.opt_date_time("dueDate"),
            expiration_date=f.opt_date_time("expirationDate"),
            completion_date=f.opt_date_time("completionDate"),
            time_spent=f.opt_integer("timeSpent"),
            progress=f.opt_number("progress"),
            awarded_score=f.opt_number("awardedScore"),
            passing_score=f.opt_number("passingScore"),
            views_count=f.opt_integer("viewsCount"),
        )


def _format_date(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ISpringClient(CredentialsClient):
    """iSpring Learn REST API for one account (one ``client_id``).

    Not thread-safe (one ``requests.Session``). Methods raise ``LmsError`` subclasses;
    invalid arguments raise ``ValueError``/``TypeError`` before anything is sent.
    """

    transport_class = ISpringTransport
    name = "iSpring"
    provider = "ispring"

    @hide_locals
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        response_format: ResponseFormat = "json",
        **options: Any,
    ) -> None:
        if response_format not in ("json", "xml"):
            raise ValueError("response_format must be 'json' or 'xml'")
        super().__init__(base_url, client_id, client_secret, **options)
        self.response_format = response_format

    def __repr__(self) -> str:
        return f"<ISpringClient {self.base_url} client_id={self.client_id!r} format={self.response_format}>"

    def _fetch_token(self, client_secret: str) -> tuple[str, float]:
        # Reference: "Generates a new access token based on client_id and client_secret" (ispring-token-api.postman_collection.json)
        response = self._transport.request(
            "POST",
            self._transport.url("/api/v3/token"),
            idempotent=True,
            data={"client_id": self.client_id, "client_secret": client_secret, "grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        return self._token_from(
            self._transport.decode_json(response), "iSpring POST /api/v3/token", token_type_required=False
        )

    def _send(self, url: str, params: list[tuple[str, str]]) -> requests.Response:
        accept = "application/json" if self.response_format == "json" else "application/xml"
        token = self._tokens.token()
        try:
            return self._transport.request(
                "GET",
                url,
                idempotent=True,
                params=params,
                headers={"Authorization": f"Bearer {token}", "Accept": accept},
            )
        except AuthError as exc:
            if exc.status != 401:
                raise
        token = self._tokens.refresh(token)
        return self._transport.request(
            "GET", url, idempotent=True, params=params, headers={"Authorization": f"Bearer {token}", "Accept": accept}
        )

    def module_results(
        self,
        *,
        user_ids: Iterable[str] = (),
        course_ids: Iterable[str] = (),
        module_ids: Iterable[str] = (),
        course_item_ids: Iterable[str] = (),
        enrollment_ids: Iterable[str] = (),
        department_ids: Iterable[str] = (),
        completion_statuses: Iterable[str] = (),
        user_statuses: Iterable[int] = (),
        access_date_start: datetime | None = None,
        access_date_end: datetime | None = None,
        due_date_start: datetime | None = None,
        due_date_end: datetime | None = None,
        completion_date_start: datetime | None = None,
        completion_date_end: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[ModuleResult]:
        """Learners' module results, page by page (remote default 1,000 a page).

        Every filter of the operation is a keyword argument; empty ones are not sent.
        Raises ``ValueError`` for an unknown completion or user status, a naive datetime
        or a non-positive ``page_size`` (before sending); ``AuthError``,
        ``PermissionDenied``, ``BadRequest``, ``RemoteUnavailable``, ``BadResponse``.
        """
        params: list[tuple[str, str]] = []
        arrays: list[tuple[str, Iterable[Any]]] = [
            ("userIds", user_ids),
            ("courseIds", course_ids),
            ("moduleIds", module_ids),
            ("courseItemIds", course_item_ids),
            ("enrollmentIds", enrollment_ids),
            ("departmentIds", department_ids),
        ]
        for name, values in arrays:
            if isinstance(values, str):
                raise TypeError(f"{name} takes a sequence of ids, not a string")
            params.extend((name + ARRAY_SUFFIX, str(v)) for v in values)
        statuses = list(completion_statuses) if not isinstance(completion_statuses, str) else [completion_statuses]
        if unknown := set(statuses).difference(COMPLETION_STATUSES):
            raise ValueError(f"unknown completion statuses: {', '.join(sorted(unknown))}")
        params.extend(("completionStatuses" + ARRAY_SUFFIX, s) for s in statuses)
        user_status_list = list(user_statuses)
        if unknown_users := set(user_status_list) - USER_STATUSES:
            raise ValueError(f"unknown user statuses: {sorted(unknown_users)}; use 1 (active) or 3 (blocked)")
        params.extend(("userStatuses" + ARRAY_SUFFIX, str(s)) for s in user_status_list)
        for name, start, end in (
            ("accessDate", access_date_start, access_date_end),
            ("dueDate", due_date_start, due_date_end),
            ("completionDate", completion_date_start, completion_date_end),
        ):
            if start is not None:
                params.append((f"{name}[startDate]", _format_date(start)))
            if end is not None:
                params.append((f"{name}[endDate]", _format_date(end)))
        if page_size is not None:
            if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size <= 0:
                raise ValueError("page_size must be a positive integer")
            params.append(("pageSize", str(page_size)))
        return self._paginate(params)

    def _paginate(self, params: list[tuple[str, str]]) -> Iterator[ModuleResult]:
        url = self._transport.url("/learners/modules/results")
        where = self._transport.describe("GET", url)
        parse_page: Callable[[requests.Response], tuple[list[ModuleResult], str | None]] = (
            self._parse_json_page if self.response_format == "json" else self._parse_xml_page
        )
        page_token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            page_params = params if page_token is None else [*params, ("pageToken", page_token)]
            # Reference: "Retrieves a paginated list of results for specific learners in specific modules" (ispring-results-api.postman_collection.json)
            response = self._send(url, page_params)
            records, page_token = parse_page(response)
            del response
            if page_token is not None:
                if page_token in seen_tokens:
                    raise BadResponse(f"{where}: nextPageToken repeats a page already read")
                seen_tokens.add(page_token)
            yield from records
            if page_token is None:
                return

    def _parse_json_page(self, response: requests.Response) -> tuple[list[ModuleResult], str | None]:
        where = self._transport.describe("GET", response.url)
        f = Fields(self._transport.decode_json(response), where)
        records = [ModuleResult.parse(item) for item in f.objects("results")]
        return records, f.opt_string("nextPageToken") or None

    def _parse_xml_page(self, response: requests.Response) -> tuple[list[ModuleResult], str | None]:
        where = self._transport.describe("GET", response.url)
        root = _parse_xml(response.content, where)
        if root.tag != "response":
            raise BadResponse(f"{where}: XML root must be <response>")
        results = root.find("results")
        if results is None:
            raise BadResponse(f"{where}: required element 'results' is missing")
        records = [
            ModuleResult.parse(XmlFields(element, f"{where} result {index}"))
            for index, element in enumerate(results.findall("result"))
        ]
        token = root.findtext("nextPageToken")
        return records, (token.strip() or None) if token else None
