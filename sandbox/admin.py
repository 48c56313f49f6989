"""The sandbox's own rows in Django's admin, so a demo operator can change a tenant's limits,
add fault rules and read the request log without a shell."""

from __future__ import annotations

from django.contrib import admin

from sandbox.models import BulkOperation, FaultRule, RequestLog, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "client_id",
        "company_id",
        "ispring_client_id",
        "bulk_api_enabled",
        "bulk_concurrency_limit",
    )
    # Credentials are the fake server's own, but still not shown back in lists or forms.
    exclude = ("client_secret", "api_key", "ispring_client_secret")
    readonly_fields = ("id_prefix", "created_at")

    def has_add_permission(self, request) -> bool:
        return False  # tenants come from services.tenant_create, which sets their credentials


@admin.register(FaultRule)
class FaultRuleAdmin(admin.ModelAdmin):
    list_display = (
        "client_id",
        "kind",
        "remaining",
        "method",
        "path_prefix",
        "status",
        "retry_after",
        "delay_seconds",
        "created_at",
    )
    list_filter = ("kind",)


@admin.register(RequestLog)
class RequestLogAdmin(admin.ModelAdmin):
    list_display = ("received_at", "client_id", "method", "path", "status", "fault", "bulk_operation_oid")
    list_filter = ("api", "method", "status")
    search_fields = ("path", "client_id", "bulk_operation_oid")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BulkOperation)
class BulkOperationAdmin(admin.ModelAdmin):
    list_display = ("oid", "type", "status", "processed", "integration_oid", "created_at", "ended_at")
    list_filter = ("type", "status")
    exclude = ("input",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False
