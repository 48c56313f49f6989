"""iSpring Learn client: learners' module results and users.

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
- ``GET /users`` (``../shared/openapi/ispring-users.md``): ``emails[]``/``logins[]`` filters,
  ``pageSize``/``pageToken`` like the results. The summary leaves the body's shape open, so
  the parser accepts (and nothing else: anything unexpected is a ``BadResponse``):

  - JSON: an object with the profiles under ``userProfiles`` (or ``users``, or
    ``userProfile``) and an optional ``nextPageToken``, or a bare list of profiles.
  - XML: ``<response><userProfile>…</userProfile>…<nextPageToken>…</nextPageToken></response>``
    (profiles may also sit in a ``<userProfiles>`` or ``<users>`` wrapper).
  - A profile: ``userId`` (required), ``status`` (an integer, required), ``role``,
    ``departmentId``, ``groups`` (a list of ids; in XML child elements' texts) and ``fields``.
  - ``fields``: an object ``{"email": …}`` or a list of ``{"name": …, "value": …}``; in XML
    child elements named after the field, or ``<field><name>…</name><value>…</value></field>``.
    Field names are case-insensitive (``EMAIL`` = ``email``); ``login``, ``first_name``,
    ``last_name`` and ``email`` become attributes, every other field goes to ``custom_fields``
    (keyed by its name as sent). E-mails are kept exactly as sent (no trimming, no case
    folding): matching people is the caller's business.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, Protocol, TypeVar
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
#: /users statuses: 1 active, 3 inactive (or employment ended, in the first form), 5 employment ended (v2).
USER_PROFILE_STATUSES = frozenset({1, 3, 5})
#: JSON keys the /users profiles may come under (the summary does not name one).
USER_LIST_KEYS = ("userProfiles", "users", "userProfile")
#: The four profile fields that become attributes of ``IspringUser`` (lower-cased names).
USER_NAMED_FIELDS = ("login", "email", "first_name", "last_name")
#: Array query parameters are sent as ``name[]`` (seed page); change here if a tenant wants bare names.
ARRAY_SUFFIX = "[]"

ResponseFormat = Literal["json", "xml"]
T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class IspringUser:
    """One iSpring Learn user profile (``GET /users``); see the module docstring for the shapes read.

    ``status``: 1 active, 3 inactive or employment ended, 5 employment ended (``/users/v2`` only).
    ``custom_fields`` holds every field besides login, e-mail and names, as a read-only mapping.
    """

    user_id: str
    status: int
    role: str | None
    department_id: str | None
    groups: tuple[str, ...]
    login: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    custom_fields: Mapping[str, str]


def _user_fields(pairs: Iterable[tuple[str, str | None]], where: str) -> tuple[dict[str, str | None], dict[str, str]]:
    """Split ``(name, value)`` pairs into the named fields (by lower-cased name) and the custom ones."""
    named: dict[str, str | None] = dict.fromkeys(USER_NAMED_FIELDS)
    custom: dict[str, str] = {}
    for name, value in pairs:
        if not name:
            raise BadResponse(f"{where}: a field without a name")
        if name.lower() in named:
            named[name.lower()] = value
        elif value is not None:
            custom[name] = value
    return named, custom


def _user(
    *,
    user_id: str,
    status: int,
    role: str | None,
    department_id: str | None,
    groups: tuple[str, ...],
    fields: tuple[dict[str, str | None], dict[str, str]],
    where: str,
) -> IspringUser:
    if status not in USER_PROFILE_STATUSES:
        raise BadResponse(f"{where}: field 'status' must be one of 1, 3, 5")
    named, custom = fields
    return IspringUser(
        user_id=user_id,
        status=status,
        role=role,
        department_id=department_id,
        groups=groups,
        login=named["login"],
        email=named["email"],
        first_name=named["first_name"],
        last_name=named["last_name"],
        custom_fields=MappingProxyType(custom),
    )


def _json_scalar(value: Any, where: str, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadResponse(f"{where}: field {name!r} must be text")
    return str(value)


def _json_user(data: Any, where: str) -> IspringUser:
    f = Fields(data, where)
    raw_fields = f.data.get("fields")
    pairs: list[tuple[str, str | None]] = []
    if isinstance(raw_fields, dict):
        pairs = [(str(name), _json_scalar(value, where, str(name))) for name, value in raw_fields.items()]
    elif isinstance(raw_fields, list):
        for index, item in enumerate(raw_fields):
            field = Fields(item, f"{where} field {index}")
            name = field.string("name")
            pairs.append((name, _json_scalar(field.data.get("value"), where, name)))
    elif raw_fields is not None:
        raise BadResponse(f"{where}: field 'fields' must be an object or a list of name/value pairs")
    groups = f.data.get("groups")
    if groups is None:
        group_ids: tuple[str, ...] = ()
    elif isinstance(groups, list) and all(isinstance(g, str | int) and not isinstance(g, bool) for g in groups):
        group_ids = tuple(str(g) for g in groups)
    else:
        raise BadResponse(f"{where}: field 'groups' must be a list of ids")
    status = f.data.get("status")
    if isinstance(status, str) and status.strip().isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int):
        raise BadResponse(f"{where}: field 'status' must be an integer")
    return _user(
        user_id=f.string("userId"),
        status=status,
        role=_json_scalar(f.data.get("role"), where, "role"),
        department_id=_json_scalar(f.data.get("departmentId"), where, "departmentId"),
        groups=group_ids,
        fields=_user_fields(pairs, where),
        where=where,
    )


def _xml_text(element: Element | None) -> str | None:
    if element is None or element.text is None or not element.text.strip():
        return None
    return element.text.strip()


def _xml_value(element: Element | None) -> str | None:
    """A field's value as sent, surrounding spaces included (as JSON keeps them); None when blank."""
    if element is None or element.text is None or not element.text.strip():
        return None
    return element.text


def _xml_user(element: Element, where: str) -> IspringUser:
    x = XmlFields(element, where)
    pairs: list[tuple[str, str | None]] = []
    fields = element.find("fields")
    if fields is not None:
        for child in fields:
            if child.tag == "field":
                name = _xml_text(child.find("name"))
                if name is None:
                    raise BadResponse(f"{where}: a <field> without a <name>")
                pairs.append((name, _xml_value(child.find("value"))))
            else:
                pairs.append((child.tag, _xml_value(child)))
    groups = element.find("groups")
    group_ids = () if groups is None else tuple(t for t in (_xml_text(g) for g in groups) if t)
    status = x.opt_integer("status")
    if status is None:
        raise BadResponse(f"{where}: required field 'status' is missing")
    return _user(
        user_id=x.string("userId"),
        status=status,
        role=x.opt_string("role"),
        department_id=x.opt_string("departmentId"),
        groups=group_ids,
        fields=_user_fields(pairs, where),
        where=where,
    )


def _array_params(arrays: Iterable[tuple[str, Iterable[Any] | None]]) -> list[tuple[str, str]]:
    """``name[]=value`` parameters, one per value; ``TypeError`` for a bare string (it would be
    sent a character at a time)."""
    params: list[tuple[str, str]] = []
    for name, values in arrays:
        if isinstance(values, str):
            raise TypeError(f"{name} takes a sequence of values, not a string")
        params.extend((name + ARRAY_SUFFIX, str(v)) for v in values or ())
    return params


def _page_size_params(page_size: int | None) -> list[tuple[str, str]]:
    """``pageSize`` when one is asked for; ``ValueError`` unless it is a positive integer."""
    if page_size is None:
        return []
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size <= 0:
        raise ValueError("page_size must be a positive integer")
    return [("pageSize", str(page_size))]


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

    def _send(
        self, url: str, params: list[tuple[str, str]], response_format: ResponseFormat | None = None
    ) -> requests.Response:
        accept = "application/json" if (response_format or self.response_format) == "json" else "application/xml"
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
        params = _array_params(
            [
                ("userIds", user_ids),
                ("courseIds", course_ids),
                ("moduleIds", module_ids),
                ("courseItemIds", course_item_ids),
                ("enrollmentIds", enrollment_ids),
                ("departmentIds", department_ids),
            ]
        )
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
        params += _page_size_params(page_size)
        parse_page = self._parse_json_page if self.response_format == "json" else self._parse_xml_page
        return self._paginate("/learners/modules/results", params, parse_page)

    def users(
        self,
        *,
        emails: Iterable[str] | None = None,
        logins: Iterable[str] | None = None,
        page_size: int | None = None,
        response_format: ResponseFormat | None = None,
    ) -> Iterator[IspringUser]:
        """User profiles (``GET /users``), page by page (remote default 1,000 a page).

        ``emails``/``logins`` restrict the listing (sent as ``emails[]``/``logins[]``);
        ``response_format`` overrides the client's for this listing. Raises ``ValueError``
        for a non-positive ``page_size`` or an unknown format, ``TypeError`` for a bare string
        filter (before sending); ``AuthError``, ``PermissionDenied``, ``BadRequest``,
        ``RemoteUnavailable``, ``BadResponse``.
        """
        fmt = response_format or self.response_format
        if fmt not in ("json", "xml"):
            raise ValueError("response_format must be 'json' or 'xml'")
        params = _array_params([("emails", emails), ("logins", logins)]) + _page_size_params(page_size)
        parse_page = self._parse_json_users if fmt == "json" else self._parse_xml_users
        return self._paginate("/users", params, parse_page, fmt)

    def _paginate(
        self,
        path: str,
        params: list[tuple[str, str]],
        parse_page: Callable[[requests.Response], tuple[list[T], str | None]],
        response_format: ResponseFormat | None = None,
    ) -> Iterator[T]:
        url = self._transport.url(path)
        where = self._transport.describe("GET", url)
        page_token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            page_params = params if page_token is None else [*params, ("pageToken", page_token)]
            # Reference: "Retrieves a paginated list of results for specific learners in specific modules" (ispring-results-api.postman_collection.json)
            response = self._send(url, page_params, response_format)
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

    def _parse_json_users(self, response: requests.Response) -> tuple[list[IspringUser], str | None]:
        where = self._transport.describe("GET", response.url)
        data = self._transport.decode_json(response)
        token: str | None = None
        if isinstance(data, dict):
            key = next((k for k in USER_LIST_KEYS if k in data), None)
            if key is None:
                raise BadResponse(f"{where}: no user profiles ({', '.join(USER_LIST_KEYS)}) in the body")
            items = data[key]
            token = Fields(data, where).opt_string("nextPageToken") or None
        else:
            items = data
        if not isinstance(items, list):
            raise BadResponse(f"{where}: user profiles must be a list, got {type(items).__name__}")
        return [_json_user(item, f"{where} user {index}") for index, item in enumerate(items)], token

    def _parse_xml_users(self, response: requests.Response) -> tuple[list[IspringUser], str | None]:
        where = self._transport.describe("GET", response.url)
        root = _parse_xml(response.content, where)
        if root.tag != "response":
            raise BadResponse(f"{where}: XML root must be <response>")
        profiles = root.findall("userProfile")
        for wrapper in ("userProfiles", "users"):
            element = root.find(wrapper)
            if element is not None:
                profiles += [child for child in element if child.tag in ("userProfile", "user")]
        users = [_xml_user(element, f"{where} user {index}") for index, element in enumerate(profiles)]
        token = root.findtext("nextPageToken")
        return users, (token.strip() or None) if token else None
