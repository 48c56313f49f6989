"""360Learning Bulk API: courses upsert and archive, statistics import, operations and results."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse

from sandbox import bulk, constants as c
from sandbox.api import ApiError, Call, FilterField, apply_filters, error_body, json_response, paginated_response
from sandbox.models import BulkOperation
from sandbox.serializers import bulk_operation_json, bulk_result_json


def _accepted(call: Call, integration_id: str, operation_type: str) -> HttpResponse:
    operation = bulk.bulk_operation_create(
        tenant=call.tenant,
        integration_oid=integration_id,
        type=operation_type,
        records=call.body["input"],
        fail=call.fail_bulk,
    )
    call.bulk_operation_oid = operation.oid
    response = HttpResponse(status=202)
    response["Location"] = call.request.build_absolute_uri(reverse("sandbox:360-bulk-operation", args=[operation.oid]))
    return response


def courses_upsert(call: Call, integration_id: str) -> HttpResponse:
    return _accepted(call, integration_id, c.OP_IMPORT_COURSES)


def courses_archive(call: Call, integration_id: str) -> HttpResponse:
    return _accepted(call, integration_id, c.OP_ARCHIVE_COURSES)


def stats_import(call: Call, integration_id: str) -> HttpResponse:
    return _accepted(call, integration_id, c.OP_IMPORT_STATISTICS)


def operation_detail(call: Call, operation_id: str) -> HttpResponse:
    # Reading the operation is what moves it on (see bulk.bulk_operation_advance).
    operation = bulk.bulk_operation_advance(tenant=call.tenant, oid=operation_id)
    return json_response(bulk_operation_json(operation))


def operation_results(call: Call, operation_id: str) -> HttpResponse:
    operation = BulkOperation.objects.filter(tenant=call.tenant, oid=operation_id).first()
    if operation is None:
        raise ApiError(
            404, error_body(c.ERROR_BULK_OPERATION_NOT_FOUND, f"No bulk operation has the id {operation_id!r}.")
        )
    if operation.status not in c.BULK_FINISHED:
        raise ApiError(
            400,
            error_body(
                c.ERROR_BULK_OPERATION_NOT_RUN,
                f"The bulk operation is {operation.status}; results come once it has run.",
            ),
        )
    records = operation.input
    return json_response(
        [bulk_result_json(result, records[result.index]) for result in operation.results.order_by("index")]
    )


OPERATION_FILTERS = {
    "createdAt": FilterField("created_at", "date"),
    "status": FilterField("status"),
    "type": FilterField("type"),
}


def operations(call: Call) -> HttpResponse:
    queryset = apply_filters(call, BulkOperation.objects.filter(tenant=call.tenant), OPERATION_FILTERS)
    return paginated_response(call, queryset.defer("input"), bulk_operation_json)
