"""The vendors' API contracts, read from the documents shipped in ``sandbox/openapi/``.

360Learning publishes OpenAPI 3.1 documents (JSON Schema 2020-12) for its Core and Bulk APIs;
iSpring Learn publishes draft-07 JSON schemas for its results. Both the sandbox (to check what
it receives and what it answers) and the tests (to check both directions of every exchange)
validate against these files, never against hand-written copies of them.

Public API:

- ``find_operation(method, concrete_path) -> (path_template, operation)``
- ``operation(method, path_template) -> dict``
- ``request_errors(method, path_template, body) -> list[str]``
- ``response_errors(method, path_template, status, body) -> list[str]``
- ``ispring_response_errors(body) -> list[str]`` (LearnersModulesResultsResponse)
- ``ispring_schema_errors(schema_name, body) -> list[str]``
- helpers reading what the documents say in prose or parameters: ``operation_scope``,
  ``operation_page_size``, ``operation_filters``, ``requires_api_version_header``.

Documents are loaded once per process (``functools.cache``); validators are cached per schema.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

OPENAPI_DIR = Path(__file__).resolve().parent / "openapi"
ISPRING_SCHEMA_DIR = OPENAPI_DIR / "ispring"
CORE_DOCUMENT = "360learning-core-api.json"
BULK_DOCUMENT = "360learning-bulk-api.json"
DOCUMENTS = (CORE_DOCUMENT, BULK_DOCUMENT)

_DOCUMENT_URIS = {
    CORE_DOCUMENT: "urn:360learning:core-api",
    BULK_DOCUMENT: "urn:360learning:bulk-api",
}
_ISPRING_URI = "urn:ispring:learn-schemas"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

API_VERSION_HEADER = "360-api-version"


class UnknownOperation(LookupError):
    """No operation in the 360Learning documents matches the method and path."""


# --- formats ----------------------------------------------------------------------------------
# jsonschema only checks "date-time" when an optional RFC 3339 package is installed; the
# contracts lean on dates and ids, so the checks are spelled out here.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_OBJECT_ID = re.compile(r"^[a-fA-F0-9]{24}$")

FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))  # ranges (month 13, …)
    return True


# iSpring's schemas spell the same format "datetime".
FORMAT_CHECKER.checks("datetime", raises=ValueError)(_is_date_time)


@FORMAT_CHECKER.checks("ObjectId")
def _is_object_id(value: object) -> bool:
    return not isinstance(value, str) or bool(_OBJECT_ID.match(value))


@FORMAT_CHECKER.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return str(uuid.UUID(value)) == value.lower()


# --- documents --------------------------------------------------------------------------------
@cache
def document(name: str) -> dict[str, Any]:
    """One 360Learning OpenAPI document (``CORE_DOCUMENT`` or ``BULK_DOCUMENT``), parsed once."""
    with (OPENAPI_DIR / name).open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _registry() -> Registry:
    resources = [(_DOCUMENT_URIS[name], DRAFT202012.create_resource(document(name))) for name in DOCUMENTS]
    resources.append((_ISPRING_URI, Resource(contents=_ispring_document(), specification=DRAFT7)))
    return Registry().with_resources(resources)


@cache
def _ispring_document() -> dict[str, Any]:
    # The iSpring files refer to each other as "#/components/schemas/<title>": gather them under
    # that layout so the references resolve as written.
    schemas = {}
    for path in sorted(ISPRING_SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schema.pop("$schema", None)
        schemas[schema.get("title") or path.stem] = schema
    return {"components": {"schemas": schemas}}


@cache
def _templates() -> list[tuple[re.Pattern[str], str, str, int]]:
    """(regex, template, document name, number of path parameters) for every documented path."""
    found = []
    for name in DOCUMENTS:
        for template in document(name)["paths"]:
            params = re.findall(r"\{[^}/]+\}", template)
            pattern = re.escape(template)
            for param in params:
                pattern = pattern.replace(re.escape(param), r"[^/]+")
            found.append((re.compile(f"^{pattern}$"), template, name, len(params)))
    # Literal segments win over parameters: /api/v2/paths/sessions is not /api/v2/paths/{pathId}.
    found.sort(key=lambda item: (item[3], item[1]))
    return found


def _locate(method: str, path_template: str) -> tuple[str, dict[str, Any]]:
    method = method.lower()
    for name in DOCUMENTS:
        item = document(name)["paths"].get(path_template)
        if item and method in item:
            return name, item[method]
    raise UnknownOperation(f"{method.upper()} {path_template} is not in the 360Learning documents")


def operation(method: str, path_template: str) -> dict[str, Any]:
    """The OpenAPI operation object for ``method`` on ``path_template``.

    Raises ``UnknownOperation`` when the documents do not describe it.
    """
    return _locate(method, path_template)[1]


def _vendor_path(concrete_path: str) -> str:
    # Accept full URLs and paths under a mount point (the sandbox serves /sandbox/360/api/v2/…).
    path = concrete_path.split("?", 1)[0].split("#", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
    index = path.find("/api/")
    if index > 0:
        path = path[index:]
    if len(path) > 1:
        path = path.rstrip("/")
    return path


def find_operation(method: str, concrete_path: str) -> tuple[str, dict[str, Any]]:
    """The path template and operation that a concrete request path matches.

    ``concrete_path`` may be a full URL or carry a prefix before ``/api/`` (a mount point);
    the query string is ignored. Raises ``UnknownOperation`` when nothing matches.
    """
    method = method.lower()
    path = _vendor_path(concrete_path)
    path_exists = False
    for pattern, template, name, _ in _templates():
        if pattern.match(path):
            path_exists = True
            item = document(name)["paths"][template]
            if method in item:
                return template, item[method]
    detail = "method not documented for this path" if path_exists else "no such path"
    raise UnknownOperation(f"{method.upper()} {path}: {detail}")


# --- validation -------------------------------------------------------------------------------
def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


class _Cyclic(Exception):
    pass


def _inline(document_name: str, node: Any, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with local $refs replaced by their targets (raises _Cyclic on a cycle)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                raise _Cyclic(ref)
            target = _inline(document_name, _dereference(document_name, {"$ref": ref}), (*seen, ref))
            return {**target, **{k: _inline(document_name, v, seen) for k, v in node.items() if k != "$ref"}}
        return {k: _inline(document_name, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(document_name, v, seen) for v in node]
    return node


@cache
def _validator_360(document_name: str, pointer: str) -> Draft202012Validator:
    target: Any = document(document_name)
    for part in pointer.split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    try:
        # Inlined references validate about twice as fast: a 10,000-record bulk body is checked
        # on every call.
        return Draft202012Validator(_inline(document_name, target), format_checker=FORMAT_CHECKER)
    except _Cyclic:
        # Validate through a $ref into the whole document so "#/components/…" resolves from its root.
        ref = {"$ref": f"{_DOCUMENT_URIS[document_name]}#/{pointer}"}
        return Draft202012Validator(ref, registry=_registry(), format_checker=FORMAT_CHECKER)


@cache
def _validator_ispring(schema_name: str) -> Draft7Validator:
    if schema_name not in _ispring_document()["components"]["schemas"]:
        raise KeyError(f"no iSpring schema named {schema_name!r}")
    ref = {"$ref": f"{_ISPRING_URI}#/components/schemas/{schema_name}"}
    return Draft7Validator(ref, registry=_registry(), format_checker=FORMAT_CHECKER)


def _messages(errors: list[ValidationError]) -> list[str]:
    messages = []
    for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        message = f"{error.json_path}: {error.message}"
        if error.context:  # oneOf/anyOf: say why the closest branch failed
            best = best_match(error.context)
            message += f" ({best.json_path}: {best.message})"
        messages.append(message)
    return messages


def request_errors(method: str, path_template: str, body: Any) -> list[str]:
    """Why a JSON request ``body`` breaks the operation's requestBody schema ([] when valid).

    ``body`` is the decoded JSON (``None`` for no body). Raises ``UnknownOperation``.
    """
    document_name, op = _locate(method, path_template)
    request_body = op.get("requestBody")
    if request_body is None:
        return [] if body is None else [f"{method.upper()} {path_template} takes no request body"]
    if body is None:
        return ["a request body is required"] if request_body.get("required") else []
    if "application/json" not in request_body.get("content", {}):
        return [f"{method.upper()} {path_template} does not take a JSON body"]
    pointer = _pointer(
        "paths",
        path_template,
        method.lower(),
        "requestBody",
        "content",
        "application/json",
        "schema",
    )
    return _messages(list(_validator_360(document_name, pointer).iter_errors(body)))


def response_errors(method: str, path_template: str, status: int, body: Any) -> list[str]:
    """Why a decoded JSON response ``body`` breaks the schema documented for ``status``.

    An undocumented status is an error; so is a body where the document describes none
    (e.g. 202 and 204). Raises ``UnknownOperation``.
    """
    document_name, op = _locate(method, path_template)
    responses = op.get("responses", {})
    key = next(
        (k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses),
        None,
    )
    if key is None:
        return [f"status {status} is not documented for {method.upper()} {path_template}"]
    content = responses[key].get("content") or {}
    if "application/json" not in content:
        if body in (None, b"", ""):
            return []
        return [f"status {status} of {method.upper()} {path_template} is documented without a body"]
    pointer = _pointer(
        "paths",
        path_template,
        method.lower(),
        "responses",
        key,
        "content",
        "application/json",
        "schema",
    )
    return _messages(list(_validator_360(document_name, pointer).iter_errors(body)))


def ispring_schema_errors(schema_name: str, body: Any) -> list[str]:
    """Why ``body`` breaks the iSpring JSON schema titled ``schema_name`` ([] when valid)."""
    return _messages(list(_validator_ispring(schema_name).iter_errors(body)))


def ispring_response_errors(body: Any) -> list[str]:
    """Why a decoded ``GET /learners/modules/results`` JSON body breaks LearnersModulesResultsResponse."""
    return ispring_schema_errors("LearnersModulesResultsResponse", body)


# --- what the documents say about an operation ------------------------------------------------
_SCOPE = re.compile(r"Required OAuth scope: `([^`]+)`")
_PAGE_SIZE = re.compile(r"paginated with a page size of ([\d,]+)")


def operation_scope(op: dict[str, Any]) -> str | None:
    """The OAuth scope the operation's description requires (e.g. ``courseStats:read``)."""
    match = _SCOPE.search(op.get("description", ""))
    return match.group(1) if match else None


def operation_page_size(op: dict[str, Any]) -> int | None:
    """The page size the operation's description states, or None for unpaginated operations."""
    match = _PAGE_SIZE.search(op.get("description", ""))
    return int(match.group(1).replace(",", "")) if match else None


def requires_api_version_header(op: dict[str, Any]) -> bool:
    """True when the operation lists the ``360-api-version`` header as required."""
    return any(
        p.get("in") == "header" and p.get("name") == API_VERSION_HEADER and p.get("required")
        for p in op.get("parameters", [])
    )


def operation_filters(op: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The bracket filters an operation accepts: ``{field: {operator: value schema}}``.

    Read from the operation's ``deepObject`` query parameters, e.g.
    ``{"courseId": {"eq": {...}, "in": {"type": "array", ...}}, "completedAt": {"gte": {...}}}``.
    """
    filters: dict[str, dict[str, dict[str, Any]]] = {}
    for param in op.get("parameters", []):
        if param.get("in") == "query" and param.get("style") == "deepObject":
            filters[param["name"]] = dict(param.get("schema", {}).get("properties", {}))
    return filters


def _dereference(document_name: str, node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = document(document_name)
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def request_max_items(method: str, path_template: str, field: str = "input") -> int | None:
    """``maxItems`` of the array ``field`` of a bulk request body (10,000 upserts, 1,000 archives).

    Raises ``UnknownOperation``.
    """
    document_name, op = _locate(method, path_template)
    schema = _dereference(
        document_name, op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    )
    if not isinstance(schema, dict):
        return None
    prop = _dereference(document_name, schema.get("properties", {}).get(field, {}))
    return prop.get("maxItems")


def value_errors(schema: dict[str, Any], value: Any) -> list[str]:
    """Why ``value`` breaks a small inline schema (a filter operand); [] when valid."""
    return _messages(list(Draft202012Validator(schema, format_checker=FORMAT_CHECKER).iter_errors(value)))
