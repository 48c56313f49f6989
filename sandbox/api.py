"""Plumbing of the fake remote APIs: routing by method, who is calling, fault knobs, request log,
authentication, spec validation of request bodies, bracket filters, keyset pagination and the
vendors' error bodies. Views stay small: they receive a ``Call`` and return a response.

Every call goes through ``_serve``:
identify the client → fault knobs → (360 v2) version header, token, scope, body → handler → log.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from lms_admin.roles import public
from sandbox import constants as c, errors, faults, request_log, spec, tenants
from sandbox.models import AccessToken, Tenant

Handler = Callable[..., HttpResponse]


@dataclass
class Call:
    """One request to the sandbox, as the pipeline learns about it."""

    request: HttpRequest
    api: str
    method: str
    vendor_path: str
    raw_body: bytes
    template: str | None = None
    operation: dict[str, Any] | None = None
    tenant: Tenant | None = None
    client_id: str = ""
    token: AccessToken | None = None
    body: Any = None
    fault: str = ""
    fail_bulk: bool = False
    bulk_operation_oid: str = ""


class ApiError(Exception):
    """An answer other than success, already in the vendor's shape."""

    def __init__(
        self,
        status: int,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content = content
        self.content_type = content_type

    def response(self) -> HttpResponse:
        if self.content is not None:
            response = HttpResponse(self.content, status=self.status, content_type=self.content_type)
        else:
            response = JsonResponse(self.body, status=self.status, safe=False)
        for key, value in self.headers.items():
            response[key] = value
        return response


def error_body(code: str, message: str) -> dict[str, Any]:
    """The documents' usual error shape: ``{"error": {"code", "message"}}``."""
    return {"error": {"code": code, "message": message}}


def json_response(data: Any, *, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def from_service(error: errors.SandboxError) -> ApiError:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
    return ApiError(error.status, error_body(error.code, error.message), headers=headers)


# --- routing ------------------------------------------------------------------------------------
def _mounted(view: Handler) -> Handler:
    # The sandbox has its own credentials: no login, no CSRF (clients are not browsers).
    return public(csrf_exempt(view))


def _vendor_path(request: HttpRequest, prefix: str) -> str:
    """The path as the vendor spells it: ``/sandbox/360/api/v2/users`` → ``/api/v2/users``."""
    path = request.path_info
    return path[len(prefix) :] if path.startswith(prefix) else path


def route_360(template: str, **handlers: Handler) -> Handler:
    """A view for one documented 360Learning v2 path, dispatching on the HTTP method.

    Each method must be documented for ``template``: a typo fails at import time.
    """
    operations = {method: spec.operation(method, template) for method in handlers}

    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        handler = handlers.get(request.method or "")
        if handler is None:
            return HttpResponseNotAllowed(list(handlers))
        call = Call(
            request=request,
            api=c.API_360,
            method=request.method,
            vendor_path=_vendor_path(request, c.URL_PREFIX_360),
            raw_body=request.body,
            template=template,
            operation=operations[request.method],
        )
        token_endpoint = template == "/api/v2/oauth2/token"
        return _serve(
            call,
            _identify_360_body if token_endpoint else _identify_360_bearer,
            lambda: _run_360(call, handler, kwargs),
        )

    return _mounted(view)


def route_v1(handler: Handler) -> Handler:
    """A view for a 360Learning API v1 GET endpoint (``company`` + ``apiKey`` in the query)."""

    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        call = Call(
            request=request,
            api=c.API_360,
            method="GET",
            vendor_path=_vendor_path(request, c.URL_PREFIX_360),
            raw_body=request.body,
        )
        return _serve(call, _identify_v1, lambda: handler(call, **kwargs))

    return _mounted(view)


def route_ispring(method: str, handler: Handler, *, token_endpoint: bool = False) -> Handler:
    """A view for one iSpring Learn endpoint."""

    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.method != method:
            return HttpResponseNotAllowed([method])
        call = Call(
            request=request,
            api=c.API_ISPRING,
            method=method,
            vendor_path=_vendor_path(request, c.URL_PREFIX_ISPRING),
            raw_body=request.body,
        )
        identify = _identify_ispring_form if token_endpoint else _identify_ispring_bearer

        def run() -> HttpResponse:
            if not token_endpoint:
                authenticate_ispring(call)
            return handler(call, **kwargs)

        return _serve(call, identify, run)

    return _mounted(view)


# --- who is calling -----------------------------------------------------------------------------
def bearer(request: HttpRequest) -> str:
    """The token in ``Authorization`` (``Bearer x``; iSpring's page also shows the bare token)."""
    header = request.headers.get("Authorization", "").strip()
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return header


def _identify_360_bearer(call: Call) -> None:
    token = tenants.token_find(raw=bearer(call.request), api=c.API_360)
    if token is not None:
        call.token, call.tenant, call.client_id = token, token.tenant, token.client_id


def _identify_360_body(call: Call) -> None:
    try:
        body = json.loads(call.raw_body or b"null")
    except ValueError:
        return
    if isinstance(body, dict) and isinstance(body.get("client_id"), str):
        call.client_id = body["client_id"]


def _identify_v1(call: Call) -> None:
    api_key = call.request.GET.get("apiKey", "")
    tenant = Tenant.objects.filter(api_key=api_key).first() if api_key else None
    if tenant is not None:
        call.tenant, call.client_id = tenant, tenant.client_id


def _identify_ispring_bearer(call: Call) -> None:
    token = tenants.token_find(raw=bearer(call.request), api=c.API_ISPRING)
    if token is not None:
        call.token, call.tenant, call.client_id = token, token.tenant, token.client_id


def _identify_ispring_form(call: Call) -> None:
    call.client_id = call.request.POST.get("client_id", "")


# --- the pipeline -------------------------------------------------------------------------------
def _serve(call: Call, identify: Callable[[Call], None], run: Callable[[], HttpResponse]) -> HttpResponse:
    try:
        identify(call)
        response = _fault(call) or run()
    except ApiError as error:
        response = error.response()
    except errors.SandboxError as error:
        response = from_service(error).response()
    request_log.request_log_record(
        api=call.api,
        method=call.method,
        path=call.vendor_path,
        query=call.request.META.get("QUERY_STRING", ""),
        client_id=call.client_id,
        status=response.status_code,
        body=call.raw_body,
        fault=call.fault,
        bulk_operation_oid=call.bulk_operation_oid,
    )
    return response


def _is_bulk_write(call: Call) -> bool:
    return bool(
        call.template
        and call.template.startswith("/api/v2/bulk/integrations/")
        and call.method in ("PUT", "POST", "DELETE")
    )


def _fault(call: Call) -> HttpResponse | None:
    kinds = [c.FAULT_RATE_LIMIT, c.FAULT_SERVER_ERROR, c.FAULT_SLOW, c.FAULT_MALFORMED_BODY]
    if call.token is not None:
        kinds.append(c.FAULT_EXPIRED_TOKEN)
    if _is_bulk_write(call):
        kinds.append(c.FAULT_BULK_ERROR)
    rule = faults.fault_consume(client_id=call.client_id, method=call.method, path=call.vendor_path, kinds=kinds)
    if rule is None:
        return None
    call.fault = rule.kind
    if rule.kind == c.FAULT_SLOW:
        time.sleep(rule.delay_seconds)
        return None
    if rule.kind == c.FAULT_BULK_ERROR:
        call.fail_bulk = True
        return None
    if rule.kind == c.FAULT_RATE_LIMIT:
        raise ApiError(
            429, _rate_limit_body(call), headers={"Retry-After": str(rule.retry_after or c.RETRY_AFTER_SECONDS)}
        )
    if rule.kind == c.FAULT_EXPIRED_TOKEN:
        tenants.token_expire(token=call.token)
        raise _unauthorized(call)
    if rule.kind == c.FAULT_MALFORMED_BODY:
        xml = call.api == c.API_ISPRING and not wants_json(call.request)
        body = c.MALFORMED_XML_BODY if xml else c.MALFORMED_JSON_BODY
        return HttpResponse(
            body, status=200, content_type="application/xml; charset=utf-8" if xml else "application/json"
        )
    return _server_error(call, rule.status or 503, rule.retry_after).response()


def _rate_limit_body(call: Call) -> Any:
    if call.api == c.API_ISPRING:
        return {"code": 429, "message": "Too many requests."}
    if call.operation is None:  # v1
        return {"error": "too_many_requests"}
    # The body the operation documents for 429: most say tooManyRequests, bulk writes only
    # document the concurrency limit.
    schema = (
        call.operation.get("responses", {})
        .get("429", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
    )
    error = schema.get("properties", {}).get("error", {})
    if error.get("type") == "object":
        code = error["properties"]["code"]["enum"][0]
        return error_body(code, "Too many requests; retry after the delay in Retry-After.")
    return {"error": c.ERROR_TOO_MANY_REQUESTS}


_GATEWAY_PAGES = {
    502: b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
    503: b"<html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1></body></html>",
    504: b"<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>",
}


def _server_error(call: Call, status: int, retry_after: int | None) -> ApiError:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if status == 503 and _is_bulk_write(call):
        return ApiError(
            503, error_body(c.ERROR_BULK_API_DISABLED, "The bulk API is temporarily disabled."), headers=headers
        )
    if status == 500:
        body = (
            {"code": 500, "message": "Internal server error."}
            if call.api == c.API_ISPRING
            else error_body("internalServerError", "Internal server error.")
        )
        return ApiError(500, body, headers=headers)
    # 502, 503 and 504 come from the load balancer in front of the API: HTML, not JSON.
    return ApiError(status, None, headers=headers, content=_GATEWAY_PAGES[status], content_type="text/html")


def _unauthorized(call: Call) -> ApiError:
    if call.api == c.API_ISPRING:
        return ispring_error(call, 401, "Access token is missing, invalid or expired.")
    return ApiError(401, {"error": c.ERROR_INVALID_TOKEN})


def _run_360(call: Call, handler: Handler, kwargs: dict[str, Any]) -> HttpResponse:
    op = call.operation or {}
    if spec.requires_api_version_header(op):
        version = call.request.headers.get(c.API_VERSION_HEADER)
        if version != c.API_VERSION:
            message = f"The {c.API_VERSION_HEADER} header is required and must be {c.API_VERSION!r}" + (
                f", not {version!r}." if version else "."
            )
            raise ApiError(400, error_body(c.ERROR_INVALID_API_VERSION, message))
    if op.get("security"):
        if call.token is None or call.token.expires_at <= timezone.now():
            raise ApiError(401, {"error": c.ERROR_INVALID_TOKEN})
        scope = spec.operation_scope(op)
        granted = call.tenant.scopes if call.tenant else []
        if scope and granted and scope not in granted:
            raise ApiError(403, error_body(c.ERROR_INVALID_SCOPE, f"This token lacks the {scope} scope."))
    if "requestBody" in op and call.template != "/api/v2/oauth2/token":
        call.body = _validated_body(call)
    return handler(call, **kwargs)


def _validated_body(call: Call) -> Any:
    try:
        body = json.loads(call.raw_body) if call.raw_body else None
    except ValueError:
        raise ApiError(400, error_body(c.ERROR_INVALID_INPUT, "The request body is not valid JSON.")) from None
    limit = spec.request_max_items(call.method, call.template or "")
    if limit is not None:
        # The bulk documents give size and shape problems codes of their own.
        if not isinstance(body, dict) or not isinstance(body.get("input"), list):
            raise ApiError(400, error_body(c.ERROR_INVALID_INPUT, "The input of a bulk operation must be an array."))
        if len(body["input"]) > limit:
            raise ApiError(
                400,
                error_body(
                    c.ERROR_INPUT_TOO_LONG,
                    f"The input array has {len(body['input'])} objects; the maximum is {limit:,}.",
                ),
            )
    errors = spec.request_errors(call.method, call.template or "", body)
    if errors:
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise ApiError(400, error_body(c.ERROR_INVALID_INPUT, f"The request body does not match the schema: {shown}"))
    return body


# --- iSpring helpers ----------------------------------------------------------------------------
def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def ispring_error(call: Call, status: int, message: str, *, code: int = c.ISPRING_RESULTS_ERROR_CODE) -> ApiError:
    from sandbox.serializers import ispring_error_xml

    if wants_json(call.request):
        return ApiError(status, {"code": code, "message": message})
    return ApiError(
        status, None, content=ispring_error_xml(code, message), content_type="application/xml; charset=utf-8"
    )


def authenticate_ispring(call: Call) -> None:
    if call.token is None or call.token.expires_at <= timezone.now():
        raise _unauthorized(call)


# --- bracket filters ----------------------------------------------------------------------------
_BRACKET = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_]*)\[(?P<op>[a-z]+)\](?:\[\])?$")


@dataclass(frozen=True)
class FilterField:
    """How a documented filter maps onto the ORM: ``lookup`` path and value ``kind``."""

    lookup: str
    kind: str = "str"  # str | date | bool | json-list


def apply_filters(call: Call, queryset: QuerySet, fields: dict[str, FilterField]) -> QuerySet:
    """Narrow ``queryset`` by the bracket filters in the query string, as the operation lists them.

    Operators and operand formats come from the operation's ``deepObject`` parameters; a
    filter or operator the operation does not list is refused with 400 invalidQuery rather
    than ignored, so a client never believes a filter it sent was applied.
    """
    documented = spec.operation_filters(call.operation or {})
    missing = set(documented) - set(fields)
    if missing:  # a programming error: every documented filter must be mapped
        raise RuntimeError(f"unmapped filters for {call.template}: {sorted(missing)}")
    query = call.request.GET
    for key in query:
        match = _BRACKET.match(key)
        if match is None:
            if key in documented:
                raise _bad_query(f"Use bracket notation for {key!r}, e.g. {key}[{next(iter(documented[key]))}]=….")
            continue
        name, operator = match["field"], match["op"]
        if name not in documented or operator not in documented[name]:
            allowed = ", ".join(f"{f}[{o}]" for f, ops in documented.items() for o in ops) or "none"
            raise _bad_query(f"{key!r} is not a filter of this endpoint (filters: {allowed}).")
        schema = documented[name][operator]
        raw_values = query.getlist(key)
        if schema.get("type") == "array":
            value: Any = [part for raw in raw_values for part in raw.split(",") if part]
        elif len(raw_values) > 1:
            raise _bad_query(f"{key!r} takes one value.")
        else:
            value = raw_values[0]
            if schema.get("type") == "boolean":
                value = {"true": True, "false": False}.get(value, value)
        errors = spec.value_errors(schema, value)
        if errors:
            raise _bad_query(f"{key}: {'; '.join(e.split(': ', 1)[-1] for e in errors)}")
        queryset = _narrow(queryset, fields[name], operator, value)
    return queryset


def _narrow(queryset: QuerySet, target: FilterField, operator: str, value: Any) -> QuerySet:
    if target.kind == "date":
        # "The milliseconds are always set to 0."
        value = errors.parse_datetime(value).replace(microsecond=0)
    if target.kind == "json-list":
        condition = Q()
        for item in value if isinstance(value, list) else [value]:
            condition |= Q(**{f"{target.lookup}__icontains": json.dumps(item)})
        return queryset.filter(condition)
    lookups = {"eq": "exact", "ne": "exact", "in": "in", "nin": "in", "lt": "lt", "gte": "gte"}
    condition = Q(**{f"{target.lookup}__{lookups[operator]}": value})
    return queryset.exclude(condition) if operator in ("ne", "nin") else queryset.filter(condition)


def _bad_query(message: str) -> ApiError:
    return ApiError(400, error_body(c.ERROR_INVALID_QUERY, message))


# --- keyset pagination --------------------------------------------------------------------------
def _cursor_encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"after:{pk}".encode()).decode().rstrip("=")


def _cursor_decode(raw: str) -> int:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "after":
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _bad_query("The cursor is not one this server issued; follow the Link header.") from None


def next_url(request: HttpRequest, *, param: str, token: str) -> str:
    query = request.GET.copy()
    query[param] = token
    return request.build_absolute_uri(request.path) + "?" + query.urlencode(safe="[]")


def page(
    call: Call, queryset: QuerySet, *, page_size: int | None = None, cursor_param: str = "cursor"
) -> tuple[list[Any], str | None]:
    """One page of ``queryset`` in primary key order after the cursor, and the next cursor."""
    size = page_size or spec.operation_page_size(call.operation or {}) or 100
    raw = call.request.GET.get(cursor_param)
    if raw:
        queryset = queryset.filter(pk__gt=_cursor_decode(raw))
    rows = list(queryset.order_by("pk")[: size + 1])
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    last = rows[-1]
    return rows, _cursor_encode(last["pk"] if isinstance(last, dict) else last.pk)


def paginated_response(call: Call, queryset: QuerySet, serialize: Callable[[Any], Any]) -> JsonResponse:
    """A documented list page: JSON array plus ``Link: <url>; rel="next"`` only when more exist."""
    rows, cursor = page(call, queryset)
    response = json_response([serialize(row) for row in rows])
    if cursor:
        response["Link"] = f'<{next_url(call.request, param="cursor", token=cursor)}>; rel="next"'
    return response


def decode_page_token(call: Call, raw: str) -> int:
    try:
        return _cursor_decode(raw)
    except ApiError:
        raise ispring_error(call, 400, "pageToken is not valid.") from None


def encode_page_token(pk: int) -> str:
    return _cursor_encode(pk)


def parse_query_datetime(value: str) -> datetime | None:
    """A date-time from a query string, or None when it is not one."""
    if spec.value_errors({"type": "string", "format": "date-time"}, value):
        return None
    return errors.parse_datetime(value)
